// first / last: the value of the record with the smallest or largest event time.
import { loadAsIs, loadNumber, saveValue, type ValueLoader } from './saved.ts';

/** A FirstValue or LastValue in a checkpoint: its value and that value's event time; null before the first value. */
export type SavedTimedValue = { readonly value: unknown; readonly time: number } | null;

/** A value and its event time; the time is ±Infinity (never an event time) until the first value. */
abstract class TimedValue<T> {
  protected current: T | null = null;
  protected abstract time: number;

  value(): T | null {
    return this.current;
  }

  /** For checkpoints. */
  save(): SavedTimedValue {
    return Number.isFinite(this.time) ? { value: saveValue(this.current), time: this.time } : null;
  }

  /** Takes what `save` wrote; `loadValue` reads the value back (`loadNumber` for numbers). */
  protected restore(saved: unknown, loadValue: ValueLoader<T>): this {
    const timed = saved as SavedTimedValue;
    if (timed !== null) {
      this.current = loadValue(timed.value);
      this.time = loadNumber(timed.time);
    }
    return this;
  }
}

/**
 * The value with the smallest event time; on a tie the one that arrived first stays. In `merge` the accumulator
 * merged into counts as the earlier arrival (window operators merge in time order). Null when empty. There is no
 * retraction: taking back the first value would need every other value.
 */
export class FirstValue<T> extends TimedValue<T> {
  protected time = Infinity;

  add(value: T, time: number): void {
    if (time < this.time) {
      this.current = value;
      this.time = time;
    }
  }

  merge(other: FirstValue<T>): void {
    if (other.time < this.time) {
      this.current = other.current;
      this.time = other.time;
    }
  }

  /** The accumulator `save` wrote. */
  static load<T>(saved: unknown, loadValue: ValueLoader<T> = loadAsIs): FirstValue<T> {
    return new FirstValue<T>().restore(saved, loadValue);
  }
}

/**
 * The value with the largest event time; on a tie the one that arrived last wins. In `merge` the accumulator merged
 * from counts as the later arrival. Null when empty. There is no retraction, as for FirstValue.
 */
export class LastValue<T> extends TimedValue<T> {
  protected time = -Infinity;

  add(value: T, time: number): void {
    if (time >= this.time) {
      this.current = value;
      this.time = time;
    }
  }

  merge(other: LastValue<T>): void {
    if (other.time >= this.time && other.time !== -Infinity) {
      this.current = other.current;
      this.time = other.time;
    }
  }

  /** The accumulator `save` wrote. */
  static load<T>(saved: unknown, loadValue: ValueLoader<T> = loadAsIs): LastValue<T> {
    return new LastValue<T>().restore(saved, loadValue);
  }
}
