// Sliding windows kept as running accumulators (aggregations with unmerge) against plain grouping, late data and gaps.
import { describe, expect, it } from 'vitest';
import { DistinctCount } from '../../../runtime/aggregates/distinct-count.ts';
import type { WindowAggregation } from '../../../runtime/windows/aggregation.ts';
import { SlidingWindowOperator } from '../../../runtime/windows/sliding.ts';
import { seededRandom } from '../../support/random.ts';
import {
  CountingMetrics, outOfOrderEvents, referenceTimeWindows, rowsByWindow, run, WatermarkClock, withWatermarks,
  type Action, type Event, type Row,
} from './harness.ts';

/** The harness's row plus the number of distinct amounts, which exercises DistinctCount.unmerge. */
interface RunningRow extends Row {
  readonly distinctAmounts: number;
}

/** How many times a record was added, and its amount (which rebuilds `amounts` when a saved accumulator is loaded). */
interface Added {
  readonly times: number;
  readonly amount: number;
}

interface RunningAccumulator {
  key: string;
  count: number;
  total: number;
  /** id → how many times it was added: a record counted twice, or unmerged without being merged, shows. */
  ids: Map<number, Added>;
  amounts: DistinctCount<number>;
}

function addIds(into: Map<number, Added>, from: Map<number, Added>, sign: 1 | -1): void {
  for (const [id, { times, amount }] of from) {
    const left = (into.get(id)?.times ?? 0) + sign * times;
    if (left < 0) throw new Error(`id ${id} unmerged more often than merged`);
    if (left === 0) into.delete(id);
    else into.set(id, { times: left, amount });
  }
}

/** A saved accumulator: its ids as [id, times, amount]. */
interface SavedRunningAccumulator {
  readonly count: number;
  readonly total: number;
  readonly ids: ReadonlyArray<readonly [number, number, number]>;
}

/** Integer amounts only, so a running total taken apart and put together is exact. */
const unmergingAggregation: WindowAggregation<string, Event, RunningAccumulator, RunningRow> = {
  create: (key) => ({ key, count: 0, total: 0, ids: new Map(), amounts: new DistinctCount() }),
  add(acc, record) {
    acc.count += 1;
    acc.total += record.amount;
    acc.ids.set(record.id, { times: (acc.ids.get(record.id)?.times ?? 0) + 1, amount: record.amount });
    acc.amounts.add(record.amount);
  },
  merge(into, from) {
    into.count += from.count;
    into.total += from.total;
    addIds(into.ids, from.ids, 1);
    into.amounts.merge(from.amounts);
  },
  unmerge(into, from) {
    into.count -= from.count;
    into.total -= from.total;
    addIds(into.ids, from.ids, -1);
    into.amounts.unmerge(from.amounts);
  },
  result(acc, start, end) {
    const ids: number[] = [];
    for (const [id, { times }] of acc.ids) for (let i = 0; i < times; i++) ids.push(id);
    ids.sort((a, b) => a - b);
    return { key: acc.key, start, end, count: acc.count, total: acc.total, ids, distinctAmounts: acc.amounts.value() };
  },
  save: (acc): SavedRunningAccumulator => ({
    count: acc.count,
    total: acc.total,
    ids: [...acc.ids].map(([id, { times, amount }]) => [id, times, amount] as const),
  }),
  load(key, saved) {
    const { count, total, ids } = saved as SavedRunningAccumulator;
    const acc: RunningAccumulator = { key, count, total, ids: new Map(), amounts: new DistinctCount() };
    for (const [id, times, amount] of ids) {
      acc.ids.set(id, { times, amount });
      for (let i = 0; i < times; i++) acc.amounts.add(amount);
    }
    return acc;
  },
};

/** The same aggregation without unmerge: the operator then merges every pane per window, as before running accumulators. */
const { unmerge: _unmerge, ...mergingAggregation } = unmergingAggregation;

interface Counts {
  merges: number;
  unmerges: number;
}

/** The aggregation with its merge and unmerge calls counted. */
function counted(counts: Counts): WindowAggregation<string, Event, RunningAccumulator, RunningRow> {
  return {
    ...unmergingAggregation,
    merge(into, from) {
      counts.merges++;
      unmergingAggregation.merge(into, from);
    },
    unmerge(into, from) {
      counts.unmerges++;
      unmergingAggregation.unmerge!(into, from);
    },
  };
}

interface Shape {
  readonly sizeMs: number;
  readonly slideMs: number;
  readonly offsetMs: number;
  readonly allowedLatenessMs: number;
}

interface EmittedRow {
  readonly key: string;
  readonly row: RunningRow;
  readonly time: number;
}

function sliding(shape: Shape, aggregation: WindowAggregation<string, Event, RunningAccumulator, RunningRow>) {
  const clock = new WatermarkClock();
  const emitted: EmittedRow[] = [];
  const late: Event[] = [];
  const operator = new SlidingWindowOperator({
    id: 'trend',
    ...shape,
    aggregation,
    emit: (key, row, time) => emitted.push({ key, row, time }),
    late: (_key, record) => late.push(record),
    metrics: new CountingMetrics(),
  });
  return { operator, clock, emitted, late };
}

/** Every window [start, start + size) with start = offset + k·slide that contains `time`, by brute force over k. */
function windowsContaining(time: number, size: number, slide: number, offset: number): Array<readonly [number, number]> {
  const windows: Array<readonly [number, number]> = [];
  for (let k = Math.floor((time - size - offset) / slide) - 1; offset + k * slide <= time; k++) {
    const start = offset + k * slide;
    if (start <= time && time < start + size) windows.push([start, start + size]);
  }
  return windows;
}

/**
 * Out-of-order events of four keys: `steady` and `busy` throughout, `gappy` only in stretches separated by random
 * gaps (shorter than a slide to several window sizes), `sparse` a record now and then.
 */
function eventsWithGaps(seed: number, count: number, longestGap: number): Event[] {
  const events = outOfOrderEvents(seed, count, ['steady', 'busy', 'gappy', 'sparse'], { start: -5000, step: 10, maxOutOfOrderness: 1500 });
  const random = seededRandom(seed + 1);
  // Alternating stretches with and without `gappy` records, from before the first event to after the last.
  const boundaries: number[] = [];
  for (let time = -10_000; time < 60_000; time += 1 + Math.floor(random() * longestGap)) boundaries.push(time);
  const gappyAt = (time: number): boolean => {
    let stretch = 0;
    while (stretch + 1 < boundaries.length && boundaries[stretch + 1] <= time) stretch++;
    return stretch % 2 === 0;
  };
  return events.filter((event) => {
    if (event.key === 'gappy') return gappyAt(event.time);
    if (event.key === 'sparse') return random() < 0.05;
    return true;
  });
}

/** The row plain grouping gives, with the distinct amounts of its records. */
function withDistinctAmounts(row: Row, byId: ReadonlyMap<number, Event>): RunningRow {
  return { ...row, distinctAmounts: new Set(row.ids.map((id) => byId.get(id)!.amount)).size };
}

/** A record of `key` at `time` whose amount is ten times its id. */
function recordAt(id: number, key: string, time: number): Action {
  return { kind: 'record', event: { id, key, time, amount: id * 10 } };
}

/** One line per emitted row: key, window, ids and aggregates. */
function describeRows(emitted: readonly EmittedRow[]): string[] {
  return emitted.map(({ row }) => `${row.key} [${row.start},${row.end}) ${row.ids.join(',')} count ${row.count} total ${row.total} distinct ${row.distinctAmounts}`);
}

describe('SlidingWindowOperator with running accumulators (aggregation with unmerge)', () => {
  const shapes: Shape[] = [
    { sizeMs: 1000, slideMs: 250, offsetMs: 0, allowedLatenessMs: 0 }, // a leaving pane is freed right after its last window fires
    { sizeMs: 1000, slideMs: 250, offsetMs: 30, allowedLatenessMs: 100 }, // lateness below the slide
    { sizeMs: 900, slideMs: 600, offsetMs: 100, allowedLatenessMs: 700 }, // panes of gcd = 300 ms; lateness above the slide
    { sizeMs: 600, slideMs: 200, offsetMs: 50, allowedLatenessMs: 400 },
    { sizeMs: 1000, slideMs: 100, offsetMs: -20, allowedLatenessMs: 2500 }, // lateness beyond the size: late records into the running range
    { sizeMs: 300, slideMs: 700, offsetMs: 0, allowedLatenessMs: 300 }, // gaps between windows: nothing to carry, merged per window
  ];
  for (const shape of shapes) {
    const name = `size ${shape.sizeMs}, slide ${shape.slideMs}, offset ${shape.offsetMs}, lateness ${shape.allowedLatenessMs}`;
    it(`gives every row and late update of plain grouping, in the order of merging every pane (${name})`, () => {
      const events = eventsWithGaps(shape.sizeMs + shape.slideMs + shape.allowedLatenessMs, 5000, 3 * shape.sizeMs);
      const byId = new Map(events.map((event) => [event.id, event]));
      // The watermark trails by 100 ms while records come up to 1.5 s out of order: many are late or too late.
      const actions = withWatermarks(events, 100, 4);
      const counts: Counts = { merges: 0, unmerges: 0 };
      const runningRun = sliding(shape, counted(counts));
      run(runningRun.operator, actions, runningRun.clock);

      const windowsOf = (time: number) => windowsContaining(time, shape.sizeMs, shape.slideMs, shape.offsetMs);
      const expected = referenceTimeWindows(actions, windowsOf, shape.allowedLatenessMs);
      const wanted = rowsByWindow(expected.rows.map((row) => withDistinctAmounts(row, byId)));
      const actual = rowsByWindow(runningRun.emitted.map((entry) => entry.row));
      // Late updates (windows with more than one row), unless there is no lateness.
      const updated = [...wanted.values()].filter((rows) => rows.length > 1).length;
      if (shape.allowedLatenessMs > 0) expect(updated).toBeGreaterThan(10);
      else expect(updated).toBe(0);
      expect([...actual.keys()].sort()).toEqual([...wanted.keys()].sort());
      for (const [window, rows] of wanted) expect(actual.get(window), window).toEqual(rows);
      // Too late: every window past its lateness; a record in a gap between windows belongs to none and is not late.
      const tooLate = expected.late.filter((id) => windowsOf(byId.get(id)!.time).length > 0);
      if (shape.allowedLatenessMs < 1000) expect(tooLate.length).toBeGreaterThan(20);
      expect(runningRun.late.map((event) => event.id)).toEqual(tooLate);
      for (const { key, row, time } of runningRun.emitted) {
        expect(key).toBe(row.key);
        expect(time).toBe(row.end - 1);
      }

      // Exactly what merging every pane emits, in the same order: window bounds, firing order, keys within a window.
      const mergingRun = sliding(shape, mergingAggregation);
      run(mergingRun.operator, actions, mergingRun.clock);
      expect(runningRun.emitted).toEqual(mergingRun.emitted);

      if (shape.slideMs < shape.sizeMs) expect(counts.unmerges).toBeGreaterThan(0);
      else expect(counts.unmerges).toBe(0);
      expect(runningRun.operator.openPanes).toBe(0);
      expect(runningRun.operator.runningAccumulators).toBe(0);
      expect(runningRun.operator.runningWindows).toBe(0);
    });
  }

  it('pins a late record in the running range, and a key that comes back after a gap', () => {
    // size 30, slide 10, lateness 15: a record at 25 is in [0, 30), [10, 40), [20, 50).
    const shape = { sizeMs: 30, slideMs: 10, offsetMs: 0, allowedLatenessMs: 15 };
    const { operator, clock, emitted, late } = sliding(shape, unmergingAggregation);
    const record = (id: number, time: number): Action => recordAt(id, 'k', time);
    const rows = () => describeRows(emitted);
    run(operator, [record(1, 5), record(2, 25), record(3, 12), { kind: 'watermark', watermark: 29 }], clock);
    expect(rows()).toEqual([
      'k [-20,10) 1 count 1 total 10 distinct 1',
      'k [-10,20) 1,3 count 2 total 40 distinct 2',
      'k [0,30) 1,2,3 count 3 total 60 distinct 3',
    ]);
    // After [0, 30) fired, the key carries its records of [10, 30) into [10, 40).
    expect(operator.runningAccumulators).toBe(1);
    emitted.length = 0;
    run(operator, [
      record(4, 15), // late: updates [-10, 20) and [0, 30) at once; it is also in [10, 40), which has not fired
      { kind: 'watermark', watermark: 39 }, // [10, 40) from the running accumulator, which holds record 4
      { kind: 'watermark', watermark: 49 }, // [20, 50): only record 2 is left; the key has nothing in [30, 60)
    ], clock);
    expect(rows()).toEqual([
      'k [-10,20) 1,3,4 count 3 total 80 distinct 3',
      'k [0,30) 1,2,3,4 count 4 total 100 distinct 4',
      'k [10,40) 2,3,4 count 3 total 90 distinct 3',
      'k [20,50) 2 count 1 total 20 distinct 1',
    ]);
    expect(operator.runningAccumulators).toBe(0);
    emitted.length = 0;
    run(operator, [
      record(5, 95), // after a gap: [70, 100) starts from the panes again
      record(6, 3), // every window containing 3 is past its lateness (the last, [0, 30), since 29 + 15 = 44)
      { kind: 'watermark', watermark: Infinity },
    ], clock);
    expect(rows()).toEqual([
      'k [70,100) 5 count 1 total 50 distinct 1',
      'k [80,110) 5 count 1 total 50 distinct 1',
      'k [90,120) 5 count 1 total 50 distinct 1',
    ]);
    expect(late.map((event) => event.id)).toEqual([6]);
    expect(operator.runningAccumulators).toBe(0);
    expect(operator.openPanes).toBe(0);
  });

  it('keeps a key whose records are all in later windows, and leaves out of firings a pane whose windows all fired', () => {
    // size 30, slide 10, lateness 15.
    const shape = { sizeMs: 30, slideMs: 10, offsetMs: 0, allowedLatenessMs: 15 };
    const { operator, clock, emitted } = sliding(shape, unmergingAggregation);
    const rows = () => describeRows(emitted);
    run(operator, [
      recordAt(1, 'k', 5),
      recordAt(2, 'k', 45), // ahead of the watermark: only in windows from [20, 50) on
      recordAt(3, 'j', 22),
      recordAt(4, 'j', 8), // j's first pane is [0, 10), after k's record there: j comes after k in [0, 30)
      { kind: 'watermark', watermark: 29 },
    ], clock);
    expect(rows()).toEqual([
      'k [-20,10) 1 count 1 total 10 distinct 1',
      'j [-20,10) 4 count 1 total 40 distinct 1',
      'k [-10,20) 1 count 1 total 10 distinct 1',
      'j [-10,20) 4 count 1 total 40 distinct 1',
      'k [0,30) 1 count 1 total 10 distinct 1',
      'j [0,30) 3,4 count 2 total 70 distinct 2',
    ]);
    // j carries its record at 22 into [10, 40); k has nothing in [10, 40) and is kept for its record at 45.
    expect(operator.runningAccumulators).toBe(1);
    expect(operator.runningWindows).toBe(2);
    emitted.length = 0;
    run(operator, [
      { kind: 'watermark', watermark: 39 },
      recordAt(5, 'm', 12), // m's first record in the pane [10, 20), whose windows all fired: late updates only
      { kind: 'watermark', watermark: Infinity },
    ], clock);
    expect(rows()).toEqual([
      'j [10,40) 3 count 1 total 30 distinct 1',
      'm [0,30) 5 count 1 total 50 distinct 1',
      'm [10,40) 5 count 1 total 50 distinct 1',
      'j [20,50) 3 count 1 total 30 distinct 1',
      'k [20,50) 2 count 1 total 20 distinct 1',
      'k [30,60) 2 count 1 total 20 distinct 1',
      'k [40,70) 2 count 1 total 20 distinct 1',
    ]);
    expect(operator.runningWindows).toBe(0);
    expect(operator.openPanes).toBe(0);
  });

  it('merges each pane into a running accumulator once, however many windows it belongs to', () => {
    // 1 h windows every minute; one record per second for 1000 s fills the panes of minutes 0 to 16.
    const shape = { sizeMs: 3_600_000, slideMs: 60_000, offsetMs: 0, allowedLatenessMs: 0 };
    const counts: Counts = { merges: 0, unmerges: 0 };
    const runningRun = sliding(shape, counted(counts));
    const mergingCounts: Counts = { merges: 0, unmerges: 0 };
    const { unmerge: _counting, ...countedMerging } = counted(mergingCounts);
    const mergingRun = sliding(shape, countedMerging);
    for (let id = 0; id < 1000; id++) {
      const event: Event = { id, key: 'k', time: id * 1000, amount: 1 };
      runningRun.operator.process('k', event, event.time);
      mergingRun.operator.process('k', event, event.time);
    }
    runningRun.operator.onWatermark(Infinity);
    mergingRun.operator.onWatermark(Infinity);
    expect(runningRun.emitted).toEqual(mergingRun.emitted);
    // 76 windows, from [-59 min, 1 min) to [16 min, 76 min); each of the 17 panes is in 60 of them.
    expect(runningRun.emitted.length).toBe(76);
    expect(mergingCounts.merges).toBe(17 * 60);
    // Merged once when it enters, unmerged once when it leaves, but for the last pane: no window is left to carry to.
    expect(counts.merges).toBe(17);
    expect(counts.unmerges).toBe(16);
  });
});
