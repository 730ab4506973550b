// Global windows: count, processing-time and event-time triggers, with and without count and time evictors.
import { describe, expect, it } from 'vitest';
import { GlobalWindowOperator, type GlobalEvictor, type GlobalTrigger } from '../../../runtime/windows/global.ts';
import { CountingMetrics, expectedRow, outOfOrderEvents, rowAggregation, type Event, type Row } from './harness.ts';

/** A key's row as a global window emitted it, with the time it was emitted at. */
interface Firing {
  readonly key: string;
  readonly row: Row;
  readonly time: number;
}

function globalWindow(trigger: GlobalTrigger, evictor?: GlobalEvictor) {
  const emitted: Firing[] = [];
  const metrics = new CountingMetrics();
  const operator = new GlobalWindowOperator({
    id: 'rolling',
    trigger,
    evictor,
    allowedLatenessMs: 0,
    aggregation: rowAggregation,
    emit: (key, row, time) => emitted.push({ key, row, time }),
    late: () => {
      throw new Error('a global window has no late records');
    },
    metrics,
  });
  return { operator, emitted, metrics };
}

/** What a global window firing should emit for these records of one key: window bounds are min and max + 1 of their times. */
function rowOf(records: readonly Event[]): Firing {
  const times = records.map((record) => record.time);
  const max = Math.max(...times);
  return { key: records[0].key, row: expectedRow(records[0].key, Math.min(...times), max + 1, records), time: max };
}

/** What a count trigger should emit, found by counting: at every `count`-th record of a key, a row of the records the evictor `keeps` of all the key's records so far. */
function countFirings(events: readonly Event[], count: number, keeps: (records: readonly Event[]) => readonly Event[]): Firing[] {
  const firings: Firing[] = [];
  const seen = new Map<string, Event[]>();
  for (const event of events) {
    const records = seen.get(event.key) ?? [];
    records.push(event);
    seen.set(event.key, records);
    if (records.length % count === 0) firings.push(rowOf(keeps(records)));
  }
  return firings;
}

const keys = ['x', 'y', 'z'];

describe('GlobalWindowOperator', () => {
  it('count trigger without evictor: every N-th record of a key, a row of all its records so far (no purge)', () => {
    const events = outOfOrderEvents(3, 500, keys, { start: 0, step: 5, maxOutOfOrderness: 50 });
    const { operator, emitted } = globalWindow({ kind: 'count', count: 4 });
    for (const event of events) operator.process(event.key, event, event.time);
    operator.onWatermark(Infinity);

    expect(emitted).toEqual(countFirings(events, 4, (records) => records));
  });

  it('count trigger with a count evictor: the last N records (Flink\'s countWindow(size, slide))', () => {
    const events = outOfOrderEvents(4, 300, keys, { start: 0, step: 5, maxOutOfOrderness: 50 });
    const { operator, emitted } = globalWindow({ kind: 'count', count: 2 }, { kind: 'count', count: 5 });
    for (const event of events) operator.process(event.key, event, event.time);

    expect(emitted).toEqual(countFirings(events, 2, (records) => records.slice(-5)));
  });

  it('count trigger with a time evictor: the records within the span of the latest time, (latest - span, latest]', () => {
    const events = outOfOrderEvents(5, 400, keys, { start: 1000, step: 7, maxOutOfOrderness: 80 });
    const { operator, emitted } = globalWindow({ kind: 'count', count: 3 }, { kind: 'time', spanMs: 100 });
    for (const event of events) operator.process(event.key, event, event.time);

    expect(emitted).toEqual(countFirings(events, 3, (records) => {
      const latest = Math.max(...records.map((record) => record.time));
      return records.filter((record) => record.time > latest - 100);
    }));
  });

  it('event_time trigger: fires a key when the watermark reaches its latest time, at once for records behind it', () => {
    const { operator, emitted } = globalWindow({ kind: 'event_time' });
    const event = (id: number, key: string, time: number): Event => ({ id, key, time, amount: 1 });
    operator.process('a', event(1, 'a', 10), 10);
    operator.process('b', event(2, 'b', 5), 5);
    operator.process('a', event(3, 'a', 20), 20); // moves a's firing from 10 to 20
    operator.onWatermark(9);
    operator.onWatermark(15); // b fires (5); a waits for 20
    operator.process('b', event(4, 'b', 12), 12); // behind the watermark: fires b at once
    operator.onWatermark(25); // a fires
    operator.onWatermark(30); // nothing new
    expect(emitted.map(({ row, time }) => `${row.key} ${row.ids.join(',')} [${row.start},${row.end}) @${time}`)).toEqual([
      'b 2 [5,6) @5',
      'b 2,4 [5,13) @12',
      'a 1,3 [10,21) @20',
    ]);
  });

  it('event_time trigger: keys due on one watermark fire by their latest time', () => {
    const { operator, emitted } = globalWindow({ kind: 'event_time' });
    operator.process('a', { id: 1, key: 'a', time: 10, amount: 1 }, 10);
    operator.process('b', { id: 2, key: 'b', time: 15, amount: 1 }, 15);
    operator.process('a', { id: 3, key: 'a', time: 20, amount: 1 }, 20);
    operator.onWatermark(100);
    expect(emitted.map(({ row, time }) => `${row.key}@${time}`)).toEqual(['b@15', 'a@20']);
  });

  it('every trigger: fires every key with state at each multiple of the interval of processing time', () => {
    const { operator, emitted } = globalWindow({ kind: 'every', intervalMs: 1000 });
    const event = (id: number, key: string, time: number): Event => ({ id, key, time, amount: 1 });
    operator.onProcessingTime(10_250); // sets the schedule: next firing at 11 000
    operator.process('a', event(1, 'a', 100), 100);
    operator.process('b', event(2, 'b', 300), 300);
    operator.onProcessingTime(10_999);
    expect(emitted).toEqual([]);
    operator.onProcessingTime(11_000);
    operator.process('a', event(3, 'a', 50), 50);
    operator.onProcessingTime(11_500);
    operator.onProcessingTime(14_200); // several intervals passed: fires once, next at 15 000
    operator.onProcessingTime(14_999);
    expect(emitted.map(({ row, time }) => `${row.key} ${row.ids.join(',')} @${time}`)).toEqual([
      'a 1 @100', 'b 2 @300',
      'a 1,3 @100', 'b 2 @300',
    ]);
  });

  it('every trigger with a count evictor: the last N arrivals at the firing', () => {
    const { operator, emitted } = globalWindow({ kind: 'every', intervalMs: 1000 }, { kind: 'count', count: 3 });
    for (let id = 0; id < 10_000; id++) operator.process('k', { id, key: 'k', time: id, amount: 1 }, id);
    operator.onProcessingTime(0);
    operator.onProcessingTime(1000);
    expect(emitted.map(({ row }) => row.ids)).toEqual([[9997, 9998, 9999]]);
  });
});
