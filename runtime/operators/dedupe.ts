// The `dedupe` step: drops records whose key was kept within a time span of their event time.
import type { Key, Operator, OperatorState, StateNamespace, StateRowWriter } from '../api.ts';
import { TimerService } from '../time/timers.ts';

export interface DedupeOptions {
  /** The step id. */
  readonly id: string;
  /** The step's state id in checkpoints (`uid` in the spec); the step id when absent. */
  readonly uid?: string;
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
 *
 * In checkpoints (the operator is its own OperatorState) a row per key (namespace '') holds its kept times.
 */
export class DedupeOperator implements Operator, OperatorState {
  readonly id: string;
  readonly uid: string;
  readonly state: OperatorState = this;
  private readonly withinMs: number;
  /** key → kept times; rarely more than one, since they are at least `within` apart and forgotten after it. */
  private readonly kept = new Map<Key, number[]>();
  /** One timer per kept time (key, window = kept time) at kept time + within. */
  private readonly timers = new TimerService<Key>();
  private watermark = -Infinity;
  /** Keys whose row changed since the last snapshot; tracked from the first snapshot or restore on (before, no row is in a checkpoint). */
  private changed: Set<Key> | undefined;

  constructor(options: DedupeOptions) {
    if (!(Number.isSafeInteger(options.withinMs) && options.withinMs > 0)) {
      throw new RangeError(`withinMs must be a positive whole number of milliseconds, got ${options.withinMs}`);
    }
    this.id = options.id;
    this.uid = options.uid ?? options.id;
    this.withinMs = options.withinMs;
  }

  /** Keys holding state (for tests and state-size metrics). */
  get keys(): number {
    return this.kept.size;
  }

  /** Rows held: one per key. */
  get size(): number {
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
    this.changed?.add(key);
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
      this.changed?.add(timer.key);
    }
  }

  snapshot(out: StateRowWriter, full: boolean): void {
    if (this.changed === undefined || full) {
      for (const [key, times] of this.kept) out.put(key, '', [...times]);
    } else {
      for (const key of this.changed) {
        const times = this.kept.get(key);
        if (times === undefined) out.delete(key, '');
        else out.put(key, '', [...times]);
      }
    }
    this.changed ??= new Set();
    this.changed.clear();
  }

  restoreRow(key: Key, _namespace: StateNamespace, value: unknown): void {
    const times = value as number[];
    const held = this.kept.get(key);
    if (held === undefined) this.kept.set(key, [...times]);
    else held.push(...times);
  }

  restored(watermark: number): void {
    this.watermark = watermark;
    for (const [key, times] of this.kept) for (const time of times) this.timers.register(time + this.withinMs, key, time);
    this.changed ??= new Set();
  }
}
