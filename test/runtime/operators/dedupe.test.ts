// The dedupe operator: which records are kept per key within a span of event time, when its state is freed, and its checkpoints.
import { describe, expect, it } from 'vitest';
import { DedupeOperator } from '../../../runtime/operators/dedupe.ts';
import { expectExactlyOnce, StateModel, type Output, type Subject } from '../windows/checkpointing.ts';
import { outOfOrderEvents, withWatermarks, type Action } from '../windows/harness.ts';

/** A dedupe under test: puts out the ids of the records it keeps. */
function dedupeSubject(emit: (output: Output) => void): Subject {
  const dedupe = new DedupeOperator({ id: 'dedupe', withinMs: 25 });
  return {
    state: dedupe.state,
    apply(action: Action): void {
      if (action.kind === 'watermark') dedupe.onWatermark(action.watermark);
      else if (dedupe.isFirst(action.event.key, action.event.time)) emit({ key: action.event.key, value: action.event.id });
    },
  };
}

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

  it('restored from checkpoints (incremental or full, at other parallelisms) keeps what an uninterrupted run keeps', () => {
    // Records up to 60 ms out of order under a watermark 10 ms behind: many records come after their kept time was forgotten.
    const events = outOfOrderEvents(23, 3000, ['a', 'b', 'c', 'd', 'e', 'f'], { start: 0, step: 3, maxOutOfOrderness: 60 });
    const { uninterrupted, incremental } = expectExactlyOnce(dedupeSubject, withWatermarks(events, 10, 5), 500);
    expect(uninterrupted.length).toBeLessThan(events.length);
    // Every kept time was forgotten at the end, its key's row deleted.
    expect(incremental.heldRows).toBe(0);
  });

  it('keeps a row per key with its kept times; writes only keys that changed, deletes keys it forgot', () => {
    const dedupe = new DedupeOperator({ id: 'dedupe', uid: 'unique-orders', withinMs: 10 });
    expect(dedupe.state.uid).toBe('unique-orders');
    const model = new StateModel();
    const rows = () => [...model.rows.values()].map(({ key, namespace, value }) => [key, namespace, value]);
    dedupe.isFirst('a', 100);
    dedupe.isFirst(7, 100);
    dedupe.state.snapshot(model, false);
    expect(rows()).toEqual([['a', '', [100]], [7, '', [100]]]);
    dedupe.isFirst('a', 105); // a repeat: nothing changes
    dedupe.isFirst('a', 120);
    dedupe.state.snapshot(model, false);
    expect(model.puts).toBe(3);
    expect(rows()).toEqual([['a', '', [100, 120]], [7, '', [100]]]);
    dedupe.onWatermark(110); // forgets both times 100
    dedupe.state.snapshot(model, false);
    expect(rows()).toEqual([['a', '', [120]]]);
    expect(model.deletes).toBe(1);
    expect(dedupe.state.size).toBe(1);

    const restored = new DedupeOperator({ id: 'dedupe', withinMs: 10 });
    for (const { key, namespace, value } of model.rows.values()) restored.state.restoreRow(key, namespace, value);
    restored.state.restored(110);
    expect(restored.isFirst('a', 125)).toBe(false);
    restored.onWatermark(130); // 120 + 10: forgotten, as by the operator it was restored from
    expect(restored.isFirst('a', 125)).toBe(true);
  });
});
