// collect: every value, ordered by event time; values with the same time stay in arrival order.
import { loadAsIs, loadNumber, saveValue, type ValueLoader } from './saved.ts';

/** A Collect in a checkpoint: the values and their event times, in the accumulator's order. */
export interface SavedCollect {
  readonly times: readonly number[];
  readonly values: readonly unknown[];
}

/** Values with their event times, kept sorted by time (stable) as they arrive. */
export class Collect<T> {
  private times: number[] = [];
  private values: T[] = [];

  get count(): number {
    return this.values.length;
  }

  add(value: T, time: number): void {
    const times = this.times;
    if (times.length === 0 || time >= times[times.length - 1]) {
      times.push(time);
      this.values.push(value);
      return;
    }
    // Out of order: insert after every value with a time <= this one, so equal times keep arrival order.
    const index = upperBound(times, time);
    times.splice(index, 0, time);
    this.values.splice(index, 0, value);
  }

  /** Takes back one occurrence of `value` at `time` (compared with ===); does nothing when it is not there. */
  retract(value: T, time: number): void {
    for (let index = upperBound(this.times, time) - 1; index >= 0 && this.times[index] === time; index--) {
      if (this.values[index] === value) {
        this.times.splice(index, 1);
        this.values.splice(index, 1);
        return;
      }
    }
  }

  /** Merges `other` in; on equal times this accumulator's values come first (it counts as the earlier arrival). */
  merge(other: Collect<T>): void {
    if (other.values.length === 0) return;
    const times: number[] = [];
    const values: T[] = [];
    let mine = 0;
    let theirs = 0;
    while (mine < this.times.length || theirs < other.times.length) {
      if (theirs >= other.times.length || (mine < this.times.length && this.times[mine] <= other.times[theirs])) {
        times.push(this.times[mine]);
        values.push(this.values[mine++]);
      } else {
        times.push(other.times[theirs]);
        values.push(other.values[theirs++]);
      }
    }
    this.times = times;
    this.values = values;
  }

  /** A new array of the values in event-time order (a copy: the accumulator keeps changing after a firing). */
  value(): T[] {
    return this.values.slice();
  }

  /** For checkpoints. */
  save(): SavedCollect {
    return { times: this.times.slice(), values: this.values.map(saveValue) };
  }

  /** The accumulator `save` wrote; `loadValue` reads each value back (`loadNumber` for numbers). */
  static load<T>(saved: unknown, loadValue: ValueLoader<T> = loadAsIs): Collect<T> {
    const { times, values } = saved as SavedCollect;
    const loaded = new Collect<T>();
    loaded.times = times.map(loadNumber);
    loaded.values = values.map(loadValue);
    return loaded;
  }
}

/** The first index whose time is greater than `time`, in an ascending array. */
function upperBound(times: readonly number[], time: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (times[middle] <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}
