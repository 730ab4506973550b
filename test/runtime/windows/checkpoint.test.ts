// Window operators through checkpoints: restored after crashes, at other parallelisms, from incremental or full snapshots, they go on as if never stopped.
import { describe, expect, it } from 'vitest';
import type { Key, OperatorState } from '../../../runtime/api.ts';
import type { WindowAggregation } from '../../../runtime/windows/aggregation.ts';
import { GlobalWindowOperator, type GlobalEvictor, type GlobalTrigger } from '../../../runtime/windows/global.ts';
import { SessionWindowOperator } from '../../../runtime/windows/session.ts';
import { SlidingWindowOperator } from '../../../runtime/windows/sliding.ts';
import { TumblingWindowOperator } from '../../../runtime/windows/tumbling.ts';
import { expectExactlyOnce, StateModel, type Output, type Subject } from './checkpointing.ts';
import { CountingMetrics, outOfOrderEvents, rowAggregation, withWatermarks, type Action, type Event, type KeyedOperator, type Row } from './harness.ts';

type Emit = (output: Output) => void;

/** The outputs of a window operator under test: rows with their time, and late records by id. */
function windowCallbacks(emit: Emit) {
  return {
    emit: (key: string, row: Row, time: number): void => emit({ key, value: { row, time } }),
    late: (key: string, record: Event): void => emit({ key, value: { late: record.id } }),
    metrics: new CountingMetrics(),
  };
}

function keyedSubject(operator: KeyedOperator & { readonly state: OperatorState }): Subject {
  return {
    state: operator.state,
    apply(action: Action): void {
      if (action.kind === 'record') operator.process(action.event.key, action.event, action.event.time);
      else operator.onWatermark(action.watermark);
    },
  };
}

/** The test aggregation with unmerge, so that sliding windows keep running accumulators (integer totals: exact). */
const unmergingAggregation: typeof rowAggregation = {
  ...rowAggregation,
  unmerge(into, from) {
    into.count -= from.count;
    into.total -= from.total;
    for (const id of from.ids) into.ids.splice(into.ids.indexOf(id), 1);
  },
};

const keys = ['books', 'games', 'garden', 'music', 'shoes', 'toys', 'tools', 'food', 'sports', 'beauty', 'films', 'maps'];

/**
 * Records up to 1.5 s out of order under a watermark 100 ms behind the latest time, after every 4 records: many
 * records are late, some within the allowed lateness (updates), some past it. Times are multiples of `grainMs`:
 * coarse times make windows and timers of different keys due at the same time, where the order they fire in shows.
 */
function lateActions(seed: number, step: number, grainMs = 1): Action[] {
  const events = outOfOrderEvents(seed, 3000, keys, { start: -5000, step, maxOutOfOrderness: 1500 });
  return withWatermarks(events.map((event) => ({ ...event, time: Math.floor(event.time / grainMs) * grainMs })), 100, 4);
}

/** Output that is a late record, and output that is a row updated after its window fired. */
function lateness(outputs: readonly Output[]): { late: number; updates: number } {
  let late = 0;
  const rows = new Set<string>();
  let updates = 0;
  for (const { key, value } of outputs) {
    if ('late' in (value as object)) late++;
    else {
      const { row } = value as { row: Row };
      const window = `${key}|${row.start}|${row.end}`;
      if (rows.has(window)) updates++;
      rows.add(window);
    }
  }
  return { late, updates };
}

describe('window operators restored from checkpoints', () => {
  for (const shape of [
    { sizeMs: 1000, offsetMs: 0, allowedLatenessMs: 0 },
    { sizeMs: 1000, offsetMs: 250, allowedLatenessMs: 700 },
  ]) {
    it(`tumbling (size ${shape.sizeMs}, offset ${shape.offsetMs}, lateness ${shape.allowedLatenessMs}): as if never stopped`, () => {
      const create = (emit: Emit) => keyedSubject(new TumblingWindowOperator({ id: 'revenue', ...shape, aggregation: rowAggregation, ...windowCallbacks(emit) }));
      const { uninterrupted, incremental } = expectExactlyOnce(create, lateActions(11 + shape.offsetMs, 10), 100);
      const { late, updates } = lateness(uninterrupted);
      expect(late).toBeGreaterThan(20);
      if (shape.allowedLatenessMs > 0) expect(updates).toBeGreaterThan(20);
      // Every window was freed at the end, its rows deleted.
      expect(incremental.heldRows).toBe(0);
    });
  }

  for (const shape of [
    { sizeMs: 1000, slideMs: 250, offsetMs: 0, allowedLatenessMs: 300 },
    { sizeMs: 900, slideMs: 600, offsetMs: 100, allowedLatenessMs: 700 },
    { sizeMs: 300, slideMs: 700, offsetMs: 0, allowedLatenessMs: 300 },
  ]) {
    for (const [kind, aggregation] of [['merging panes', rowAggregation], ['running accumulators', unmergingAggregation]] as const) {
      const name = `size ${shape.sizeMs}, slide ${shape.slideMs}, offset ${shape.offsetMs}, lateness ${shape.allowedLatenessMs}`;
      it(`sliding with ${kind} (${name}): as if never stopped`, () => {
        const create = (emit: Emit) => keyedSubject(new SlidingWindowOperator({ id: 'trend', ...shape, aggregation, ...windowCallbacks(emit) }));
        const { uninterrupted, incremental } = expectExactlyOnce(create, lateActions(shape.sizeMs + shape.slideMs, 10), 200);
        const { late, updates } = lateness(uninterrupted);
        expect(late).toBeGreaterThan(20);
        expect(updates).toBeGreaterThan(20);
        expect(incremental.heldRows).toBe(0);
      });
    }
  }

  for (const [allowedLatenessMs, grainMs] of [[0, 1], [400, 1], [400, 50]]) {
    it(`session (gap 300, lateness ${allowedLatenessMs}, times in steps of ${grainMs} ms): as if never stopped`, () => {
      const create = (emit: Emit) => keyedSubject(new SessionWindowOperator({ id: 'visits', gapMs: 300, allowedLatenessMs, aggregation: rowAggregation, ...windowCallbacks(emit) }));
      // A record per key every 480 ms on average: sessions of a few records, which late records bridge and merge.
      const { uninterrupted, incremental } = expectExactlyOnce(create, lateActions(300 + allowedLatenessMs, 40, grainMs), 300);
      expect(lateness(uninterrupted).late).toBeGreaterThan(20);
      expect(incremental.heldRows).toBe(0);
    });
  }

  const globals: Array<{ trigger: GlobalTrigger; evictor?: GlobalEvictor }> = [
    { trigger: { kind: 'count', count: 3 } },
    { trigger: { kind: 'count', count: 2 }, evictor: { kind: 'count', count: 4 } },
    { trigger: { kind: 'count', count: 3 }, evictor: { kind: 'time', spanMs: 200 } },
    { trigger: { kind: 'event_time' } },
    { trigger: { kind: 'event_time' }, evictor: { kind: 'count', count: 3 } },
  ];
  for (const { trigger, evictor } of globals) {
    it(`global (trigger ${JSON.stringify(trigger)}, evictor ${JSON.stringify(evictor ?? null)}): as if never stopped`, () => {
      const create = (emit: Emit) => keyedSubject(new GlobalWindowOperator({ id: 'rolling', trigger, evictor, allowedLatenessMs: 0, aggregation: rowAggregation, ...windowCallbacks(emit) }));
      const { incremental } = expectExactlyOnce(create, lateActions(7, 10, 50), 400);
      // Keys live as long as the job: a row per key.
      expect(incremental.heldRows).toBe(keys.length);
    });
  }
});

describe('checkpoint rows of window operators', () => {
  const record = (id: number, key: string, time: number): Event => ({ id, key, time, amount: id * 10 });
  const rows = (model: StateModel) => [...model.rows.values()].map(({ key, namespace, value }) => [key, namespace, value]);
  /** A row's saved accumulator, as the harness's aggregation saves it. */
  const saved = (...events: Event[]) => ({ count: events.length, total: events.reduce((sum, event) => sum + event.amount, 0), ids: events.map((event) => event.id) });

  it('tumbling: a row per key and window with its place among the window\'s keys; only changes written; freed windows deleted', () => {
    const emitted: Output[] = [];
    const operator = new TumblingWindowOperator({ id: 'revenue', sizeMs: 10, offsetMs: 0, allowedLatenessMs: 5, aggregation: rowAggregation, ...windowCallbacks((output) => emitted.push(output)) });
    expect(operator.state.uid).toBe('revenue');
    const [a1, b2, c12, a3] = [record(1, 'a', 1), record(2, 'b', 2), record(3, 'c', 12), record(4, 'a', 3)];
    for (const event of [a1, b2, c12]) operator.process(event.key, event, event.time);
    const model = new StateModel();
    operator.state.snapshot(model, false);
    expect(rows(model)).toEqual([
      ['a', 0, { arrival: 0, acc: saved(a1) }],
      ['b', 0, { arrival: 1, acc: saved(b2) }],
      ['c', 10, { arrival: 0, acc: saved(c12) }],
    ]);
    operator.process('a', a3, a3.time);
    operator.state.snapshot(model, false);
    expect(model.puts).toBe(4);
    expect(model.rows.get(JSON.stringify(['a', 0]))!.value).toEqual({ arrival: 0, acc: saved(a1, a3) });
    operator.onWatermark(9); // fires [0, 10): no state changes
    operator.state.snapshot(model, false);
    expect([model.puts, model.deletes]).toEqual([4, 0]);
    operator.onWatermark(14); // 9 + 5: [0, 10) is freed
    operator.state.snapshot(model, false);
    expect(model.deletes).toBe(2);
    expect(rows(model)).toEqual([['c', 10, { arrival: 0, acc: saved(c12) }]]);
    expect(operator.state.size).toBe(1);
  });

  it('tumbling: takes `uid` as its state id when given', () => {
    const operator = new TumblingWindowOperator({ id: 'revenue', uid: 'revenue-v2', sizeMs: 10, offsetMs: 0, allowedLatenessMs: 0, aggregation: rowAggregation, ...windowCallbacks(() => {}) });
    expect(operator.state.uid).toBe('revenue-v2');
  });

  it('tumbling: keys of different types stay apart through a checkpoint and fire in the order they arrived', () => {
    const typedAggregation: WindowAggregation<Key, number, { key: Key; ids: number[] }, { key: Key; ids: number[] }> = {
      create: (key) => ({ key, ids: [] }),
      add: (acc, id) => void acc.ids.push(id),
      merge: (into, from) => void into.ids.push(...from.ids),
      result: (acc) => ({ key: acc.key, ids: [...acc.ids] }),
      save: (acc) => ({ ids: [...acc.ids] }),
      load: (key, value) => ({ key, ids: [...(value as { ids: number[] }).ids] }),
    };
    const create = (emitted: Array<[Key, number[]]>) =>
      new TumblingWindowOperator({
        id: 'typed', sizeMs: 10, offsetMs: 0, allowedLatenessMs: 0, aggregation: typedAggregation,
        emit: (key, row) => emitted.push([key, row.ids]), metrics: new CountingMetrics(),
      });
    const before = create([]);
    // Arrival order true, 1, '1', 'true': not the order of any sort of the keys.
    before.process(true, 1, 5);
    before.process(1, 2, 5);
    before.process('1', 3, 5);
    before.process('true', 4, 5);
    before.process(1, 5, 6);
    const model = new StateModel();
    before.state.snapshot(model, false);
    const emitted: Array<[Key, number[]]> = [];
    const after = create(emitted);
    for (const row of [...model.rows.values()].reverse()) after.state.restoreRow(row.key, row.namespace, row.value);
    after.state.restored(-Infinity);
    after.onWatermark(9);
    expect(emitted).toEqual([[true, [1]], [1, [2, 5]], ['1', [3]], ['true', [4]]]);
  });

  it('session: a row per session start; growing earlier moves the row, merging deletes the merged one, freeing deletes it', () => {
    const operator = new SessionWindowOperator({ id: 'visits', gapMs: 10, allowedLatenessMs: 5, aggregation: rowAggregation, ...windowCallbacks(() => {}) });
    const model = new StateModel();
    const process = (event: Event) => operator.process(event.key, event, event.time);
    const [a20, a15, a40, a30] = [record(1, 'a', 20), record(2, 'a', 15), record(3, 'a', 40), record(4, 'a', 30)];
    process(a20);
    operator.state.snapshot(model, false);
    expect(rows(model)).toEqual([['a', 20, { end: 30, fired: false, timer: 29, timerOrder: 0, acc: saved(a20) }]]);
    process(a15); // [15, 30): the timer is registered again under the new start
    operator.state.snapshot(model, false);
    expect(rows(model)).toEqual([['a', 15, { end: 30, fired: false, timer: 29, timerOrder: 1, acc: saved(a20, a15) }]]);
    process(a40);
    operator.state.snapshot(model, false);
    expect(rows(model)).toEqual([
      ['a', 15, { end: 30, fired: false, timer: 29, timerOrder: 1, acc: saved(a20, a15) }],
      ['a', 40, { end: 50, fired: false, timer: 49, timerOrder: 2, acc: saved(a40) }],
    ]);
    process(a30); // [30, 40) touches [15, 30) and [40, 50): one session [15, 50), whose timer stays at 29 until it pops
    operator.state.snapshot(model, false);
    expect(rows(model)).toEqual([['a', 15, { end: 50, fired: false, timer: 29, timerOrder: 1, acc: saved(a20, a15, a40, a30) }]]);
    expect(model.deletes).toBe(2); // (a, 20) moved, (a, 40) merged
    operator.onWatermark(49); // the timer pops at 29 and moves to 49 (order 3), which fires and sets the cleanup timer
    operator.state.snapshot(model, false);
    expect(rows(model)).toEqual([['a', 15, { end: 50, fired: true, timer: 54, timerOrder: 4, acc: saved(a20, a15, a40, a30) }]]);
    operator.onWatermark(Infinity);
    operator.state.snapshot(model, false);
    expect(rows(model)).toEqual([]);
    expect(operator.state.size).toBe(0);
  });

  it('sliding: rows are panes only; running accumulators are rebuilt from them', () => {
    const emitted: Output[] = [];
    const create = () => new SlidingWindowOperator({
      id: 'trend', sizeMs: 30, slideMs: 10, offsetMs: 0, allowedLatenessMs: 0, aggregation: unmergingAggregation, ...windowCallbacks((output) => emitted.push(output)),
    });
    const before = create();
    for (const event of [record(1, 'k', 5), record(2, 'k', 15), record(3, 'k', 25), record(4, 'k', 27)]) before.process(event.key, event, event.time);
    before.onWatermark(29); // fires up to [0, 30); the key carries [10, 30) into [10, 40)
    expect(before.runningAccumulators).toBe(1);
    const model = new StateModel();
    before.state.snapshot(model, false);
    expect(rows(model).map(([key, namespace]) => [key, namespace])).toEqual([['k', 10], ['k', 20]]);
    const after = create();
    for (const row of model.rows.values()) after.state.restoreRow(row.key, row.namespace, row.value);
    after.state.restored(29);
    expect(after.runningAccumulators).toBe(0);
    emitted.length = 0;
    after.onWatermark(Infinity);
    expect(emitted.map(({ value }) => (value as { row: Row }).row.ids)).toEqual([[2, 3, 4], [3, 4]]);
  });

  it('global: the every trigger is re-armed by the first processing time after a restore, then fires as before', () => {
    const create = (emitted: Output[]) => new GlobalWindowOperator({
      id: 'rolling', trigger: { kind: 'every', intervalMs: 1000 }, allowedLatenessMs: 0, aggregation: rowAggregation,
      ...windowCallbacks((output) => emitted.push(output)),
    });
    const uninterrupted: Output[] = [];
    const before = create(uninterrupted);
    before.onProcessingTime(500);
    for (const event of [record(1, 'b', 1), record(2, 'c', 2)]) before.process(event.key, event, event.time);
    before.onProcessingTime(1000); // fires b, c
    const model = new StateModel();
    before.state.snapshot(model, false);
    const restored: Output[] = [];
    const after = create(restored);
    for (const row of [...model.rows.values()].reverse()) after.state.restoreRow(row.key, row.namespace, row.value);
    after.state.restored(-Infinity);
    uninterrupted.length = 0;
    for (const operator of [before, after]) {
      operator.process('a', record(3, 'a', 3), 3);
      operator.process('b', record(4, 'b', 4), 4);
      operator.onProcessingTime(2000); // fires b, c, a, except in the restored operator: it sets its schedule
      operator.onProcessingTime(3000);
    }
    const firing = (outputs: Output[]) => outputs.map(({ key, value }) => `${key} ${(value as { row: Row }).row.ids.join(',')}`);
    expect(firing(uninterrupted)).toEqual(['b 1,4', 'c 2', 'a 3', 'b 1,4', 'c 2', 'a 3']);
    expect(firing(restored)).toEqual(['b 1,4', 'c 2', 'a 3']);
  });

  it('global: a checkpoint taken with an evictor does not restore without one (and the other way), saying what to do', () => {
    const create = (evictor?: GlobalEvictor) => new GlobalWindowOperator({
      id: 'rolling', trigger: { kind: 'count', count: 2 }, evictor, allowedLatenessMs: 0, aggregation: rowAggregation, ...windowCallbacks(() => {}),
    });
    const withEvictor = create({ kind: 'count', count: 2 });
    withEvictor.process('a', record(1, 'a', 1), 1);
    const model = new StateModel();
    withEvictor.state.snapshot(model, false);
    const [row] = model.rows.values();
    expect(() => create().state.restoreRow(row.key, row.namespace, row.value)).toThrow(
      "the checkpoint holds step 'rolling' (uid 'rolling') with an evictor, and its state cannot be restored without one: keep the step's evictor as it was, or give the step a new uid to start it empty",
    );
  });
});
