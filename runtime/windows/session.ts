// Keyed event-time session windows that merge, as Flink's EventTimeSessionWindows with its MergingWindowSet.
import type { Key, Operator } from '../api.ts';
import { requireDuration, requirePositiveDuration } from './assigners.ts';
import { TimerService } from '../time/timers.ts';
import { rejectLateRecord, type WindowOperatorOptions } from './lateness.ts';

export interface SessionWindowOptions<K extends Key, In, Acc, Out> extends WindowOperatorOptions<K, In, Acc, Out> {
  readonly gapMs: number;
}

/** One session of a key: [start, end) with end = last record's time + gap. */
interface Session<Acc> {
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
 */
export class SessionWindowOperator<K extends Key, In, Acc, Out> implements Operator {
  readonly id: string;
  private readonly gapMs: number;
  private readonly allowedLatenessMs: number;
  /** Per key, its sessions sorted by start, disjoint and not touching. */
  private readonly sessions = new Map<K, Session<Acc>[]>();
  private readonly timers = new TimerService<K>();
  private watermark = -Infinity;

  constructor(private readonly options: SessionWindowOptions<K, In, Acc, Out>) {
    requirePositiveDuration('gapMs', options.gapMs);
    requireDuration('allowedLatenessMs', options.allowedLatenessMs);
    this.id = options.id;
    this.gapMs = options.gapMs;
    this.allowedLatenessMs = options.allowedLatenessMs;
  }

  /** Sessions holding state, over all keys (for tests and state-size metrics). */
  get openSessions(): number {
    let count = 0;
    for (const list of this.sessions.values()) count += list.length;
    return count;
  }

  process(key: K, record: In, time: number): void {
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
    let session: Session<Acc>;
    if (first < 0) {
      if (recordEnd - 1 + this.allowedLatenessMs <= this.watermark) {
        rejectLateRecord(this.options, key, record, time);
        return;
      }
      session = { start: time, end: recordEnd, acc: aggregation.create(key), firedEnd: NaN, timerTimestamp: NaN, timerWindow: NaN };
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
      }
      if (last > first) list!.splice(first + 1, last - first);
      if (time < session.start) session.start = time;
      session.end = end > recordEnd ? end : recordEnd;
    }
    aggregation.add(session.acc, record, time);
    if (session.end - 1 <= this.watermark) this.fire(key, session);
    this.schedule(key, session);
  }

  onWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    for (let timer = this.timers.pollDue(watermark); timer !== undefined; timer = this.timers.pollDue(watermark)) {
      const list = this.sessions.get(timer.key);
      if (list === undefined) continue;
      const index = indexOfTimer(list, timer.timestamp, timer.window);
      if (index < 0) continue;
      const session = list[index];
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
        list.splice(index, 1);
        if (list.length === 0) this.sessions.delete(timer.key);
      } else {
        this.schedule(timer.key, session);
      }
    }
  }

  private fire(key: K, session: Session<Acc>): void {
    session.firedEnd = session.end;
    this.options.emit(key, this.options.aggregation.result(session.acc, session.start, session.end), session.end - 1);
  }

  /** When the session next needs its timer: its firing if it has not fired with its current end, else its freeing. */
  private dueTime(session: Session<Acc>): number {
    const maxTimestamp = session.end - 1;
    return session.firedEnd === session.end ? maxTimestamp + this.allowedLatenessMs : maxTimestamp;
  }

  /** Makes sure the session has a timer at or before its due time, under its current start. */
  private schedule(key: K, session: Session<Acc>): void {
    const due = this.dueTime(session);
    if (session.timerWindow === session.start && session.timerTimestamp <= due) return;
    // Register before deleting: the timer service keeps the key's index entry alive in between.
    this.timers.register(due, key, session.start);
    if (!Number.isNaN(session.timerTimestamp)) this.timers.delete(session.timerTimestamp, key, session.timerWindow);
    session.timerTimestamp = due;
    session.timerWindow = session.start;
  }
}

function indexOfTimer<Acc>(list: readonly Session<Acc>[], timestamp: number, window: number): number {
  for (let index = 0; index < list.length; index++) {
    if (list[index].timerTimestamp === timestamp && list[index].timerWindow === window) return index;
  }
  return -1;
}
