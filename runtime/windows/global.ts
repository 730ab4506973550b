// Keyed global windows with a count, processing-time or event-time trigger and an optional evictor, as Flink's GlobalWindows.
import { assertNever } from '../assert.ts';
import type { Key, Operator } from '../api.ts';
import { requirePositiveDuration, windowStart } from './assigners.ts';
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
 */
export class GlobalWindowOperator<K extends Key, In, Acc, Out> implements Operator {
  readonly id: string;
  private readonly trigger: GlobalTrigger;
  private readonly evictor: Evictor | undefined;
  private readonly states = new Map<K, GlobalKeyState<K, In, Acc>>();
  /** Event-time timers (trigger `event_time`), one per key at its latest event time (window 0). */
  private readonly timers = new TimerService<K>();
  private watermark = -Infinity;
  /** Next processing time the `every` trigger fires at; NaN until the first `onProcessingTime`. */
  private nextFiring = NaN;

  constructor(private readonly options: GlobalWindowOptions<K, In, Acc, Out>) {
    this.id = options.id;
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

  process(key: K, record: In, time: number): void {
    let state = this.states.get(key);
    if (state === undefined) {
      const kept = this.evictor === undefined ? undefined : new KeptRecords<In>();
      const acc = kept === undefined ? this.options.aggregation.create(key) : undefined;
      state = { key, acc, kept, minTime: time, maxTime: time, sinceFiring: 0, timerTimestamp: NaN };
      this.states.set(key, state);
    }
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
        else if (Number.isNaN(state.timerTimestamp)) {
          this.timers.register(state.maxTime, key, 0);
          state.timerTimestamp = state.maxTime;
        }
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
      if (timer.timestamp < state.maxTime) {
        // Later records moved the key's latest time: fire then (in this loop, in order, if the watermark is past it).
        this.timers.register(state.maxTime, timer.key, 0);
        state.timerTimestamp = state.maxTime;
      } else {
        this.fire(state);
      }
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

  private fire(state: GlobalKeyState<K, In, Acc>): void {
    const { aggregation, emit } = this.options;
    const kept = state.kept;
    if (kept === undefined) {
      emit(state.key, aggregation.result(state.acc!, state.minTime, state.maxTime + 1), state.maxTime);
      return;
    }
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
