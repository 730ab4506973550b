// percentile(EXPR, P): the exact continuous percentile of the values, as PostgreSQL's percentile_cont.
import { loadNumber, saveNumber } from './saved.ts';

/**
 * Keeps every value; `value(p)` sorts them (once per change) and interpolates linearly between the two values around
 * position p·(n - 1), as PostgreSQL's percentile_cont and Flink SQL's PERCENTILE: p = 0.5 of [1, 2, 3, 4] is 2.5.
 * Null when there are no values.
 */
export class Percentile {
  private values: number[] = [];
  private sorted = true;

  get count(): number {
    return this.values.length;
  }

  add(value: number): void {
    const values = this.values;
    if (values.length > 0 && value < values[values.length - 1]) this.sorted = false;
    values.push(value);
  }

  /** Takes back one occurrence of `value`; retracting a value that is not there does nothing. */
  retract(value: number): void {
    const index = this.values.indexOf(value);
    if (index >= 0) this.values.splice(index, 1);
  }

  merge(other: Percentile): void {
    for (const value of other.values) this.add(value);
  }

  /** The percentile at `p` in [0, 1]. */
  value(p: number): number | null {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile must be in [0, 1], got ${p}`);
    const values = this.values;
    if (values.length === 0) return null;
    if (!this.sorted) {
      values.sort(ascending);
      this.sorted = true;
    }
    const position = p * (values.length - 1);
    const lower = Math.floor(position);
    const fraction = position - lower;
    if (fraction === 0) return values[lower];
    return values[lower] + fraction * (values[lower + 1] - values[lower]);
  }

  /** For checkpoints: the values (their order does not matter). */
  save(): (number | string)[] {
    return this.values.map((value) => saveNumber(value));
  }

  /** The accumulator `save` wrote. */
  static load(saved: unknown): Percentile {
    const loaded = new Percentile();
    loaded.values = (saved as unknown[]).map(loadNumber);
    loaded.sorted = false;
    return loaded;
  }
}

function ascending(a: number, b: number): number {
  return a - b;
}
