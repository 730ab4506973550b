// count_distinct: the number of distinct values, with a count per value so that retraction works.
import { loadAsIs, loadNumber, saveValue, type ValueLoader } from './saved.ts';

/**
 * Distinct values with how many times each was added: `retract` takes one occurrence back, and a value leaves the
 * count only when its last occurrence is retracted. Generated code skips null arguments, as SQL's COUNT(DISTINCT).
 */
export class DistinctCount<T> {
  private readonly counts = new Map<T, number>();

  add(value: T): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
  }

  /** Takes back one occurrence of `value`; retracting a value that is not there does nothing. */
  retract(value: T): void {
    const count = this.counts.get(value);
    if (count === undefined) return;
    if (count <= 1) this.counts.delete(value);
    else this.counts.set(value, count - 1);
  }

  merge(other: DistinctCount<T>): void {
    for (const [value, count] of other.counts) this.counts.set(value, (this.counts.get(value) ?? 0) + count);
  }

  /** Takes back every occurrence that merging `other` added. */
  unmerge(other: DistinctCount<T>): void {
    for (const [value, count] of other.counts) {
      const left = (this.counts.get(value) ?? 0) - count;
      if (left <= 0) this.counts.delete(value);
      else this.counts.set(value, left);
    }
  }

  value(): number {
    return this.counts.size;
  }

  /** For checkpoints: `[value, occurrences]` per distinct value, in the order they first came. */
  save(): [unknown, number][] {
    const saved: [unknown, number][] = [];
    for (const [value, count] of this.counts) saved.push([saveValue(value), count]);
    return saved;
  }

  /** The accumulator `save` wrote; `loadValue` reads each value back (`loadNumber` for numbers). */
  static load<T>(saved: unknown, loadValue: ValueLoader<T> = loadAsIs): DistinctCount<T> {
    const loaded = new DistinctCount<T>();
    for (const [value, count] of saved as [unknown, number][]) loaded.counts.set(loadValue(value), loadNumber(count));
    return loaded;
  }
}
