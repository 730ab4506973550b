// Typed keys through every window operator: accumulators are created from the key, emit and late carry it, and keys of different types stay apart.
import { describe, expect, it } from 'vitest';
import type { Key } from '../../../runtime/api.ts';
import type { WindowAggregation } from '../../../runtime/windows/aggregation.ts';
import { GlobalWindowOperator } from '../../../runtime/windows/global.ts';
import type { WindowOperatorOptions } from '../../../runtime/windows/lateness.ts';
import { SessionWindowOperator } from '../../../runtime/windows/session.ts';
import { SlidingWindowOperator } from '../../../runtime/windows/sliding.ts';
import { TumblingWindowOperator } from '../../../runtime/windows/tumbling.ts';
import { CountingMetrics } from './harness.ts';

/** A record is just its id; a row is the key its accumulator was created for and the ids added to it. */
interface KeyedIds {
  key: Key;
  ids: number[];
}

/** The common options of all four operators (as generated code passes them), recording what comes out. */
function commonOptions() {
  const created: Key[] = [];
  const emitted: Array<{ key: Key; row: KeyedIds; time: number }> = [];
  const late: Array<{ key: Key; id: number; time: number }> = [];
  const aggregation: WindowAggregation<Key, number, KeyedIds, KeyedIds> = {
    create(key) {
      created.push(key);
      return { key, ids: [] };
    },
    add(acc, id) {
      acc.ids.push(id);
    },
    merge(into, from) {
      into.ids.push(...from.ids);
    },
    result: (acc) => ({ key: acc.key, ids: [...acc.ids].sort((a, b) => a - b) }),
    save: (acc) => ({ ids: [...acc.ids] }),
    load: (key, saved) => ({ key, ids: [...(saved as { ids?: number[] }).ids ?? []] }),
  };
  const metrics = new CountingMetrics();
  const options: WindowOperatorOptions<Key, number, KeyedIds, KeyedIds> = {
    id: 'step',
    allowedLatenessMs: 0,
    aggregation,
    emit: (key, row, time) => emitted.push({ key, row, time }),
    late: (key, id, time) => late.push({ key, id, time }),
    metrics,
  };
  return { options, created, emitted, late, metrics };
}

/** Records 1..4 of keys 1, '1', true and 1 again, all at time 5. */
function feed(operator: { process(key: Key, record: number, time: number): void }): void {
  operator.process(1, 1, 5);
  operator.process('1', 2, 5);
  operator.process(true, 3, 5);
  operator.process(1, 4, 5);
}

/** Emitted rows as [key, its type, ids]: the type tells 1 from '1'. */
function describeEmitted(emitted: ReadonlyArray<{ key: Key; row: KeyedIds }>): Array<[Key, string, number[]]> {
  return emitted.map(({ key, row }) => {
    expect(row.key).toBe(key);
    return [key, typeof key, row.ids];
  });
}

const threeKeys: Array<[Key, string, number[]]> = [[1, 'number', [1, 4]], ['1', 'string', [2]], [true, 'boolean', [3]]];

describe('window operators with typed keys', () => {
  it('tumbling: one accumulator per key created from the key, every record added, the key emitted and passed to late', () => {
    const { options, created, emitted, late, metrics } = commonOptions();
    const operator = new TumblingWindowOperator({ ...options, sizeMs: 10, offsetMs: 0 });
    feed(operator);
    operator.onWatermark(9);
    operator.process(1, 5, 3); // its window [0, 10) is past lateness: late, with its key
    expect(created).toEqual([1, '1', true]);
    expect(describeEmitted(emitted)).toEqual(threeKeys);
    expect(emitted.map(({ time }) => time)).toEqual([9, 9, 9]);
    expect(late).toEqual([{ key: 1, id: 5, time: 3 }]);
    expect(metrics.lateCount).toBe(1);
  });

  it('sliding: panes and windows create their accumulators from the key', () => {
    const { options, created, emitted } = commonOptions();
    const operator = new SlidingWindowOperator({ ...options, sizeMs: 10, slideMs: 5, offsetMs: 0 });
    feed(operator);
    operator.onWatermark(Infinity);
    // Time 5 is in [0, 10) and [5, 15), both made of the pane [5, 10).
    expect(describeEmitted(emitted)).toEqual([...threeKeys, ...threeKeys]);
    expect(emitted.map(({ time }) => time)).toEqual([9, 9, 9, 14, 14, 14]);
    // One accumulator per key in the pane, then one per key and window.
    expect(created).toEqual([1, '1', true, 1, '1', true, 1, '1', true]);
  });

  it('session: sessions per typed key, fired with their key by timers', () => {
    const { options, created, emitted } = commonOptions();
    const operator = new SessionWindowOperator({ ...options, gapMs: 10 });
    feed(operator);
    operator.onWatermark(Infinity);
    expect(created).toEqual([1, '1', true]);
    expect(describeEmitted(emitted)).toEqual(threeKeys);
    expect(emitted.map(({ time }) => time)).toEqual([14, 14, 14]);
    expect(operator.openSessions).toBe(0);
  });

  it('global: takes the common options (no lateness), creates from the key, also with an evictor', () => {
    const plain = commonOptions();
    const latest = new GlobalWindowOperator({ ...plain.options, trigger: { kind: 'event_time' } });
    feed(latest);
    latest.onWatermark(Infinity);
    expect(plain.created).toEqual([1, '1', true]);
    expect(describeEmitted(plain.emitted)).toEqual(threeKeys);

    const evicting = commonOptions();
    const operator = new GlobalWindowOperator({ ...evicting.options, trigger: { kind: 'count', count: 2 }, evictor: { kind: 'count', count: 1 } });
    feed(operator);
    // Key 1 fires on its second record and aggregates only it, in an accumulator created from the key at the firing.
    expect(evicting.created).toEqual([1]);
    expect(describeEmitted(evicting.emitted)).toEqual([[1, 'number', [4]]]);
    expect(evicting.late).toEqual([]);
    expect(evicting.metrics.lateCount + evicting.metrics.droppedCount).toBe(0);
  });
});
