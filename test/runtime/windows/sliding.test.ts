// Sliding windows from panes against plain grouping per window, Flink's lateness rules, and freed panes.
import { describe, expect, it } from 'vitest';
import { SlidingWindowOperator } from '../../../runtime/windows/sliding.ts';
import {
  CountingMetrics, expectedRow, outOfOrderEvents, referenceTimeWindows, rowAggregation, rowsByWindow, run, sortRows, windowOutputs, withWatermarks,
  type Action, type Event, type Row,
} from './harness.ts';

function sliding(options: { sizeMs: number; slideMs: number; offsetMs?: number; allowedLatenessMs?: number }) {
  const { clock, emitted, late, metrics, outputs } = windowOutputs();
  const operator = new SlidingWindowOperator({
    id: 'trend',
    sizeMs: options.sizeMs,
    slideMs: options.slideMs,
    offsetMs: options.offsetMs ?? 0,
    allowedLatenessMs: options.allowedLatenessMs ?? 0,
    aggregation: rowAggregation,
    ...outputs,
  });
  return { operator, clock, emitted, late, metrics };
}

/** Every window [start, start + size) with start = offset + k·slide that contains `time`, by brute force over k. */
function windowsContaining(time: number, size: number, slide: number, offset: number): Array<readonly [number, number]> {
  const windows: Array<readonly [number, number]> = [];
  const firstK = Math.floor((time - size - offset) / slide) - 1;
  for (let k = firstK; offset + k * slide <= time; k++) {
    const start = offset + k * slide;
    if (start <= time && time < start + size) windows.push([start, start + size]);
  }
  return windows;
}

const keys = ['north', 'south', 'east', 'west', 'centre'];

describe('SlidingWindowOperator', () => {
  const shapes = [
    { sizeMs: 1000, slideMs: 250, offsetMs: 0 },
    { sizeMs: 900, slideMs: 600, offsetMs: 100 }, // panes of gcd = 300 ms
    { sizeMs: 500, slideMs: 500, offsetMs: -50 }, // a tumbling window in disguise
    { sizeMs: 300, slideMs: 700, offsetMs: 0 }, // gaps between windows
  ];
  for (const shape of shapes) {
    it(`matches plain grouping per window (size ${shape.sizeMs}, slide ${shape.slideMs}, offset ${shape.offsetMs})`, () => {
      const events = outOfOrderEvents(shape.sizeMs + shape.slideMs, 3000, keys, { start: -20_000, step: 15, maxOutOfOrderness: 400 });
      const { operator, clock, emitted, late, metrics } = sliding(shape);
      run(operator, withWatermarks(events, 400, 3), clock);

      const members = new Map<string, { key: string; start: number; end: number; records: Event[] }>();
      for (const event of events) {
        for (const [start, end] of windowsContaining(event.time, shape.sizeMs, shape.slideMs, shape.offsetMs)) {
          const id = `${event.key}|${start}`;
          const group = members.get(id) ?? { key: event.key, start, end, records: [] };
          group.records.push(event);
          members.set(id, group);
        }
      }
      const expected = [...members.values()].map((group) => expectedRow(group.key, group.start, group.end, group.records));
      expect(sortRows(emitted.map((entry) => entry.row))).toEqual(sortRows(expected));
      let previousEnd = -Infinity;
      for (const { key, row, time, watermark } of emitted) {
        expect(key).toBe(row.key);
        expect(time).toBe(row.end - 1);
        expect(watermark).toBeGreaterThanOrEqual(row.end - 1);
        expect(row.end).toBeGreaterThanOrEqual(previousEnd);
        previousEnd = row.end;
      }
      expect(late).toEqual([]);
      expect(metrics.droppedCount).toBe(0);
      expect(operator.openPanes).toBe(0);
    });
  }

  it('follows Flink exactly on random late data: every row and update per window, every late record', () => {
    const events = outOfOrderEvents(11, 3000, keys.slice(0, 3), { start: 0, step: 10, maxOutOfOrderness: 1500 });
    const actions = withWatermarks(events, 100, 4);
    const { operator, clock, emitted, late } = sliding({ sizeMs: 600, slideMs: 200, offsetMs: 50, allowedLatenessMs: 400 });
    run(operator, actions, clock);
    const expected = referenceTimeWindows(actions, (time) => windowsContaining(time, 600, 200, 50), 400);
    expect(expected.late.length).toBeGreaterThan(50);
    const actual = rowsByWindow(emitted.map((entry) => entry.row));
    for (const { key, row } of emitted) expect(key).toBe(row.key);
    const wanted = rowsByWindow(expected.rows);
    expect([...actual.keys()].sort()).toEqual([...wanted.keys()].sort());
    for (const [window, rows] of wanted) expect(actual.get(window)).toEqual(rows);
    expect(late.map((event) => event.id)).toEqual(expected.late);
    expect(operator.openPanes).toBe(0);
  });

  it('pins a late record: it updates the windows that fired and are within lateness, and only those', () => {
    // size 30, slide 10: a record at 25 is in [0, 30), [10, 40), [20, 50).
    const { operator, clock, emitted, late } = sliding({ sizeMs: 30, slideMs: 10, allowedLatenessMs: 10 });
    const record = (id: number, time: number): Action => ({ kind: 'record', event: { id, key: 'k', time, amount: 1 } });
    run(operator, [
      record(1, 5),
      record(2, 25),
      // Fires the windows ending at 10, 20, 30, 40; frees those with end - 1 + 10 <= 39: [-20, 10), [-10, 20), [0, 30).
      { kind: 'watermark', watermark: 39 },
      record(3, 22), // [0, 30) is past lateness: skipped; [10, 40) fired: updated now; [20, 50) has not fired
      record(4, 2), // every window containing 2 ([-20,10), [-10,20), [0,30)) is past lateness: late
      { kind: 'watermark', watermark: Infinity },
    ], clock);
    const rows = (list: Row[]) => list.map((row) => `[${row.start},${row.end}) ${row.ids.join(',')}`);
    expect(rows(emitted.map((entry) => entry.row))).toEqual([
      '[-20,10) 1',
      '[-10,20) 1',
      '[0,30) 1,2',
      '[10,40) 2',
      '[10,40) 2,3', // the late update
      '[20,50) 2,3',
    ]);
    expect(late.map((event) => event.id)).toEqual([4]);
  });

  it('aggregates each record once, into one pane, however many windows it belongs to', () => {
    let adds = 0;
    const counting: typeof rowAggregation = { ...rowAggregation, add: (acc, record, time) => { adds++; rowAggregation.add(acc, record, time); } };
    const emitted: Row[] = [];
    const operator = new SlidingWindowOperator({
      id: 'trend', sizeMs: 3_600_000, slideMs: 60_000, offsetMs: 0, allowedLatenessMs: 0,
      aggregation: counting,
      emit: (_key, row) => emitted.push(row),
      metrics: new CountingMetrics(),
    });
    for (let id = 0; id < 1000; id++) operator.process('k', { id, key: 'k', time: id * 1000, amount: 1 }, id * 1000);
    operator.onWatermark(Infinity);
    expect(adds).toBe(1000);
    // One row per window holding a record: starts from -59 min (contains time 0) to 16 min (contains 999 s).
    expect(emitted.length).toBe(59 + 1 + 16);
    expect(emitted.reduce((most, row) => Math.max(most, row.count), 0)).toBe(1000);
  });
});
