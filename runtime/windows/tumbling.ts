// Keyed tumbling event-time windows with allowed lateness, as Flink's TumblingEventTimeWindows + EventTimeTrigger.
import type { Key, Operator, OperatorState, StateNamespace, StateRowWriter } from '../api.ts';
import { TimerService } from '../time/timers.ts';
import { requireDuration, requirePositiveDuration, windowStart } from './assigners.ts';
import { SliceRows, type Slice } from './checkpoint.ts';
import { rejectLateRecord, type WindowOperatorOptions } from './lateness.ts';

export interface TumblingWindowOptions<K extends Key, In, Acc, Out> extends WindowOperatorOptions<K, In, Acc, Out> {
  readonly sizeMs: number;
  /** Shifts window starts: windows are [offset + k·size, offset + (k+1)·size). */
  readonly offsetMs: number;
}

/** One window [start, end) with an accumulator per key, in the order the keys first arrived in it. */
interface TumblingWindow<K extends Key, Acc> extends Slice<K, Acc> {
  readonly end: number;
}

/**
 * Tumbling windows [start, start + size) with start = time - ((time - offset) mod size). A window fires when the
 * watermark reaches end - 1, emitting each key's row with time end - 1; windows due on the same watermark fire by
 * end, and within a window keys come in the order they first arrived in it. A record whose window's end - 1 +
 * allowed lateness is at or behind the watermark is late (late output, else counted as dropped); any other record
 * is added, and if its window already fired the key's updated row is emitted at once. A window's state is freed
 * when the watermark reaches end - 1 + allowed lateness.
 *
 * State is a Map from window start to the window's keys (not keys to windows): every key shares the same windows,
 * so one timer per window serves all keys, and measured per record it is as fast for 10 keys and about twice as
 * fast for 100k keys.
 *
 * In checkpoints (the operator is its own OperatorState) a row per key and window start holds the key's accumulator
 * and its place among the window's keys, so a restored window fires its keys in the order they first arrived.
 */
export class TumblingWindowOperator<K extends Key, In, Acc, Out> implements Operator, OperatorState {
  readonly id: string;
  readonly uid: string;
  readonly state: OperatorState = this;
  private readonly sizeMs: number;
  private readonly offsetMs: number;
  private readonly allowedLatenessMs: number;
  private readonly windows = new Map<number, TumblingWindow<K, Acc>>();
  /** One timer per window (key ''): at end - 1 to fire, then at end - 1 + allowed lateness to free it. */
  private readonly timers = new TimerService();
  /** The window of the previous record: in-order streams mostly hit it, saving a Map lookup. */
  private recent: TumblingWindow<K, Acc> | undefined;
  private watermark = -Infinity;
  private readonly rows: SliceRows<K, Acc>;

  constructor(private readonly options: TumblingWindowOptions<K, In, Acc, Out>) {
    requirePositiveDuration('sizeMs', options.sizeMs);
    requireDuration('allowedLatenessMs', options.allowedLatenessMs);
    if (!Number.isSafeInteger(options.offsetMs)) throw new RangeError(`offsetMs must be a whole number of milliseconds, got ${options.offsetMs}`);
    this.id = options.id;
    this.uid = options.uid ?? options.id;
    this.rows = new SliceRows(options.aggregation);
    this.sizeMs = options.sizeMs;
    this.offsetMs = options.offsetMs;
    this.allowedLatenessMs = options.allowedLatenessMs;
  }

  /** Windows holding state (for tests and state-size metrics). */
  get openWindows(): number {
    return this.windows.size;
  }

  /** Rows held: keys summed over windows. */
  get size(): number {
    let rows = 0;
    for (const window of this.windows.values()) rows += window.accumulators.size;
    return rows;
  }

  process(key: K, record: In, time: number): void {
    const start = windowStart(time, this.offsetMs, this.sizeMs);
    let window = this.recent;
    if (window === undefined || window.start !== start) {
      window = this.windows.get(start) ?? this.open(start);
      if (window === undefined) {
        rejectLateRecord(this.options, key, record, time);
        return;
      }
      this.recent = window;
    }
    const aggregation = this.options.aggregation;
    let acc = window.accumulators.get(key);
    if (acc === undefined) {
      acc = aggregation.create(key);
      window.accumulators.set(key, acc);
    }
    aggregation.add(acc, record, time);
    if (this.rows.tracking) window.changed.add(key);
    // A window that exists is never past its lateness (its cleanup timer would have freed it), so a record in a
    // window the watermark already passed is a late update: Flink's EventTimeTrigger fires again at once.
    const maxTimestamp = window.end - 1;
    if (maxTimestamp <= this.watermark) this.options.emit(key, aggregation.result(acc, window.start, window.end), maxTimestamp);
  }

  onWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    for (let timer = this.timers.pollDue(watermark); timer !== undefined; timer = this.timers.pollDue(watermark)) {
      const window = this.windows.get(timer.window);
      if (window === undefined) continue;
      const maxTimestamp = window.end - 1;
      if (timer.timestamp === maxTimestamp) this.fire(window);
      const cleanupTime = maxTimestamp + this.allowedLatenessMs;
      if (cleanupTime <= watermark) this.free(window);
      else if (timer.timestamp !== cleanupTime) this.timers.register(cleanupTime, '', window.start);
    }
  }

  snapshot(out: StateRowWriter, full: boolean): void {
    this.rows.snapshot(out, this.windows.values(), full);
  }

  restoreRow(key: K, namespace: StateNamespace, value: unknown): void {
    this.rows.restoreRow(key, namespace as number, value);
  }

  restored(watermark: number): void {
    this.watermark = watermark;
    this.rows.restore((start) => this.open(start));
  }

  /** A new window for `start`, or undefined when it is already past its allowed lateness. */
  private open(start: number): TumblingWindow<K, Acc> | undefined {
    const end = start + this.sizeMs;
    const maxTimestamp = end - 1;
    if (maxTimestamp + this.allowedLatenessMs <= this.watermark) return undefined;
    const window: TumblingWindow<K, Acc> = { start, end, accumulators: new Map(), changed: new Set(), persisted: false };
    this.windows.set(start, window);
    // A window opened after the watermark passed its end fires per record (in process), so it only needs freeing.
    if (maxTimestamp > this.watermark) this.timers.register(maxTimestamp, '', start);
    else this.timers.register(maxTimestamp + this.allowedLatenessMs, '', start);
    return window;
  }

  private fire(window: TumblingWindow<K, Acc>): void {
    const { aggregation, emit } = this.options;
    const maxTimestamp = window.end - 1;
    for (const [key, acc] of window.accumulators) emit(key, aggregation.result(acc, window.start, window.end), maxTimestamp);
  }

  private free(window: TumblingWindow<K, Acc>): void {
    this.windows.delete(window.start);
    this.rows.free(window);
    if (this.recent === window) this.recent = undefined;
  }
}
