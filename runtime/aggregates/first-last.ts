// first / last: the value of the record with the smallest or largest event time.

/**
 * The value with the smallest event time; on a tie the one that arrived first stays. In `merge` the accumulator
 * merged into counts as the earlier arrival (window operators merge in time order). Null when empty. There is no
 * retraction: taking back the first value would need every other value.
 */
export class FirstValue<T> {
  private current: T | null = null;
  private time = Infinity;

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

  value(): T | null {
    return this.current;
  }
}

/**
 * The value with the largest event time; on a tie the one that arrived last wins. In `merge` the accumulator merged
 * from counts as the later arrival. Null when empty. There is no retraction, as for FirstValue.
 */
export class LastValue<T> {
  private current: T | null = null;
  private time = -Infinity;

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

  value(): T | null {
    return this.current;
  }
}
