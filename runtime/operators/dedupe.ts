// The `dedupe` step: drops records whose key was kept within a time span of their event time.
import type { Key, Operator } from '../api.ts';
import { TimerService } from '../time/timers.ts';

export interface DedupeOptions {
  /** The step id. */
  readonly id: string;
  readonly withinMs: number;
}

/**
 * Per key, the event times of the records it kept. A record is a repeat when a kept record of its key has a time
 * less than `within` away from its own, |kept - time| < within; otherwise it is kept (and its time remembered).
 * Kept times count, not the times of dropped repeats, so a stream of repeats every within/2 keeps one record per
 * `within`. For records in time order this is "a kept record in (time - within, time]"; taking both sides makes an
 * out-of-order record just before a kept one a repeat too, so no two kept records of a key are closer than `within`.
 * A kept time is forgotten when the watermark reaches it + within: no record at or after the watermark can be
 * its repeat any more.
 */
export class DedupeOperator implements Operator {
  readonly id: string;
  private readonly withinMs: number;
  /** key → kept times; rarely more than one, since they are at least `within` apart and forgotten after it. */
  private readonly kept = new Map<Key, number[]>();
  /** One timer per kept time (key, window = kept time) at kept time + within. */
  private readonly timers = new TimerService<Key>();
  private watermark = -Infinity;

  constructor(options: DedupeOptions) {
    if (!(Number.isSafeInteger(options.withinMs) && options.withinMs > 0)) {
      throw new RangeError(`withinMs must be a positive whole number of milliseconds, got ${options.withinMs}`);
    }
    this.id = options.id;
    this.withinMs = options.withinMs;
  }

  /** Keys holding state (for tests and state-size metrics). */
  get keys(): number {
    return this.kept.size;
  }

  /** True when the record of `key` at `time` is kept; false for a repeat. */
  isFirst(key: Key, time: number): boolean {
    let times = this.kept.get(key);
    if (times !== undefined) {
      for (let index = 0; index < times.length; index++) {
        const distance = time - times[index];
        if (distance < this.withinMs && distance > -this.withinMs) return false;
      }
      times.push(time);
    } else {
      times = [time];
      this.kept.set(key, times);
    }
    this.timers.register(time + this.withinMs, key, time);
    return true;
  }

  onWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    for (let timer = this.timers.pollDue(watermark); timer !== undefined; timer = this.timers.pollDue(watermark)) {
      const times = this.kept.get(timer.key);
      if (times === undefined) continue;
      const index = times.indexOf(timer.window);
      if (index >= 0) times.splice(index, 1);
      if (times.length === 0) this.kept.delete(timer.key);
    }
  }
}
