// The dedupe operator: which records are kept per key within a span of event time, and when its state is freed.
import { describe, expect, it } from 'vitest';
import { DedupeOperator } from '../../../runtime/operators/dedupe.ts';
import { outOfOrderEvents } from '../windows/harness.ts';

describe('DedupeOperator', () => {
  it('keeps one record per `within` for a stream of repeats every within/2', () => {
    const dedupe = new DedupeOperator({ id: 'dedupe', withinMs: 10 });
    const kept = [0, 5, 10, 15, 20, 25, 30].filter((time) => dedupe.isFirst('k', time));
    expect(kept).toEqual([0, 10, 20, 30]);
  });

  it('judges against kept records on both sides, so an out-of-order record just before a kept one is a repeat', () => {
    const dedupe = new DedupeOperator({ id: 'dedupe', withinMs: 10 });
    expect(dedupe.isFirst('k', 100)).toBe(true);
    expect(dedupe.isFirst('k', 91)).toBe(false);
    expect(dedupe.isFirst('k', 90)).toBe(true);
    expect(dedupe.isFirst('k', 109)).toBe(false);
    expect(dedupe.isFirst('k', 110)).toBe(true);
    expect(dedupe.isFirst('other', 100)).toBe(true);
  });

  it('agrees with the definition on random out-of-order records under a bounded watermark, and frees its state', () => {
    const events = outOfOrderEvents(21, 5000, ['a', 'b', 'c', 'd'], { start: 0, step: 3, maxOutOfOrderness: 40 });
    const dedupe = new DedupeOperator({ id: 'dedupe', withinMs: 25 });
    const actual: number[] = [];
    let maxTime = -Infinity;
    events.forEach((event, index) => {
      if (dedupe.isFirst(event.key, event.time)) actual.push(event.id);
      maxTime = Math.max(maxTime, event.time);
      if (index % 5 === 4) dedupe.onWatermark(maxTime - 40 - 1);
    });
    // The definition, with no state ever forgotten: a record is kept unless a kept record of its key is < 25 ms away.
    const keptTimes = new Map<string, number[]>();
    const expected: number[] = [];
    for (const event of events) {
      const times = keptTimes.get(event.key) ?? [];
      if (times.some((time) => Math.abs(time - event.time) < 25)) continue;
      times.push(event.time);
      keptTimes.set(event.key, times);
      expected.push(event.id);
    }
    expect(actual).toEqual(expected);
    expect(actual.length).toBeLessThan(events.length);
    dedupe.onWatermark(Infinity);
    expect(dedupe.keys).toBe(0);
  });

  it('keeps keys of different types apart: 1, \'1\' and true are three keys', () => {
    const dedupe = new DedupeOperator({ id: 'dedupe', withinMs: 10 });
    expect(dedupe.isFirst(1, 100)).toBe(true);
    expect(dedupe.isFirst('1', 101)).toBe(true);
    expect(dedupe.isFirst(true, 102)).toBe(true);
    expect(dedupe.isFirst(1, 105)).toBe(false);
    expect(dedupe.isFirst('1', 105)).toBe(false);
    expect(dedupe.keys).toBe(3);
    dedupe.onWatermark(110); // forgets 1's kept time only
    expect(dedupe.keys).toBe(2);
    expect(dedupe.isFirst(1, 106)).toBe(true);
    expect(dedupe.isFirst('1', 106)).toBe(false);
    dedupe.onWatermark(Infinity);
    expect(dedupe.keys).toBe(0);
  });

  it('forgets a kept time when the watermark reaches it + within', () => {
    const dedupe = new DedupeOperator({ id: 'dedupe', withinMs: 10 });
    dedupe.isFirst('k', 100);
    dedupe.onWatermark(109);
    expect(dedupe.keys).toBe(1);
    expect(dedupe.isFirst('k', 105)).toBe(false);
    dedupe.onWatermark(110);
    expect(dedupe.keys).toBe(0);
    // A record behind the watermark is judged only against what is still kept.
    expect(dedupe.isFirst('k', 105)).toBe(true);
  });
});
