// Tumbling windows against plain grouping, Flink's lateness rules, offsets, negative times and freed state.
import { describe, expect, it } from 'vitest';
import { TumblingWindowOperator } from '../../../runtime/windows/tumbling.ts';
import {
  expectedRow, floorStart, groupBy, outOfOrderEvents, referenceTimeWindows, rowAggregation, rowsByWindow, run, sortRows, windowOutputs, withWatermarks,
  type Action, type Event,
} from './harness.ts';

function tumbling(options: { sizeMs: number; offsetMs?: number; allowedLatenessMs?: number; withLateOutput?: boolean }) {
  const { clock, emitted, late, metrics, outputs } = windowOutputs();
  const operator = new TumblingWindowOperator({
    id: 'revenue',
    sizeMs: options.sizeMs,
    offsetMs: options.offsetMs ?? 0,
    allowedLatenessMs: options.allowedLatenessMs ?? 0,
    aggregation: rowAggregation,
    ...outputs,
    late: options.withLateOutput === false ? undefined : outputs.late,
  });
  return { operator, clock, emitted, late, metrics };
}

const keys = ['books', 'games', 'garden', 'music', 'shoes', 'toys', 'tools', 'food', 'sports', 'beauty'];

describe('TumblingWindowOperator', () => {
  for (const offset of [0, 250, -400]) {
    it(`matches plain grouping of out-of-order records (offset ${offset}, times crossing zero)`, () => {
      const events = outOfOrderEvents(42 + offset, 5000, keys, { start: -30_000, step: 20, maxOutOfOrderness: 300 });
      const { operator, clock, emitted, late, metrics } = tumbling({ sizeMs: 1000, offsetMs: offset });
      run(operator, withWatermarks(events, 300, 7), clock);

      const groups = groupBy(events, (event) => `${event.key}|${floorStart(event.time, offset, 1000)}`);
      const expected = [...groups.values()].map((records) => {
        const start = floorStart(records[0].time, offset, 1000);
        return expectedRow(records[0].key, start, start + 1000, records);
      });
      expect(sortRows(emitted.map((entry) => entry.row))).toEqual(sortRows(expected));
      expect(emitted.length).toBe(groups.size);
      for (const { key, row, time, watermark } of emitted) {
        expect(key).toBe(row.key);
        expect(time).toBe(row.end - 1);
        expect(watermark).toBeGreaterThanOrEqual(row.end - 1);
      }
      expect(late).toEqual([]);
      expect(metrics.droppedCount).toBe(0);
      expect(operator.openWindows).toBe(0);
    });
  }

  it('fires windows due on one watermark by end, then by the order keys arrived in the window', () => {
    const { operator, clock, emitted } = tumbling({ sizeMs: 10 });
    const events: Event[] = [
      { id: 0, key: 'b', time: 15, amount: 1 },
      { id: 1, key: 'a', time: 3, amount: 1 },
      { id: 2, key: 'c', time: 12, amount: 1 },
      { id: 3, key: 'a', time: 14, amount: 1 },
      { id: 4, key: 'c', time: 7, amount: 1 },
    ];
    run(operator, [...events.map((event): Action => ({ kind: 'record', event })), { kind: 'watermark', watermark: 100 }], clock);
    expect(emitted.map(({ row }) => `${row.start}:${row.key}`)).toEqual(['0:a', '0:c', '10:b', '10:c', '10:a']);
  });

  it('pins late data: on-time row, one updated row per late record, late output past the allowed lateness, freed state', () => {
    const { operator, clock, emitted, late, metrics } = tumbling({ sizeMs: 10, allowedLatenessMs: 5 });
    const record = (id: number, time: number, amount: number): Action => ({ kind: 'record', event: { id, key: 'k', time, amount } });
    const watermark = (value: number): Action => ({ kind: 'watermark', watermark: value });
    run(operator, [
      record(1, 2, 10),
      record(2, 8, 20),
      watermark(8), // not yet: the window [0, 10) fires at 9
      watermark(9), // fires [0, 10) with records 1, 2
      record(3, 5, 30), // late but within lateness (9 + 5 > 9): updated row
      watermark(13),
      record(4, 1, 40), // 9 + 5 > 13: still an update
      watermark(14), // 9 + 5 <= 14: window freed
      record(5, 9, 50), // late: to the late output
      record(6, 14, 60), // window [10, 20) is on time
      watermark(Infinity),
    ], clock);
    expect(emitted).toEqual([
      { key: 'k', row: expectedRow('k', 0, 10, [r(1, 2, 10), r(2, 8, 20)]), time: 9, watermark: 9 },
      { key: 'k', row: expectedRow('k', 0, 10, [r(1, 2, 10), r(2, 8, 20), r(3, 5, 30)]), time: 9, watermark: 9 },
      { key: 'k', row: expectedRow('k', 0, 10, [r(1, 2, 10), r(2, 8, 20), r(3, 5, 30), r(4, 1, 40)]), time: 9, watermark: 13 },
      { key: 'k', row: expectedRow('k', 10, 20, [r(6, 14, 60)]), time: 19, watermark: Infinity },
    ]);
    expect(late.map((event) => event.id)).toEqual([5]);
    expect(metrics.lateCount).toBe(1);
    expect(metrics.droppedCount).toBe(0);
    expect(operator.openWindows).toBe(0);
  });

  it('counts records past the allowed lateness as dropped when there is no late output', () => {
    const { operator, clock, emitted, metrics } = tumbling({ sizeMs: 10, allowedLatenessMs: 0, withLateOutput: false });
    run(operator, [
      { kind: 'record', event: r(1, 3, 1) },
      { kind: 'watermark', watermark: 9 },
      { kind: 'record', event: r(2, 9, 1) }, // 9 + 0 <= 9: late
      { kind: 'record', event: r(3, 0, 1) },
      { kind: 'record', event: r(4, 10, 1) },
    ], clock);
    expect(metrics.droppedCount).toBe(2);
    expect(metrics.lateCount).toBe(0);
    expect(emitted.map(({ row }) => row.ids)).toEqual([[1]]);
    expect(operator.openWindows).toBe(1);
  });

  it('opens a window for a late key after the window fired: its row comes at once, and again per record', () => {
    const { operator, clock, emitted } = tumbling({ sizeMs: 10, allowedLatenessMs: 100 });
    run(operator, [
      { kind: 'record', event: { id: 1, key: 'a', time: 1, amount: 1 } },
      { kind: 'watermark', watermark: 50 },
      { kind: 'record', event: { id: 2, key: 'b', time: 4, amount: 2 } },
      { kind: 'record', event: { id: 3, key: 'b', time: 6, amount: 3 } },
      { kind: 'watermark', watermark: 60 },
    ], clock);
    expect(emitted.map(({ key, row, time }) => [key, row.ids, time])).toEqual([['a', [1], 9], ['b', [2], 9], ['b', [2, 3], 9]]);
  });

  it('aligns windows with an offset and with negative and zero timestamps', () => {
    const { operator, clock, emitted } = tumbling({ sizeMs: 10, offsetMs: 3 });
    const times = [-11, -8, -7, -1, 0, 2, 3, 12, 13];
    run(operator, [...times.map((time, id): Action => ({ kind: 'record', event: { id, key: 'k', time, amount: 1 } })), { kind: 'watermark', watermark: Infinity }], clock);
    // windows [-17, -7), [-7, 3), [3, 13), [13, 23)
    expect(emitted.map(({ row }) => [row.start, row.end, row.ids])).toEqual([
      [-17, -7, [0, 1]],
      [-7, 3, [2, 3, 4, 5]],
      [3, 13, [6, 7]],
      [13, 23, [8]],
    ]);
  });

  it('follows Flink exactly on random late data: every row, every update, every late record', () => {
    // Records up to 2 s out of order against a 100 ms watermark bound: many are late, some past the lateness.
    const events = outOfOrderEvents(7, 4000, keys.slice(0, 4), { start: 0, step: 10, maxOutOfOrderness: 2000 });
    const actions = withWatermarks(events, 100, 5);
    const { operator, clock, emitted, late, metrics } = tumbling({ sizeMs: 500, offsetMs: 100, allowedLatenessMs: 700 });
    run(operator, actions, clock);
    const expected = referenceTimeWindows(actions, (time) => [[floorStart(time, 100, 500), floorStart(time, 100, 500) + 500]], 700);
    expect(expected.late.length).toBeGreaterThan(50);
    expect(emitted.map((entry) => entry.row)).toEqual(expected.rows);
    expect(emitted.map((entry) => entry.key)).toEqual(expected.rows.map((row) => row.key));
    expect(late.map((event) => event.id)).toEqual(expected.late);
    expect(metrics.lateCount).toBe(expected.late.length);
    expect(operator.openWindows).toBe(0);
  });

  it('takes records of unfired windows folded by another instance (pre-aggregation) with the same rows and late records', () => {
    const events = outOfOrderEvents(11, 4000, keys.slice(0, 4), { start: 0, step: 10, maxOutOfOrderness: 2000 });
    const actions = withWatermarks(events, 100, 5);
    const options = { sizeMs: 500, offsetMs: 100, allowedLatenessMs: 700 };
    const { operator, clock, emitted, late } = tumbling(options);
    // The sending worker's instance of the step: it sees the same watermarks, and folds the odd events it can.
    const sender = tumbling(options).operator;
    const folded = new Map<string, { key: string; start: number; acc: ReturnType<typeof rowAggregation.create> }>();
    let foldedEvents = 0;
    let firedEvents = 0;
    for (const action of actions) {
      if (action.kind === 'watermark') {
        // What was folded crosses before the watermark does.
        for (const { key, start, acc } of folded.values()) operator.mergePartial(key, start, sender.aggregation.save(acc));
        folded.clear();
        clock.watermark = action.watermark;
        operator.onWatermark(action.watermark);
        sender.onWatermark(action.watermark);
        continue;
      }
      const { event } = action;
      const start = sender.unfiredWindowOf(event.time);
      if (event.id % 2 === 1 && Number.isNaN(start)) firedEvents++;
      if (event.id % 2 === 0 || Number.isNaN(start)) {
        operator.process(event.key, event, event.time);
        continue;
      }
      let entry = folded.get(`${event.key}|${start}`);
      if (entry === undefined) folded.set(`${event.key}|${start}`, (entry = { key: event.key, start, acc: sender.aggregation.create(event.key) }));
      sender.aggregation.add(entry.acc, event, event.time);
      foldedEvents++;
    }
    const expected = referenceTimeWindows(actions, (time) => [[floorStart(time, 100, 500), floorStart(time, 100, 500) + 500]], 700);
    // Of the odd events, many were folded, and many came after their window fired and went as they are.
    expect(foldedEvents).toBeGreaterThan(400);
    expect(firedEvents).toBeGreaterThan(400);
    expect(expected.late.length).toBeGreaterThan(50);
    // Keys folded arrive in a window when they cross, so only the rows of each key and window keep their order.
    expect(rowsByWindow(emitted.map((entry) => entry.row))).toEqual(rowsByWindow(expected.rows));
    expect(late.map((event) => event.id)).toEqual(expected.late);
    expect(operator.openWindows).toBe(0);
  });

  it('refuses an accumulator folded for a window that fired', () => {
    const { operator } = tumbling({ sizeMs: 10, allowedLatenessMs: 100 });
    operator.process('a', { id: 0, key: 'a', time: 5, amount: 1 }, 5);
    operator.onWatermark(9);
    expect(operator.unfiredWindowOf(5)).toBeNaN();
    expect(operator.unfiredWindowOf(10)).toBe(10);
    expect(() => operator.mergePartial('a', 0, { count: 1, total: 1, ids: [1] })).toThrow(/fired already/);
  });

  it('rejects sizes that are not positive whole milliseconds', () => {
    expect(() => tumbling({ sizeMs: 0 })).toThrow(RangeError);
    expect(() => tumbling({ sizeMs: 1.5 })).toThrow(RangeError);
  });
});

function r(id: number, time: number, amount: number): Event {
  return { id, key: 'k', time, amount };
}
