// Test harness for window operators: seeded records, a counting TaskMetrics, and an aggregation whose rows name their records.
import { expect } from 'vitest';
import type { TaskMetrics } from '../../../runtime/api.ts';
import type { WindowAggregation } from '../../../runtime/windows/aggregation.ts';
import { seededRandom } from '../../support/random.ts';

export interface Event {
  readonly id: number;
  readonly key: string;
  readonly time: number;
  readonly amount: number;
}

/** A row as the test aggregation makes it: the ids of the records it aggregated, sorted, so rows compare exactly. */
export interface Row {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly total: number;
  readonly ids: readonly number[];
}

interface Accumulator {
  key: string;
  count: number;
  total: number;
  ids: number[];
}

/** Keeps the key it is created for, as generated accumulators do, so a row's key shows which key the operator passed. */
export const rowAggregation: WindowAggregation<string, Event, Accumulator, Row> = {
  create: (key) => ({ key, count: 0, total: 0, ids: [] }),
  add(acc, record) {
    acc.count += 1;
    acc.total += record.amount;
    acc.ids.push(record.id);
  },
  merge(into, from) {
    into.count += from.count;
    into.total += from.total;
    into.ids.push(...from.ids);
  },
  result: (acc, start, end) => ({ key: acc.key, start, end, count: acc.count, total: acc.total, ids: [...acc.ids].sort((a, b) => a - b) }),
  save: (acc) => ({ count: acc.count, total: acc.total, ids: [...acc.ids] }),
  load(key, saved) {
    const { count = 0, total = 0, ids = [] } = saved as Partial<Omit<Accumulator, 'key'>>;
    return { key, count, total, ids: [...ids] };
  },
};

/** The row the test expects for a group of records, computed without the operator. */
export function expectedRow(key: string, start: number, end: number, records: readonly Event[]): Row {
  return {
    key,
    start,
    end,
    count: records.length,
    total: records.reduce((sum, record) => sum + record.amount, 0),
    ids: records.map((record) => record.id).sort((a, b) => a - b),
  };
}

export class CountingMetrics implements TaskMetrics {
  droppedCount = 0;
  lateCount = 0;
  dropped(_stepId: string, count = 1): void {
    this.droppedCount += count;
  }
  late(_stepId: string, count = 1): void {
    this.lateCount += count;
  }
}

/** What an operator emitted: each key and row with its time and the watermark the operator had seen when it came out. */
export interface Emitted {
  readonly key: string;
  readonly row: Row;
  readonly time: number;
  readonly watermark: number;
}

/**
 * Records with keys from `keys`, times rising by 0–`step` ms from `start`, each shifted back by up to
 * `maxOutOfOrderness` ms (so a bounded-out-of-orderness watermark never makes them late), integer amounts.
 */
export function outOfOrderEvents(seed: number, count: number, keys: readonly string[], options: { start: number; step: number; maxOutOfOrderness: number }): Event[] {
  const random = seededRandom(seed);
  const events: Event[] = [];
  let clock = options.start;
  for (let id = 0; id < count; id++) {
    clock += Math.floor(random() * (options.step + 1));
    const time = clock - Math.floor(random() * (options.maxOutOfOrderness + 1));
    events.push({ id, key: keys[Math.floor(random() * keys.length)], time, amount: 1 + Math.floor(random() * 100) });
  }
  return events;
}

/** A tumbling window's start by the textbook floor formula (the test's own arithmetic, not the runtime's). */
export function floorStart(time: number, offset: number, size: number): number {
  return Math.floor((time - offset) / size) * size + offset;
}

/** Groups records by a string made from each record; the groups keep the records' order. */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

export function sortRows(rows: readonly Row[]): Row[] {
  return [...rows].sort((a, b) => a.start - b.start || a.end - b.end || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** What a test feeds an operator, in order: records, and watermarks between them. */
export type Action = { readonly kind: 'record'; readonly event: Event } | { readonly kind: 'watermark'; readonly watermark: number };

/**
 * Records interleaved with a bounded-out-of-orderness watermark (max time seen - bound - 1, as Flink's) after every
 * `every` records, then +Infinity for the end of input.
 */
export function withWatermarks(events: readonly Event[], bound: number, every: number): Action[] {
  const actions: Action[] = [];
  let maxTime = -Infinity;
  let watermark = -Infinity;
  events.forEach((event, index) => {
    actions.push({ kind: 'record', event });
    if (event.time > maxTime) maxTime = event.time;
    if ((index + 1) % every === 0 && maxTime - bound - 1 > watermark) {
      watermark = maxTime - bound - 1;
      actions.push({ kind: 'watermark', watermark });
    }
  });
  actions.push({ kind: 'watermark', watermark: Infinity });
  return actions;
}

export interface KeyedOperator {
  process(key: string, record: Event, time: number): void;
  onWatermark(watermark: number): void;
}

/** The watermark an operator under test has been given last; emit callbacks read it to stamp what they emit. */
export class WatermarkClock {
  watermark = -Infinity;
}

/**
 * What a time or session window operator under test writes to: `emitted` rows stamped with the clock's watermark,
 * `late` records (each checked to come with its own key) and counting `metrics`; `outputs` are the operator options
 * that write there.
 */
export function windowOutputs() {
  const clock = new WatermarkClock();
  const emitted: Emitted[] = [];
  const late: Event[] = [];
  const metrics = new CountingMetrics();
  const outputs = {
    emit: (key: string, row: Row, time: number): void => {
      emitted.push({ key, row, time, watermark: clock.watermark });
    },
    late: (key: string, record: Event): void => {
      expect(key).toBe(record.key);
      late.push(record);
    },
    metrics,
  };
  return { clock, emitted, late, metrics, outputs };
}

export function run(operator: KeyedOperator, actions: readonly Action[], clock: WatermarkClock): void {
  for (const action of actions) {
    if (action.kind === 'record') operator.process(action.event.key, action.event, action.event.time);
    else {
      clock.watermark = action.watermark;
      operator.onWatermark(action.watermark);
    }
  }
}

/**
 * Flink's time-window semantics computed the plain way, for checking tumbling and sliding operators: `windowsOf`
 * gives the [start, end) windows of a time by the test's own arithmetic; groups are arrays of records. Returns every
 * row in the order it should be emitted (on-time firings by end, then by the order the key first arrived in the
 * window) and the ids of late records.
 */
export function referenceTimeWindows(
  actions: readonly Action[],
  windowsOf: (time: number) => Array<readonly [number, number]>,
  allowedLateness: number,
): { rows: Row[]; late: number[] } {
  interface Group { key: string; start: number; end: number; records: Event[]; fired: boolean; order: number }
  const groups = new Map<string, Group>();
  const rows: Row[] = [];
  const late: number[] = [];
  let watermark = -Infinity;
  let order = 0;
  for (const action of actions) {
    if (action.kind === 'record') {
      const { event } = action;
      let added = false;
      for (const [start, end] of windowsOf(event.time)) {
        if (end - 1 + allowedLateness <= watermark) continue;
        added = true;
        const id = `${event.key}|${start}`;
        let group = groups.get(id);
        if (group === undefined) {
          group = { key: event.key, start, end, records: [], fired: false, order: order++ };
          groups.set(id, group);
        }
        group.records.push(event);
        if (end - 1 <= watermark) {
          group.fired = true;
          rows.push(expectedRow(group.key, start, end, group.records));
        }
      }
      if (!added) late.push(event.id);
    } else {
      if (action.watermark <= watermark) continue;
      watermark = action.watermark;
      const due = [...groups.values()].filter((group) => !group.fired && group.end - 1 <= watermark);
      due.sort((a, b) => a.end - b.end || a.order - b.order);
      for (const group of due) {
        group.fired = true;
        rows.push(expectedRow(group.key, group.start, group.end, group.records));
      }
      for (const [id, group] of groups) if (group.end - 1 + allowedLateness <= watermark) groups.delete(id);
    }
  }
  return { rows, late };
}

/** Rows grouped by key and window, each group's rows in emission order. */
export function rowsByWindow(rows: readonly Row[]): Map<string, Row[]> {
  return groupBy(rows, (row) => `${row.key}|${row.start}|${row.end}`);
}
