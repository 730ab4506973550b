// Keyed event-time session windows that merge, as Flink's EventTimeSessionWindows with its MergingWindowSet.
import type { Key, Operator, OperatorState, RowAddress, StateNamespace, StateRowWriter } from '../api.ts';
import { ParkedRecords } from '../state/parked-records.ts';
import { requireDuration, requirePositiveDuration } from './assigners.ts';
import { compareKeys } from './checkpoint.ts';
import { TimerService } from '../time/timers.ts';
import { rejectLateRecord, type WindowOperatorOptions } from './lateness.ts';

export interface SessionWindowOptions<K extends Key, In, Acc, Out> extends WindowOperatorOptions<K, In, Acc, Out> {
  readonly gapMs: number;
}

/** One session of a key: [start, end) with end = last record's time + gap. */
interface Session<K extends Key, Acc> {
  readonly key: K;
  start: number;
  end: number;
  readonly acc: Acc;
  /** The `end` the session last fired with; NaN before it fired. */
  firedEnd: number;
  /**
   * The session's one pending timer, at or before when the session is next due: end - 1 to fire, end - 1 + allowed
   * lateness to be freed. A record that pushes the end later leaves the timer where it is; when it pops early it
   * moves itself to the due time (see onWatermark), so growing a session costs no timer work per record.
   */
  timerTimestamp: number;
  /** The timer's window (the session's start when it was registered): sessions merging earlier change their start. */
  timerWindow: number;
  /** When the timer was registered, in the operator's count of registrations: timers due together fire in this order. */
  timerOrder: number;
  /** Whether the session's row must be written at the next snapshot. */
  changed: boolean;
  /** The start the session's row has in the checkpoints' state (it moves when the session grows earlier); NaN when it has none. */
  persistedStart: number;
  /** The operator's count of snapshots when the session last changed: eviction spares sessions changed in the last interval. */
  changedIn: number;
}

/** What registering a session's timer takes: a session, or one restored as evicted. */
type SessionTimer<K extends Key> = Pick<Session<K, unknown>, 'key' | 'start' | 'timerTimestamp' | 'timerWindow' | 'timerOrder'>;

/** A session's row in checkpoints, under (key, start). */
interface SessionRow {
  readonly end: number;
  /** Whether the session fired with its current end. */
  readonly fired: boolean;
  /** The pending timer's timestamp and registration order, restored as they were so that sessions fire in the same order. */
  readonly timer: number;
  readonly timerOrder: number;
  readonly acc: unknown;
}

/**
 * Session windows per key: each record opens [time, time + gap); sessions of a key that overlap or touch merge
 * (Flink's TimeWindow.intersects), so a record that bridges two sessions merges them and their accumulators into
 * one. A session fires when the watermark reaches end - 1, with time end - 1. Lateness is judged on the session a
 * record ends up in, as Flink does after merging: a record that joins a live session is never late, even if its
 * own [time, time + gap) is; a record that opens a session already past end - 1 + allowed lateness is late. A record
 * that grows or merges a session the watermark already passed fires it again at once with the updated row (or, if
 * the session's new end is ahead of the watermark, when the watermark gets there). Sessions due on the same
 * watermark fire by end, then in the order their timers were registered.
 *
 * In checkpoints (the operator is its own OperatorState) a row per key and session start holds the session; a
 * session that merges into another or is freed deletes its row, one that grows earlier moves it.
 *
 * Under a memory budget it evicts whole sessions, keeping each one's start (in `evicted`) and its timer, which stays
 * registered: the timers say which evicted sessions a watermark fires, and those are loaded before it. A record of a
 * key with evicted sessions parks until all of them are loaded (it may merge them).
 */
export class SessionWindowOperator<K extends Key, In, Acc, Out> implements Operator, OperatorState {
  readonly id: string;
  readonly uid: string;
  readonly state: OperatorState = this;
  private readonly gapMs: number;
  private readonly allowedLatenessMs: number;
  /** Per key, its sessions sorted by start, disjoint and not touching. */
  private readonly sessions = new Map<K, Session<K, Acc>[]>();
  private sessionCount = 0;
  private readonly timers = new TimerService<K>();
  /** Timers registered so far: the next session timer's `timerOrder`. */
  private timerRegistrations = 0;
  private watermark = -Infinity;
  /** Whether changes are tracked: from the first snapshot or restore on (before, no row is in a checkpoint). */
  private tracking = false;
  /** Sessions whose row must be written at the next snapshot (those since removed have `changed` false). */
  private readonly changedSessions: Session<K, Acc>[] = [];
  /** Sessions merged away or freed since the last snapshot that have a row to delete. */
  private readonly removedSessions: Session<K, Acc>[] = [];
  /** Snapshots taken so far. */
  private snapshots = 0;
  /** The starts of evicted sessions not asked for yet, by key; their timers stay registered. */
  private readonly evicted = new EvictedSessions<K>();
  /** Sessions evicted or on their way back. */
  private evictedSessions = 0;
  private readonly parked: ParkedRecords<K, In>;
  /** The timers of sessions restored as evicted, until `restored` registers them with the others'. */
  private readonly restoringTimers: SessionTimer<K>[] = [];

  constructor(private readonly options: SessionWindowOptions<K, In, Acc, Out>) {
    requirePositiveDuration('gapMs', options.gapMs);
    requireDuration('allowedLatenessMs', options.allowedLatenessMs);
    this.id = options.id;
    this.uid = options.uid ?? options.id;
    this.gapMs = options.gapMs;
    this.allowedLatenessMs = options.allowedLatenessMs;
    this.parked = new ParkedRecords(this.uid);
  }

  /** Sessions holding state, over all keys (for tests and state-size metrics). */
  get openSessions(): number {
    return this.sessionCount;
  }

  /** Rows held: one per session. */
  get size(): number {
    return this.sessionCount;
  }

  get residentRows(): number {
    return this.sessionCount - this.evictedSessions;
  }

  process(key: K, record: In, time: number): void {
    if (this.parked.holds(key)) {
      this.parked.park(key, record, time);
      return;
    }
    if (this.evicted.size > 0 && this.evicted.has(key)) {
      this.request(key);
      this.parked.park(key, record, time);
      return;
    }
    const aggregation = this.options.aggregation;
    const recordEnd = time + this.gapMs;
    let list = this.sessions.get(key);
    // The sessions [time, recordEnd] intersects form a run [first, last] of the sorted list.
    let first = -1;
    let last = -1;
    let insertAt = 0;
    if (list !== undefined) {
      for (let index = 0; index < list.length; index++) {
        const session = list[index];
        if (session.start > recordEnd) break;
        if (session.end >= time) {
          if (first < 0) first = index;
          last = index;
        } else {
          insertAt = index + 1;
        }
      }
    }
    let session: Session<K, Acc>;
    if (first < 0) {
      if (recordEnd - 1 + this.allowedLatenessMs <= this.watermark) {
        rejectLateRecord(this.options, key, record, time);
        return;
      }
      session = {
        key, start: time, end: recordEnd, acc: aggregation.create(key), firedEnd: NaN, timerTimestamp: NaN, timerWindow: NaN, timerOrder: NaN,
        changed: false, persistedStart: NaN, changedIn: this.snapshots,
      };
      this.sessionCount++;
      if (list === undefined) {
        list = [session];
        this.sessions.set(key, list);
      } else {
        list.splice(insertAt, 0, session);
      }
    } else {
      session = list![first];
      const end = list![last].end;
      for (let index = first + 1; index <= last; index++) {
        const merged = list![index];
        aggregation.merge(session.acc, merged.acc);
        this.timers.delete(merged.timerTimestamp, key, merged.timerWindow);
        this.remove(merged);
      }
      if (last > first) list!.splice(first + 1, last - first);
      if (time < session.start) session.start = time;
      session.end = end > recordEnd ? end : recordEnd;
    }
    aggregation.add(session.acc, record, time);
    this.markChanged(session);
    if (session.end - 1 <= this.watermark) this.fire(key, session);
    this.schedule(key, session);
  }

  onWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    for (let timer = this.timers.pollDue(watermark); timer !== undefined; timer = this.timers.pollDue(watermark)) {
      const list = this.sessions.get(timer.key);
      const index = list === undefined ? -1 : indexOfTimer(list, timer.timestamp, timer.window);
      if (index < 0) {
        if (this.evicted.includes(timer.key, timer.window)) {
          throw new Error(`state '${this.uid}': the timer of evicted session (${JSON.stringify(timer.key)}, ${timer.window}) is due, but the session was not loaded (prepareWatermark asks for it)`);
        }
        continue;
      }
      const session = list![index];
      session.timerTimestamp = NaN;
      const due = this.dueTime(session);
      if (timer.timestamp < due) {
        // The session grew since the timer was set: move it (if that is due too, it pops later in this loop, in order).
        this.schedule(timer.key, session);
        continue;
      }
      const maxTimestamp = session.end - 1;
      if (session.firedEnd !== session.end) this.fire(timer.key, session);
      if (maxTimestamp + this.allowedLatenessMs <= watermark) {
        list!.splice(index, 1);
        if (list!.length === 0) this.sessions.delete(timer.key);
        this.remove(session);
      } else {
        this.schedule(timer.key, session);
      }
    }
  }

  snapshot(out: StateRowWriter, full: boolean): void {
    this.parked.requireNone();
    if (full && this.evictedSessions > 0) {
      throw new Error(`a full snapshot of state '${this.uid}' met evicted sessions: evicted rows need an incremental backend (rocksdb)`);
    }
    const incremental = this.tracking && !full;
    if (incremental) {
      // Deletes first: a row a session leaves may be the one another session now has (a freed session's start reused).
      for (const session of this.removedSessions) out.delete(session.key, session.persistedStart);
      for (const session of this.changedSessions) {
        if (session.changed && session.persistedStart !== session.start && !Number.isNaN(session.persistedStart)) out.delete(session.key, session.persistedStart);
      }
      for (const session of this.changedSessions) if (session.changed) this.write(out, session);
    } else {
      for (const list of this.sessions.values()) for (const session of list) this.write(out, session);
    }
    for (const session of this.changedSessions) session.changed = false;
    this.changedSessions.length = 0;
    this.removedSessions.length = 0;
    this.tracking = true;
    this.snapshots++;
  }

  /**
   * Evicts clean sessions: first those that did not change in the last interval, then any; in each round those due
   * last first (a session due soon would be loaded back soon).
   */
  evict(targetRows: number): number {
    const excess = this.residentRows - targetRows;
    if (!this.tracking || excess <= 0) return 0;
    const clean: Session<K, Acc>[] = [];
    for (const list of this.sessions.values()) for (const session of list) if (!session.changed && session.persistedStart === session.start) clean.push(session);
    const lastInterval = this.snapshots - 1;
    clean.sort((a, b) => Number(a.changedIn >= lastInterval) - Number(b.changedIn >= lastInterval) || b.timerTimestamp - a.timerTimestamp);
    const evicting = clean.slice(0, excess);
    for (const session of evicting) {
      const list = this.sessions.get(session.key)!;
      list.splice(list.indexOf(session), 1);
      if (list.length === 0) this.sessions.delete(session.key);
      this.evicted.add(session.key, session.start);
    }
    this.evictedSessions += evicting.length;
    return evicting.length;
  }

  pendingLoads(): readonly RowAddress[] {
    return this.parked.take();
  }

  loaded(rows: readonly RowAddress[], values: readonly unknown[]): void {
    rows.forEach(({ key, namespace }, index) => {
      if (values[index] === undefined) throw new Error(`state '${this.uid}': session (${JSON.stringify(key)}, ${namespace}) was evicted, but the backend lacks it`);
      const session = this.sessionOfRow(key as K, namespace as number, values[index]);
      const list = this.sessions.get(session.key);
      if (list === undefined) this.sessions.set(session.key, [session]);
      else list.splice(insertionPoint(list, session.start), 0, session);
    });
    this.evictedSessions -= rows.length;
    this.parked.replay((key, record, time) => this.process(key, record, time));
  }

  /** Asks for every evicted session due: watermarkStep keeps them within what may be loaded at once. */
  prepareWatermark(watermark: number): void {
    if (this.evicted.size === 0) return;
    this.timers.forEachDue(watermark, (timer) => {
      if (this.evicted.remove(timer.key, timer.window)) this.parked.request(timer.key, timer.window);
    });
  }

  /** Sessions fire by their timers, so the step ends before the timer of the evicted session past `maxRows`. */
  watermarkStep(watermark: number, maxRows: number): number {
    if (this.evicted.size === 0) return watermark;
    // The timestamps of the first maxRows + 1 evicted sessions due, in order.
    const due: number[] = [];
    this.timers.visitDueInOrder(watermark, (timer) => {
      if (this.evicted.includes(timer.key, timer.window)) due.push(timer.timestamp);
      return due.length <= maxRows;
    });
    if (due.length <= maxRows) return watermark;
    // Up to just before the first timestamp past maxRows, or, when the earliest alone has more, to it.
    return Math.max(due[maxRows] - 1, due[0]);
  }

  restoreRow(key: K, namespace: StateNamespace, value: unknown): void {
    const session = this.sessionOfRow(key, namespace as number, value);
    const list = this.sessions.get(key);
    if (list === undefined) this.sessions.set(key, [session]);
    else list.push(session);
    this.sessionCount++;
  }

  /** The session's start, as an evicted session, and its timer. */
  restoreEvicted(key: K, namespace: StateNamespace, value: unknown): void {
    const { timer, timerOrder } = value as SessionRow;
    const start = namespace as number;
    this.evicted.add(key, start);
    this.restoringTimers.push({ key, start, timerTimestamp: timer, timerWindow: start, timerOrder });
    this.sessionCount++;
    this.evictedSessions++;
  }

  restored(watermark: number): void {
    this.watermark = watermark;
    const pending: SessionTimer<K>[] = this.restoringTimers.splice(0);
    for (const list of this.sessions.values()) {
      list.sort((a, b) => a.start - b.start);
      pending.push(...list);
    }
    // Registered in their saved order, the timers fire in the order they would have; timers of several tasks'
    // checkpoints (a restore at another parallelism) that share an order go by key.
    pending.sort((a, b) => a.timerOrder - b.timerOrder || compareKeys(a.key, b.key) || a.start - b.start);
    for (const session of pending) this.timers.register(session.timerTimestamp, session.key, session.timerWindow);
    this.timerRegistrations = pending.length === 0 ? 0 : pending[pending.length - 1].timerOrder + 1;
    this.tracking = true;
  }

  /** A session as its row holds it, with its timer as registered (under its start). */
  private sessionOfRow(key: K, start: number, value: unknown): Session<K, Acc> {
    const row = value as SessionRow;
    return {
      key, start, end: row.end, acc: this.options.aggregation.load(key, row.acc), firedEnd: row.fired ? row.end : NaN,
      timerTimestamp: row.timer, timerWindow: start, timerOrder: row.timerOrder, changed: false, persistedStart: start, changedIn: -1,
    };
  }

  /** Asks for every evicted session of `key`: a record of the key may merge any of them. */
  private request(key: K): void {
    for (const start of this.evicted.take(key)) this.parked.request(key, start);
  }

  private write(out: StateRowWriter, session: Session<K, Acc>): void {
    const row: SessionRow = {
      end: session.end,
      fired: session.firedEnd === session.end,
      timer: session.timerTimestamp,
      timerOrder: session.timerOrder,
      acc: this.options.aggregation.save(session.acc),
    };
    out.put(session.key, session.start, row);
    session.persistedStart = session.start;
  }

  /** The session's row is written at the next snapshot. */
  private markChanged(session: Session<K, Acc>): void {
    session.changedIn = this.snapshots;
    if (!this.tracking || session.changed) return;
    session.changed = true;
    this.changedSessions.push(session);
  }

  /** The session merged into another or was freed: its row, if it has one, is deleted at the next snapshot. */
  private remove(session: Session<K, Acc>): void {
    this.sessionCount--;
    session.changed = false;
    if (!Number.isNaN(session.persistedStart)) this.removedSessions.push(session);
  }

  private fire(key: K, session: Session<K, Acc>): void {
    this.markChanged(session);
    session.firedEnd = session.end;
    this.options.emit(key, this.options.aggregation.result(session.acc, session.start, session.end), session.end - 1);
  }

  /** When the session next needs its timer: its firing if it has not fired with its current end, else its freeing. */
  private dueTime(session: Session<K, Acc>): number {
    const maxTimestamp = session.end - 1;
    return session.firedEnd === session.end ? maxTimestamp + this.allowedLatenessMs : maxTimestamp;
  }

  /** Makes sure the session has a timer at or before its due time, under its current start. */
  private schedule(key: K, session: Session<K, Acc>): void {
    const due = this.dueTime(session);
    if (session.timerWindow === session.start && session.timerTimestamp <= due) return;
    // Register before deleting: the timer service keeps the key's index entry alive in between.
    this.timers.register(due, key, session.start);
    if (!Number.isNaN(session.timerTimestamp)) this.timers.delete(session.timerTimestamp, key, session.timerWindow);
    session.timerTimestamp = due;
    session.timerWindow = session.start;
    session.timerOrder = this.timerRegistrations++;
    this.markChanged(session);
  }
}

/**
 * The starts of evicted sessions by key: a key's one start as a number, several in an array. Most keys have one
 * session, and an evicted one then costs about 40 bytes less than with an array each.
 */
class EvictedSessions<K extends Key> {
  private readonly starts = new Map<K, number | number[]>();

  get size(): number {
    return this.starts.size;
  }

  has(key: K): boolean {
    return this.starts.has(key);
  }

  includes(key: K, start: number): boolean {
    const starts = this.starts.get(key);
    return starts === start || (Array.isArray(starts) && starts.includes(start));
  }

  add(key: K, start: number): void {
    const starts = this.starts.get(key);
    if (starts === undefined) this.starts.set(key, start);
    else if (typeof starts === 'number') this.starts.set(key, [starts, start]);
    else starts.push(start);
  }

  /** Removes one start; false when the key has no such evicted session. */
  remove(key: K, start: number): boolean {
    const starts = this.starts.get(key);
    if (starts === start) return this.starts.delete(key);
    if (!Array.isArray(starts) || !starts.includes(start)) return false;
    starts.splice(starts.indexOf(start), 1);
    if (starts.length === 1) this.starts.set(key, starts[0]);
    return true;
  }

  /** Removes and returns every start of the key. */
  take(key: K): readonly number[] {
    const starts = this.starts.get(key)!;
    this.starts.delete(key);
    return typeof starts === 'number' ? [starts] : starts;
  }
}

/** Where a session starting at `start` goes in a key's list sorted by start. */
function insertionPoint<K extends Key, Acc>(list: readonly Session<K, Acc>[], start: number): number {
  let index = 0;
  while (index < list.length && list[index].start < start) index++;
  return index;
}

function indexOfTimer<K extends Key, Acc>(list: readonly Session<K, Acc>[], timestamp: number, window: number): number {
  for (let index = 0; index < list.length; index++) {
    if (list[index].timerTimestamp === timestamp && list[index].timerWindow === window) return index;
  }
  return -1;
}
