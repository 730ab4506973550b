// Accumulators in checkpoints: plain JSON data, with the non-finite numbers JSON lacks (Infinity, -Infinity, NaN) written by name.

/** An accumulator as a window aggregation's `save` writes it: one property per aggregate field. */
export type SavedAccumulator = Readonly<Record<string, unknown>>;

/** `avg`'s two parts in a checkpoint. */
export interface SavedAverage {
  readonly sum: number | string;
  readonly count: number;
}

/** A number as JSON can hold it: a finite number as it is; Infinity, -Infinity and NaN as those strings. */
export function saveNumber(value: number): number | string;
export function saveNumber(value: number | null): number | string | null;
export function saveNumber(value: number | null): number | string | null {
  return value === null || Number.isFinite(value) ? value : String(value);
}

/** The number `saveNumber` wrote. */
export function loadNumber(saved: unknown): number {
  if (typeof saved === 'number') return saved;
  if (saved === 'Infinity' || saved === '-Infinity' || saved === 'NaN') return Number(saved);
  throw new TypeError(
    `a checkpoint holds ${JSON.stringify(saved)} where a number belongs: it was not written by this pipeline's state schema; restore a checkpoint of this pipeline, or start without --restore`,
  );
}

/** The number or null `saveNumber` wrote (min and max of numbers, before their first value). */
export function loadOptionalNumber(saved: unknown): number | null {
  return saved === null ? null : loadNumber(saved);
}

/**
 * A value of a generic aggregate (first, last, collect, count_distinct) as JSON can hold it: numbers by
 * `saveNumber`, everything else (strings, booleans, lists and records of JSON data) as it is.
 */
export function saveValue(value: unknown): unknown {
  return typeof value === 'number' ? saveNumber(value) : value;
}

/**
 * How a generic aggregate reads its values back: `loadNumber` when they are numbers (a string there is a
 * non-finite number), `loadAsIs` for every other type (a string there is that string).
 */
export type ValueLoader<T> = (saved: unknown) => T;

export function loadAsIs<T>(saved: unknown): T {
  return saved as T;
}

export function saveAverage(sum: number, count: number): SavedAverage {
  return { sum: saveNumber(sum), count };
}

/** `avg`'s sum and count from `saveAverage`, as `[sum, count]` for one destructuring assignment. */
export function loadAverage(saved: unknown): [number, number] {
  const average = saved as SavedAverage;
  return [loadNumber(average.sum), loadNumber(average.count)];
}
