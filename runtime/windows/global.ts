// Keyed global windows with a count, processing-time or event-time trigger and an optional evictor, as Flink's GlobalWindows.
import { assertNever } from '../assert.ts';
import type { Key, Operator, OperatorState, StateNamespace, StateRowWriter } from '../api.ts';
import { requirePositiveDuration, windowStart } from './assigners.ts';
import { byArrival, compareKeys } from './checkpoint.ts';
import { CountEvictor, KeptRecords, TimeEvictor, type Evictor } from './evictors.ts';
import { TimerService } from '../time/timers.ts';
import type { WindowOperatorOptions } from './lateness.ts';

/** When a global window fires (`global.trigger` in the spec). */
export type GlobalTrigger =
  /** Every `count` records of a key (Flink's CountTrigger). */
  | { readonly kind: 'count'; readonly count: number }
  /** Every `intervalMs` of processing time, at multiples of it (Flink's ContinuousProcessingTimeTrigger). */
  | { readonly kind: 'every'; readonly intervalMs: number }
  /** When the watermark reaches the latest event time of the key's records. */
  | { readonly kind: 'event_time' };

/** Which records a firing aggregates (`global.evictor` in the spec). */
export type GlobalEvictor = { readonly kind: 'count'; readonly count: number } | { readonly kind: 'time'; readonly spanMs: number };

/**
 * The options of every window operator, so generated code registers all four alike, plus the trigger and evictor.
 * Global windows have no lateness (every record joins its key's window): `allowedLatenessMs`, `late` and `metrics`
 * are accepted and ignored. `emit`'s `time` is the latest event time of the records a firing aggregates, which is
 * its row's window end - 1, as for the other windows.
 */
export interface GlobalWindowOptions<K extends Key, In, Acc, Out> extends WindowOperatorOptions<K, In, Acc, Out> {
  readonly trigger: GlobalTrigger;
  readonly evictor?: GlobalEvictor;
}

interface GlobalKeyState<K extends Key, In, Acc> {
  readonly key: K;
  /** The key's place among the operator's keys: the `every` trigger fires keys in this order. */
  readonly arrival: number;
  /** Without an evictor: the accumulator of every record of the key. */
  readonly acc: Acc | undefined;
  /** With an evictor: the records kept, aggregated afresh at each firing. */
  readonly kept: KeptRecords<In> | undefined;
  /** Event-time bounds of every record of the key (the window bounds without an evictor). */
  minTime: number;
  maxTime: number;
  /** Records since the last firing, for the count trigger. */
  sinceFiring: number;
  /** The pending event-time timer, NaN when none; at or before `maxTime`. */
  timerTimestamp: number;
  /** When the timer was registered, in the operator's count of registrations: timers due together fire in this order. */
  timerOrder: number;
  /** Whether the key's row must be written at the next snapshot. */
  changed: boolean;
}

/** A key's row in checkpoints, under (key, ''): `acc` without an evictor, the kept `records` and their `times` with one. */
interface GlobalRow {
  readonly arrival: number;
  readonly minTime: number;
  readonly maxTime: number;
  readonly sinceFiring: number;
  /** The pending event-time timer and its registration order; null when none. */
  readonly timer: number | null;
  readonly timerOrder: number | null;
  readonly acc?: unknown;
  readonly records?: readonly unknown[];
  readonly times?: readonly number[];
}

function createEvictor(evictor: GlobalEvictor): Evictor {
  switch (evictor.kind) {
    case 'count':
      return new CountEvictor(evictor.count);
    case 'time':
      return new TimeEvictor(evictor.spanMs);
    default:
      return assertNever(evictor);
  }
}

/**
 * One window per key that never ends, fired by its trigger, with Flink's semantics where Flink has them:
 * - `count: N` fires on the N-th, 2N-th, … record of a key and, as Flink's CountTrigger, does not purge: without an
 *   evictor each row aggregates every record of the key so far; with `evictor: {count: N}` it is the last N.
 * - `every: D` fires every key that has state at each multiple of D of processing time (`onProcessingTime`), as
 *   Flink's ContinuousProcessingTimeTrigger, also when nothing changed. The first call only sets the schedule; a
 *   call that skipped several multiples fires once. Nothing fires at end of input (processing time stops).
 * - `event_time` (pipec's own, Flink has no event-time trigger for global windows): fires a key when the watermark
 *   reaches the latest event time of its records; a record arriving at or behind the watermark fires at once.
 * Evictors keep records (not just an accumulator) and each firing aggregates the kept ones into an accumulator created
 * afresh for the key: `count: N` the last N arrivals (CountEvictor), `time: D` those within D of the latest time,
 * (latest - D, latest] (TimeEvictor).
 * A row's window_start/window_end are the min and max + 1 of its records' times; its time is their max.
 * There is no lateness: every record joins its key's window. State lives as long as the key does.
 *
 * In checkpoints (the operator is its own OperatorState) a row per key (namespace '') holds its accumulator or kept
 * records and its trigger's state: records since the last firing, the pending event-time timer. The `every`
 * trigger's schedule is not kept: processing time goes on while a job is down, so a restored operator sets it
 * afresh from the first `onProcessingTime`, as a new one does. With an evictor, records are kept in checkpoints as
 * they are (records are plain data).
 */
export class GlobalWindowOperator<K extends Key, In, Acc, Out> implements Operator, OperatorState {
  readonly id: string;
  readonly uid: string;
  readonly state: OperatorState = this;
  private readonly trigger: GlobalTrigger;
  private readonly evictor: Evictor | undefined;
  private readonly states = new Map<K, GlobalKeyState<K, In, Acc>>();
  /** Event-time timers (trigger `event_time`), one per key at its latest event time (window 0). */
  private readonly timers = new TimerService<K>();
  private watermark = -Infinity;
  /** Next processing time the `every` trigger fires at; NaN until the first `onProcessingTime`. */
  private nextFiring = NaN;
  /** Keys created so far: the next key's `arrival`. */
  private arrivals = 0;
  /** Timers registered so far: the next timer's `timerOrder`. */
  private timerRegistrations = 0;
  /** Whether changes are tracked: from the first snapshot or restore on (before, no row is in a checkpoint). */
  private tracking = false;
  /** Keys whose row must be written at the next snapshot. */
  private readonly changedStates: GlobalKeyState<K, In, Acc>[] = [];
  /** Restored keys, until `restored` puts them back in their order. */
  private readonly restoring: GlobalKeyState<K, In, Acc>[] = [];

  constructor(private readonly options: GlobalWindowOptions<K, In, Acc, Out>) {
    this.id = options.id;
    this.uid = options.uid ?? options.id;
    this.trigger = options.trigger;
    switch (options.trigger.kind) {
      case 'count':
        if (!(Number.isSafeInteger(options.trigger.count) && options.trigger.count > 0)) {
          throw new RangeError(`count trigger needs a positive whole count, got ${options.trigger.count}`);
        }
        break;
      case 'every':
        requirePositiveDuration('intervalMs', options.trigger.intervalMs);
        break;
      case 'event_time':
        break;
      default:
        assertNever(options.trigger);
    }
    this.evictor = options.evictor === undefined ? undefined : createEvictor(options.evictor);
  }

  /** Keys holding state (for tests and state-size metrics). */
  get keys(): number {
    return this.states.size;
  }

  /** Rows held: one per key. */
  get size(): number {
    return this.states.size;
  }

  process(key: K, record: In, time: number): void {
    let state = this.states.get(key);
    if (state === undefined) {
      const kept = this.evictor === undefined ? undefined : new KeptRecords<In>();
      const acc = kept === undefined ? this.options.aggregation.create(key) : undefined;
      state = {
        key, arrival: this.arrivals++, acc, kept, minTime: time, maxTime: time, sinceFiring: 0, timerTimestamp: NaN, timerOrder: NaN,
        changed: false,
      };
      this.states.set(key, state);
    }
    this.markChanged(state);
    if (time < state.minTime) state.minTime = time;
    if (time > state.maxTime) state.maxTime = time;
    if (state.kept === undefined) this.options.aggregation.add(state.acc!, record, time);
    else {
      state.kept.push(record, time);
      this.evictor!.afterArrival(state.kept, state.maxTime);
    }
    const trigger = this.trigger;
    switch (trigger.kind) {
      case 'count':
        state.sinceFiring++;
        if (state.sinceFiring >= trigger.count) {
          state.sinceFiring = 0;
          this.fire(state);
        }
        break;
      case 'every':
        break;
      case 'event_time':
        if (state.maxTime <= this.watermark) this.fire(state);
        // A pending timer before the new latest time stays: when it pops it moves itself (see onWatermark).
        else if (Number.isNaN(state.timerTimestamp)) this.schedule(state);
        break;
      default:
        assertNever(trigger);
    }
  }

  onWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    for (let timer = this.timers.pollDue(watermark); timer !== undefined; timer = this.timers.pollDue(watermark)) {
      const state = this.states.get(timer.key);
      if (state === undefined) continue;
      state.timerTimestamp = NaN;
      this.markChanged(state);
      // Later records moved the key's latest time: fire then (in this loop, in order, if the watermark is past it).
      if (timer.timestamp < state.maxTime) this.schedule(state);
      else this.fire(state);
    }
  }

  onProcessingTime(now: number): void {
    if (this.trigger.kind !== 'every') return;
    const interval = this.trigger.intervalMs;
    if (Number.isNaN(this.nextFiring)) {
      this.nextFiring = windowStart(now, 0, interval) + interval;
      return;
    }
    if (now < this.nextFiring) return;
    for (const state of this.states.values()) this.fire(state);
    this.nextFiring = windowStart(now, 0, interval) + interval;
  }

  snapshot(out: StateRowWriter, full: boolean): void {
    const states = this.tracking && !full ? this.changedStates : this.states.values();
    for (const state of states) this.write(out, state);
    for (const state of this.changedStates) state.changed = false;
    this.changedStates.length = 0;
    this.tracking = true;
  }

  restoreRow(key: K, _namespace: StateNamespace, value: unknown): void {
    const row = value as GlobalRow;
    const evicting = this.evictor !== undefined;
    if (evicting !== (row.records !== undefined)) {
      throw new Error(
        `the checkpoint holds step '${this.id}' (uid '${this.uid}') ${evicting ? 'without' : 'with'} an evictor, and its state cannot be ` +
          `restored ${evicting ? 'with' : 'without'} one: keep the step's evictor as it was, or give the step a new uid to start it empty`,
      );
    }
    let kept: KeptRecords<In> | undefined;
    if (evicting) {
      kept = new KeptRecords<In>();
      const records = row.records as readonly In[];
      for (let index = 0; index < records.length; index++) kept.push(records[index], row.times![index]);
    }
    const acc = evicting ? undefined : this.options.aggregation.load(key, row.acc);
    this.restoring.push({
      key, arrival: row.arrival, acc, kept, minTime: row.minTime, maxTime: row.maxTime, sinceFiring: row.sinceFiring,
      timerTimestamp: row.timer ?? NaN, timerOrder: row.timerOrder ?? NaN, changed: false,
    });
  }

  restored(watermark: number): void {
    this.watermark = watermark;
    // Keys go back in the order they first came (rows of several tasks' checkpoints that share a place go by key):
    // the `every` trigger fires them in that order.
    const restoring = this.restoring.sort(byArrival);
    for (const state of restoring) this.states.set(state.key, state);
    this.arrivals = restoring.length === 0 ? 0 : restoring[restoring.length - 1].arrival + 1;
    const timed = restoring.filter((state) => !Number.isNaN(state.timerTimestamp));
    timed.sort((a, b) => a.timerOrder - b.timerOrder || compareKeys(a.key, b.key));
    for (const state of timed) this.timers.register(state.timerTimestamp, state.key, 0);
    this.timerRegistrations = timed.length === 0 ? 0 : timed[timed.length - 1].timerOrder + 1;
    this.restoring.length = 0;
    this.tracking = true;
  }

  private write(out: StateRowWriter, state: GlobalKeyState<K, In, Acc>): void {
    const pending = !Number.isNaN(state.timerTimestamp);
    const common = {
      arrival: state.arrival,
      minTime: state.minTime,
      maxTime: state.maxTime,
      sinceFiring: state.sinceFiring,
      timer: pending ? state.timerTimestamp : null,
      timerOrder: pending ? state.timerOrder : null,
    };
    const kept = state.kept;
    let row: GlobalRow;
    if (kept === undefined) row = { ...common, acc: this.options.aggregation.save(state.acc!) };
    else {
      const records: In[] = [];
      const times: number[] = [];
      for (let index = 0; index < kept.size; index++) {
        records.push(kept.record(index));
        times.push(kept.time(index));
      }
      row = { ...common, records, times };
    }
    out.put(state.key, '', row);
  }

  /** The key's event-time timer at its latest time. */
  private schedule(state: GlobalKeyState<K, In, Acc>): void {
    this.timers.register(state.maxTime, state.key, 0);
    state.timerTimestamp = state.maxTime;
    state.timerOrder = this.timerRegistrations++;
  }

  /** The key's row is written at the next snapshot. */
  private markChanged(state: GlobalKeyState<K, In, Acc>): void {
    if (!this.tracking || state.changed) return;
    state.changed = true;
    this.changedStates.push(state);
  }

  private fire(state: GlobalKeyState<K, In, Acc>): void {
    const { aggregation, emit } = this.options;
    const kept = state.kept;
    if (kept === undefined) {
      emit(state.key, aggregation.result(state.acc!, state.minTime, state.maxTime + 1), state.maxTime);
      return;
    }
    // Evicting is a change of the kept records.
    this.markChanged(state);
    this.evictor!.beforeFiring(kept);
    if (kept.size === 0) return;
    const acc = aggregation.create(state.key);
    let minTime = Infinity;
    let maxTime = -Infinity;
    for (let index = 0; index < kept.size; index++) {
      const time = kept.time(index);
      aggregation.add(acc, kept.record(index), time);
      if (time < minTime) minTime = time;
      if (time > maxTime) maxTime = time;
    }
    emit(state.key, aggregation.result(acc, minTime, maxTime + 1), maxTime);
  }
}
