// Broadcast state: the map the broadcast side writes, its checkpoint rows, and a restore that gives every task every row.
import { describe, expect, it } from 'vitest';
import { BroadcastStateStore, type ReadOnlyBroadcastState } from '../../../runtime/state/keyed-state.ts';
import { seededRandom } from '../../support/random.ts';
import { CheckpointRows, sortedChanges } from './keyed-state-harness.ts';

describe('BroadcastStateStore', () => {
  it('reads what the broadcast side put and removed, as a plain map does', () => {
    const store = new BroadcastStateStore('alerts');
    const thresholds = store.map<number>('thresholds');
    const view: ReadOnlyBroadcastState<number> = thresholds;
    const model = new Map<string, number>();
    const random = seededRandom(5);
    for (let step = 0; step < 2000; step++) {
      const key = `sku-${Math.floor(random() * 8)}`;
      const action = random();
      if (action < 0.6) {
        thresholds.put(key, step);
        model.set(key, step);
      } else if (action < 0.95) {
        thresholds.remove(key);
        model.delete(key);
      } else {
        thresholds.clear();
        model.clear();
      }
      expect(view.get(key)).toBe(model.get(key));
      expect(view.has(key)).toBe(model.has(key));
      expect([...view.entries()]).toEqual([...model.entries()]);
      expect([...view.keys()]).toEqual([...model.keys()]);
      expect(view.size).toBe(model.size);
      expect(store.size).toBe(model.size);
    }
  });

  it('files its rows under its own uid, writes the changed ones and deletes, and restores whole into every task', () => {
    const store = new BroadcastStateStore('alerts');
    expect(store.uid).toBe('alerts/broadcast');
    const thresholds = store.map<number>('thresholds');
    const labels = store.map<string>('labels');
    thresholds.put('a', 1);
    thresholds.put('b', 2);
    labels.put('a', 'apples');
    const checkpoint = new CheckpointRows();
    expect(checkpoint.snapshot(store, false)).toHaveLength(3);
    thresholds.put('b', 20);
    thresholds.remove('a');
    labels.clear();
    labels.put('c', 'cherries');
    expect(sortedChanges(checkpoint.snapshot(store, false))).toEqual([
      { key: 'a', namespace: 'labels', value: undefined },
      { key: 'a', namespace: 'thresholds', value: undefined },
      { key: 'b', namespace: 'thresholds', value: 20 },
      { key: 'c', namespace: 'labels', value: 'cherries' },
    ]);
    expect(checkpoint.snapshot(store, false)).toEqual([]);

    for (let task = 0; task < 2; task++) {
      const restored = new BroadcastStateStore('alerts');
      const restoredThresholds = restored.map<number>('thresholds');
      const restoredLabels = restored.map<string>('labels');
      checkpoint.restoreInto(restored);
      expect([...restoredThresholds.entries()]).toEqual([['b', 20]]);
      expect([...restoredLabels.entries()]).toEqual([['c', 'cherries']]);
      expect(restored.size).toBe(2);
    }
  });

  it('refuses a name declared twice and checkpoint rows of a state it does not declare', () => {
    const store = new BroadcastStateStore('alerts');
    store.map('thresholds').put('a', 1);
    expect(() => store.map('thresholds')).toThrow("broadcast state 'thresholds' under uid 'alerts/broadcast' is declared twice");
    const checkpoint = new CheckpointRows();
    checkpoint.snapshot(store, true);
    expect(() => checkpoint.restoreInto(new BroadcastStateStore('alerts'))).toThrow(
      "the checkpoint holds broadcast state 'thresholds' under uid 'alerts/broadcast', which the step does not declare",
    );
  });
});
