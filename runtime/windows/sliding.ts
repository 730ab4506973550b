// Keyed sliding event-time windows computed from panes, with Flink's SlidingEventTimeWindows bounds and lateness.
import type { Key, Operator, OperatorState, StateNamespace, StateRowWriter } from '../api.ts';
import { TimerService } from '../time/timers.ts';
import { greatestCommonDivisor, requireDuration, requirePositiveDuration, windowStart } from './assigners.ts';
import { emptySlice, SliceRows, type Slice } from './checkpoint.ts';
import { rejectLateRecord, type WindowOperatorOptions } from './lateness.ts';

export interface SlidingWindowOptions<K extends Key, In, Acc, Out> extends WindowOperatorOptions<K, In, Acc, Out> {
  readonly sizeMs: number;
  readonly slideMs: number;
  /** Shifts window starts: windows start at offset + k·slide. */
  readonly offsetMs: number;
}

/** A slice [start, start + pane size) of event time with, per key, the accumulator of its records in it; every window is a whole number of panes. */
interface Pane<K extends Key, Acc> extends Slice<K, Acc> {
  /** Max timestamp of the first window to fire that contains this pane: once the watermark reaches it, a record of this pane updates windows that already fired. */
  readonly earliestFiring: number;
  /**
   * The pane's keys in the order of `accumulators`, as their running windows, and beside them their accumulators in
   * this pane: a firing walks these arrays instead of looking every key of every pane up in two maps. Filled while a
   * window containing the pane is still to fire; a key that first comes to the pane later is left out.
   */
  readonly keys: RunningWindow<K, Acc>[];
  readonly keyAccumulators: Acc[];
}

/**
 * A key in the windows still to fire, from the first pane that holds records of it until its last pane is behind the
 * next window to fire. When the aggregation can unmerge, it carries the key's accumulator from one window to the
 * next: between firings `acc` holds the key's records in [next window start, mergedUntil), the part of the next
 * window that the window before it also covered; firing a window merges the newest panes into it, and after the row
 * is out unmerges the panes that the next window leaves behind. It is carried only while that part holds records of
 * the key; otherwise (and always without unmerge) mergedUntil is -Infinity, and the key's next window creates a new
 * accumulator and merges every pane of it.
 */
interface RunningWindow<K extends Key, Acc> {
  readonly key: K;
  /** Undefined until the key's first window; stale while mergedUntil is -Infinity. */
  acc: Acc | undefined;
  /** The end of the last window merged into `acc`, -Infinity when it holds nothing to carry. */
  mergedUntil: number;
  /** The window whose firing visited the key last: a firing handles a key on its first visit only. */
  visited: number;
  /** During a firing, the last pane of the window that holds records of the key. */
  lastPane: number;
  /** The latest pane holding records of the key (in `keys` of that pane). */
  latestPane: number;
}

/**
 * Sliding windows [start, start + size) for every start = offset + k·slide, so a record belongs to size/slide
 * windows (Flink's SlidingEventTimeWindows). A record is aggregated once, into its pane (a slice of gcd(size, slide)
 * ms); when a window fires, each key's row is made by merging that key's panes in time order into an accumulator
 * created for the key. When the aggregation can unmerge (and windows overlap), a key keeps one running accumulator
 * instead: a window that follows the key's previous window takes it, merges the newest panes and, once its row is
 * out, unmerges the panes the next window no longer covers: a merge and an unmerge per key and window, however
 * many panes it spans. A key's first window, or its first after a window without its records, is merged from every
 * pane as before; a late record that lands in what the running accumulator holds is added to it as well as to its
 * pane. Either way the rows are the same, to the bit. A key's first record in a pane puts it in the pane's list of
 * keys with its running window, so a firing walks arrays instead of looking each key up per pane.
 *
 * Firing, lateness and freeing are the tumbling window's, per window: a window fires when the watermark reaches
 * end - 1; a record is late when every window containing it is past end - 1 + allowed lateness; a record that
 * updates windows that already fired (and are not past lateness) emits each of those windows' updated rows, oldest
 * first. A pane is freed with the last window containing it.
 * Windows due on the same watermark fire by end; within a window keys come in the order of their first pane.
 * With slide > size the windows leave gaps, and a record in a gap belongs to no window (Flink drops it too).
 *
 * In checkpoints (the operator is its own OperatorState) a row per key and pane start holds the key's accumulator
 * of the pane and its place among the pane's keys. Running windows are not kept: they are a cache of the panes,
 * rebuilt at restore with no accumulator carried, so each key is merged from its panes at its next window.
 */
export class SlidingWindowOperator<K extends Key, In, Acc, Out> implements Operator, OperatorState {
  readonly id: string;
  readonly uid: string;
  readonly state: OperatorState = this;
  private readonly sizeMs: number;
  private readonly slideMs: number;
  private readonly offsetMs: number;
  private readonly paneMs: number;
  private readonly allowedLatenessMs: number;
  private readonly panes = new Map<number, Pane<K, Acc>>();
  /** One timer per window start (key ''): at end - 1 to fire, then at end - 1 + allowed lateness to free its last panes. */
  private readonly timers = new TimerService();
  private recent: Pane<K, Acc> | undefined;
  private watermark = -Infinity;
  /** The start of the first window the watermark has not reached: a pane before it is in no window still to fire. */
  private nextStart = -Infinity;
  /** Whether windows are kept as running accumulators: the aggregation can unmerge, and windows overlap. */
  private readonly carriesWindows: boolean;
  /** Per key with records in windows still to fire, its running window. */
  private readonly running = new Map<K, RunningWindow<K, Acc>>();
  /** The keys of the window firing now, in the order of their first pane; reused from one firing to the next. */
  private readonly firing: RunningWindow<K, Acc>[] = [];
  private readonly rows: SliceRows<K, Acc>;

  constructor(private readonly options: SlidingWindowOptions<K, In, Acc, Out>) {
    requirePositiveDuration('sizeMs', options.sizeMs);
    requirePositiveDuration('slideMs', options.slideMs);
    requireDuration('allowedLatenessMs', options.allowedLatenessMs);
    if (!Number.isSafeInteger(options.offsetMs)) throw new RangeError(`offsetMs must be a whole number of milliseconds, got ${options.offsetMs}`);
    this.id = options.id;
    this.uid = options.uid ?? options.id;
    this.rows = new SliceRows(this.uid, options.aggregation);
    this.sizeMs = options.sizeMs;
    this.slideMs = options.slideMs;
    this.offsetMs = options.offsetMs;
    this.paneMs = greatestCommonDivisor(options.sizeMs, options.slideMs);
    this.allowedLatenessMs = options.allowedLatenessMs;
    this.carriesWindows = options.aggregation.unmerge !== undefined && options.slideMs < options.sizeMs;
  }

  /** Panes holding state (for tests and state-size metrics). */
  get openPanes(): number {
    return this.panes.size;
  }

  /** Keys with records in windows still to fire (for tests and state-size metrics). */
  get runningWindows(): number {
    return this.running.size;
  }

  /** Keys carrying an accumulator into their next window (for tests and state-size metrics); always 0 without `unmerge`. */
  get runningAccumulators(): number {
    let carried = 0;
    for (const running of this.running.values()) if (running.mergedUntil !== -Infinity) carried++;
    return carried;
  }

  /** Rows held: keys summed over panes. */
  get size(): number {
    let rows = 0;
    for (const pane of this.panes.values()) rows += pane.accumulators.size;
    return rows;
  }

  process(key: K, record: In, time: number): void {
    const paneStart = windowStart(time, this.offsetMs, this.paneMs);
    let pane = this.recent;
    if (pane === undefined || pane.start !== paneStart) {
      pane = this.panes.get(paneStart);
      if (pane === undefined) {
        const lastStart = this.lastWindowStart(paneStart);
        // With slide > size, windows leave gaps; a record in a gap belongs to no window, as in Flink.
        if (lastStart + this.sizeMs <= paneStart) return;
        pane = this.openPane(paneStart, lastStart);
        if (pane === undefined) {
          rejectLateRecord(this.options, key, record, time);
          return;
        }
      }
      this.recent = pane;
    }
    const aggregation = this.options.aggregation;
    let acc = pane.accumulators.get(key);
    if (acc === undefined) {
      acc = aggregation.create(key);
      pane.accumulators.set(key, acc);
      if (paneStart >= this.nextStart) this.addKeyToPane(pane, key, acc);
    }
    aggregation.add(acc, record, time);
    if (this.rows.tracking) pane.changed.add(key);
    if (pane.earliestFiring <= this.watermark) {
      if (this.carriesWindows) this.addToRunning(key, record, time, paneStart);
      this.updateFiredWindows(key, paneStart);
    }
  }

  onWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    for (let timer = this.timers.pollDue(watermark); timer !== undefined; timer = this.timers.pollDue(watermark)) {
      const start = timer.window;
      const maxTimestamp = start + this.sizeMs - 1;
      if (timer.timestamp === maxTimestamp) this.fire(start);
      const cleanupTime = maxTimestamp + this.allowedLatenessMs;
      if (cleanupTime <= watermark) this.freeLastPanesOf(start);
      else if (timer.timestamp !== cleanupTime) this.timers.register(cleanupTime, '', start);
    }
    this.nextStart = this.firstWindowToFire(watermark);
  }

  snapshot(out: StateRowWriter, full: boolean): void {
    this.rows.snapshot(out, this.panes.values(), full);
  }

  restoreRow(key: K, namespace: StateNamespace, value: unknown): void {
    this.rows.restoreRow(key, namespace as number, value);
  }

  restored(watermark: number): void {
    this.watermark = watermark;
    this.nextStart = this.firstWindowToFire(watermark);
    this.rows.restore(
      (paneStart) => this.openPane(paneStart, this.lastWindowStart(paneStart)),
      () => {
        throw new Error(`state '${this.uid}': sliding windows keep their rows in memory, and restore none evicted`);
      },
    );
    // Running windows are not state: rebuilt from the panes (each lists its keys in its own order), nothing carried.
    for (const pane of this.panes.values()) {
      if (pane.start < this.nextStart) continue;
      for (const [key, acc] of pane.accumulators) this.addKeyToPane(pane, key, acc);
    }
  }

  /** The start of the last window containing a pane: no later window contains it. */
  private lastWindowStart(paneStart: number): number {
    return windowStart(paneStart, this.offsetMs, this.slideMs);
  }

  /** The start of the first window whose end - 1 is past `watermark`: every window before it has fired. */
  private firstWindowToFire(watermark: number): number {
    if (!Number.isFinite(watermark)) return watermark;
    return windowStart(watermark - this.sizeMs + 1, this.offsetMs, this.slideMs) + this.slideMs;
  }

  /** A key's first record in a pane that windows still to fire contain: the firings of those windows visit it. */
  private addKeyToPane(pane: Pane<K, Acc>, key: K, acc: Acc): void {
    let running = this.running.get(key);
    if (running === undefined) {
      running = { key, acc: undefined, mergedUntil: -Infinity, visited: -Infinity, lastPane: -Infinity, latestPane: pane.start };
      this.running.set(key, running);
    } else if (pane.start > running.latestPane) {
      running.latestPane = pane.start;
    }
    pane.keys.push(running);
    pane.keyAccumulators.push(acc);
  }

  /**
   * A new pane, or undefined when every window containing it is past its allowed lateness. Registers the timers of
   * the windows it belongs to (deduplicated: neighbouring panes share windows); this is per pane, not per record.
   */
  private openPane(paneStart: number, lastStart: number): Pane<K, Acc> | undefined {
    if (lastStart + this.sizeMs - 1 + this.allowedLatenessMs <= this.watermark) return undefined;
    let earliestFiring = lastStart + this.sizeMs - 1;
    for (let start = lastStart; start > paneStart - this.sizeMs; start -= this.slideMs) {
      const maxTimestamp = start + this.sizeMs - 1;
      earliestFiring = maxTimestamp;
      if (maxTimestamp + this.allowedLatenessMs <= this.watermark) continue;
      // A window the watermark already passed fires per record (in process); it only needs freeing.
      if (maxTimestamp > this.watermark) this.timers.register(maxTimestamp, '', start);
      else this.timers.register(maxTimestamp + this.allowedLatenessMs, '', start);
    }
    const pane: Pane<K, Acc> = { ...emptySlice<K, Acc>(paneStart), earliestFiring, keys: [], keyAccumulators: [] };
    this.panes.set(paneStart, pane);
    return pane;
  }

  /**
   * Emits every key's row of the window starting at `start`. Every pane of the window is visited, for the order of
   * keys (that of their first pane) and to see which keys still have records in the next window; a key merges every
   * pane unless it carries its accumulator from the window before, which then takes only the newest panes whole and
   * the other panes' aggregates that cannot be unmerged (merged again, in order, so rows equal merging every pane).
   */
  private fire(start: number): void {
    const { aggregation, emit } = this.options;
    const end = start + this.sizeMs;
    const nextStart = start + this.slideMs;
    const firing = this.firing;
    for (let paneStart = start; paneStart < end; paneStart += this.paneMs) {
      const pane = this.panes.get(paneStart);
      if (pane === undefined) continue;
      const { keys, keyAccumulators } = pane;
      for (let index = 0; index < keys.length; index++) {
        const running = keys[index];
        if (running.visited !== start) {
          running.visited = start;
          if (running.mergedUntil === -Infinity) running.acc = aggregation.create(running.key);
          else aggregation.clearUnmergeable?.(running.acc!);
          firing.push(running);
        }
        if (paneStart >= running.mergedUntil) aggregation.merge(running.acc!, keyAccumulators[index]);
        else aggregation.mergeUnmergeable?.(running.acc!, keyAccumulators[index]);
        running.lastPane = paneStart;
      }
    }
    for (const running of firing) {
      emit(running.key, aggregation.result(running.acc!, start, end), end - 1);
      if (this.carriesWindows && running.lastPane >= nextStart) {
        running.mergedUntil = end;
      } else {
        // Without unmerge, or with records of the key only in later windows, its next window starts anew.
        running.mergedUntil = -Infinity;
        if (running.latestPane < nextStart) this.running.delete(running.key);
      }
    }
    firing.length = 0;
    if (!this.carriesWindows) return;
    // Take out the panes the next window leaves behind, while they still exist: with lateness below the slide they
    // are freed right after this firing.
    for (let paneStart = start; paneStart < nextStart; paneStart += this.paneMs) {
      const pane = this.panes.get(paneStart);
      if (pane === undefined) continue;
      const { keys, keyAccumulators } = pane;
      for (let index = 0; index < keys.length; index++) {
        if (paneStart < keys[index].mergedUntil) aggregation.unmerge!(keys[index].acc!, keyAccumulators[index]);
      }
    }
  }

  /**
   * A record of `key` landed in a pane of a window that already fired: if the key's running accumulator holds that
   * pane, the record goes into it too (the pane's accumulator, which will be unmerged from it, has it already).
   */
  private addToRunning(key: K, record: In, time: number, paneStart: number): void {
    const running = this.running.get(key);
    if (running === undefined || paneStart < this.nextStart || paneStart >= running.mergedUntil) return;
    this.options.aggregation.add(running.acc!, record, time);
  }

  /** A record of `key` landed in a pane of windows the watermark already passed: emit each live one's updated row. */
  private updateFiredWindows(key: K, paneStart: number): void {
    const lastStart = this.lastWindowStart(paneStart);
    let start = lastStart;
    while (start - this.slideMs > paneStart - this.sizeMs) start -= this.slideMs;
    for (; start <= lastStart; start += this.slideMs) {
      const maxTimestamp = start + this.sizeMs - 1;
      if (maxTimestamp > this.watermark) break;
      if (maxTimestamp + this.allowedLatenessMs <= this.watermark) continue;
      this.fireKey(key, start);
    }
  }

  private fireKey(key: K, start: number): void {
    const { aggregation, emit } = this.options;
    const end = start + this.sizeMs;
    let acc: Acc | undefined;
    for (let paneStart = start; paneStart < end; paneStart += this.paneMs) {
      const paneAcc = this.panes.get(paneStart)?.accumulators.get(key);
      if (paneAcc === undefined) continue;
      if (acc === undefined) acc = aggregation.create(key);
      aggregation.merge(acc, paneAcc);
    }
    if (acc !== undefined) emit(key, aggregation.result(acc, start, end), end - 1);
  }

  /** The window starting at `start` is past its lateness: free the panes for which it was the last window. */
  private freeLastPanesOf(start: number): void {
    for (let paneStart = start; paneStart < start + this.slideMs; paneStart += this.paneMs) {
      const pane = this.panes.get(paneStart);
      if (pane === undefined) continue;
      this.panes.delete(paneStart);
      this.rows.free(pane);
      if (this.recent === pane) this.recent = undefined;
    }
  }
}
