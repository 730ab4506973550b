// Session windows against sessions found by sorting, merging that bridges sessions, and Flink's lateness rules.
import { describe, expect, it } from 'vitest';
import { SessionWindowOperator } from '../../../runtime/windows/session.ts';
import {
  expectedRow, groupBy, outOfOrderEvents, rowAggregation, run, sortRows, windowOutputs, withWatermarks,
  type Action, type Emitted, type Event, type Row,
} from './harness.ts';

function sessions(gapMs: number, allowedLatenessMs: number) {
  const { clock, emitted, late, metrics, outputs } = windowOutputs();
  const operator = new SessionWindowOperator({ id: 'visits', gapMs, allowedLatenessMs, aggregation: rowAggregation, ...outputs });
  return { operator, clock, emitted, late, metrics };
}

/** Sessions of one key the plain way: sort by time; a record within the gap of the session so far (end inclusive, as Flink's intersects) joins it. */
function sessionsBySorting(records: readonly Event[], gap: number): Row[] {
  const sorted = [...records].sort((a, b) => a.time - b.time);
  const rows: Row[] = [];
  let current: Event[] = [];
  let start = NaN;
  let end = NaN;
  for (const record of sorted) {
    if (current.length > 0 && record.time <= end) {
      current.push(record);
      end = Math.max(end, record.time + gap);
      continue;
    }
    if (current.length > 0) rows.push(expectedRow(record.key, start, end, current));
    current = [record];
    start = record.time;
    end = record.time + gap;
  }
  if (current.length > 0) rows.push(expectedRow(current[0].key, start, end, current));
  return rows;
}

const record = (id: number, time: number, key = 'u'): Action => ({ kind: 'record', event: { id, key, time, amount: 1 } });
const watermark = (value: number): Action => ({ kind: 'watermark', watermark: value });
const describeRows = (emitted: readonly Emitted[]) => emitted.map(({ row, time }) => `[${row.start},${row.end}) ${row.ids.join(',')} @${time}`);

describe('SessionWindowOperator', () => {
  it('matches sessions found by sorting each key\'s out-of-order records', () => {
    const events = outOfOrderEvents(5, 4000, ['ann', 'bob', 'cat', 'dan', 'eve', 'fay'], { start: -10_000, step: 40, maxOutOfOrderness: 300 });
    const { operator, clock, emitted, late, metrics } = sessions(150, 10);
    run(operator, withWatermarks(events, 300, 3), clock);

    const expected = [...groupBy(events, (event) => event.key).values()].flatMap((records) => sessionsBySorting(records, 150));
    expect(expected.length).toBeGreaterThan(100);
    // A record exactly at a fired session's end (one past the watermark) still merges into it and refires it, so a
    // session may come out more than once; its last row is the whole session, earlier rows are part of it.
    const last = new Map<string, Row>();
    for (const { row } of emitted) last.set(`${row.key}|${row.start}`, row);
    expect(sortRows([...last.values()])).toEqual(sortRows(expected));
    for (const { key, row, time, watermark } of emitted) {
      expect(key).toBe(row.key);
      const final = last.get(`${row.key}|${row.start}`)!;
      expect(row.ids.every((id) => final.ids.includes(id))).toBe(true);
      expect(time).toBe(row.end - 1);
      expect(watermark).toBeGreaterThanOrEqual(row.end - 1);
    }
    expect(late).toEqual([]);
    expect(metrics.droppedCount).toBe(0);
    expect(operator.openSessions).toBe(0);
  });

  it('merges two sessions when a record bridges them, merging their accumulators', () => {
    const { operator, clock, emitted } = sessions(10, 0);
    run(operator, [record(1, 0), record(2, 5), record(3, 22), watermark(100)], clock);
    expect(describeRows(emitted)).toEqual(['[0,15) 1,2 @14', '[22,32) 3 @31']);

    const bridged = sessions(10, 0);
    run(bridged.operator, [record(1, 0), record(2, 5), record(3, 22), record(4, 14), watermark(100)], bridged.clock);
    // 14 opens [14, 24), which overlaps [0, 15) and [22, 32): all become one session [0, 32).
    expect(describeRows(bridged.emitted)).toEqual(['[0,32) 1,2,3,4 @31']);
    expect(bridged.operator.openSessions).toBe(0);
  });

  it('merges sessions that only touch (Flink\'s intersects includes the end)', () => {
    const { operator, clock, emitted } = sessions(10, 0);
    run(operator, [record(1, 0), record(2, 10), record(3, 21), watermark(100)], clock);
    expect(describeRows(emitted)).toEqual(['[0,20) 1,2 @19', '[21,31) 3 @30']);
  });

  it('keeps keys apart and fires sessions due on one watermark by end', () => {
    const { operator, clock, emitted } = sessions(10, 0);
    run(operator, [record(1, 5, 'b'), record(2, 0, 'a'), record(3, 3, 'a'), record(4, 1, 'c'), watermark(50)], clock);
    expect(emitted.map(({ row }) => `${row.key}[${row.start},${row.end})`)).toEqual(['c[1,11)', 'a[0,13)', 'b[5,15)']);
  });

  it('fires by end also when a session grew after its timer was set', () => {
    const { operator, clock, emitted } = sessions(10, 0);
    run(operator, [record(1, 0, 'a'), record(2, 5, 'b'), record(3, 8, 'a'), record(4, 17, 'a'), watermark(100)], clock);
    expect(emitted.map(({ row }) => `${row.key}[${row.start},${row.end})`)).toEqual(['b[5,15)', 'a[0,27)']);
  });

  it('pins late data: an update that grows a fired session refires it, a record past lateness goes to the late output', () => {
    const { operator, clock, emitted, late, metrics } = sessions(10, 20);
    run(operator, [
      record(1, 0),
      record(2, 4), // [0, 14)
      watermark(13), // fires [0, 14)
      record(3, 2), // inside a fired session: updated row at once
      record(4, 12), // grows it to [0, 22): 21 > 13, so it fires again when the watermark reaches 21
      watermark(21),
      record(5, 30), // a new session [30, 40), on time
      watermark(41), // fires [30, 40); [0, 22) is kept until 21 + 20 = 41: freed now
      record(6, 10), // [10, 20) touches nothing live and 19 + 20 <= 41: late
      record(7, 30), // inside [30, 40), fired and live: updated row at once
      record(8, 35), // grows it to [30, 45), ahead of the watermark: fires again when the watermark gets there
      watermark(Infinity),
    ], clock);
    expect(describeRows(emitted)).toEqual([
      '[0,14) 1,2 @13',
      '[0,14) 1,2,3 @13',
      '[0,22) 1,2,3,4 @21',
      '[30,40) 5 @39',
      '[30,40) 5,7 @39',
      '[30,45) 5,7,8 @44',
    ]);
    expect(late.map((event) => event.id)).toEqual([6]);
    expect(metrics.lateCount).toBe(1);
    expect(operator.openSessions).toBe(0);
  });

  it('lets a record whose own window is past lateness join a live session it overlaps, as Flink merges before judging lateness', () => {
    const { operator, clock, emitted, late } = sessions(10, 5);
    run(operator, [
      record(1, 100),
      watermark(108),
      record(2, 92), // [92, 102) alone would be late (101 + 5 <= 108) but it overlaps [100, 110): merged, not late
      watermark(Infinity),
    ], clock);
    expect(describeRows(emitted)).toEqual(['[92,110) 1,2 @109']);
    expect(late).toEqual([]);
  });

  it('refires at once a session merged with a record behind the watermark', () => {
    const { operator, clock, emitted } = sessions(10, 100);
    run(operator, [record(1, 0), record(2, 15), watermark(50), record(3, 10), watermark(60)], clock);
    // [10, 20) bridges [0, 10) and [15, 25), both fired: the merged [0, 25) fires at once.
    expect(describeRows(emitted)).toEqual(['[0,10) 1 @9', '[15,25) 2 @24', '[0,25) 1,2,3 @24']);
    expect(operator.openSessions).toBe(1);
  });
});
