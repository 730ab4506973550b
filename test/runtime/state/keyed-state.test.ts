// Keyed value, list and map state: operations against plain models, time to live and its cleanup, checkpoint rows and restores.
import { describe, expect, it } from 'vitest';
import type { Key } from '../../../runtime/api.ts';
import { keyGroupOf, taskOfKeyGroup } from '../../../runtime/keys.ts';
import { KeyedStateStore, type KeyedStateOptions } from '../../../runtime/state/keyed-state.ts';
import { seededRandom } from '../../support/random.ts';
import { CheckpointRows, FakeClock, sortedChanges } from './keyed-state-harness.ts';

const keys: readonly Key[] = ['a', 'b', 'c', 1, '1', true];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)];
}

describe('value state', () => {
  it('reads per key what was last set, as a plain map does', () => {
    const store = new KeyedStateStore('step');
    const total = store.value<number>('total');
    const model = new Map<Key, number>();
    const random = seededRandom(1);
    for (let step = 0; step < 3000; step++) {
      const key = pick(random, keys);
      store.setCurrentKey(key);
      const action = random();
      if (action < 0.5) {
        const value = Math.floor(random() * 100);
        total.set(value);
        model.set(key, value);
      } else if (action < 0.6) {
        total.clear();
        model.delete(key);
      }
      expect(total.get()).toBe(model.get(key));
      expect(store.size).toBe(model.size);
    }
  });

  it('keeps null as a value, apart from absent', () => {
    const store = new KeyedStateStore('step');
    const last = store.value<string | null>('last');
    store.setCurrentKey('a');
    last.set(null);
    expect(last.get()).toBeNull();
    store.setCurrentKey('b');
    expect(last.get()).toBeUndefined();
  });
});

describe('list state', () => {
  it('reads per key the elements added, updated and cleared, as a plain map of arrays does', () => {
    const store = new KeyedStateStore('step');
    const seen = store.list<number>('seen');
    const model = new Map<Key, number[]>();
    const random = seededRandom(2);
    for (let step = 0; step < 3000; step++) {
      const key = pick(random, keys);
      store.setCurrentKey(key);
      const elements = model.get(key) ?? [];
      const action = random();
      if (action < 0.4) {
        const element = Math.floor(random() * 100);
        seen.add(element);
        model.set(key, [...elements, element]);
      } else if (action < 0.55) {
        const added = Array.from({ length: Math.floor(random() * 3) }, (_, index) => step * 10 + index);
        seen.addAll(added);
        if (elements.length + added.length > 0) model.set(key, [...elements, ...added]);
      } else if (action < 0.6) {
        seen.addAll(seen.get()); // its own array: added once, not forever
        if (elements.length > 0) model.set(key, [...elements, ...elements]);
      } else if (action < 0.7) {
        const updated = Array.from({ length: Math.floor(random() * 3) }, (_, index) => -step - index);
        seen.update(updated);
        if (updated.length > 0) model.set(key, updated);
        else model.delete(key);
      } else if (action < 0.75) {
        seen.clear();
        model.delete(key);
      }
      expect([...seen.get()]).toEqual(model.get(key) ?? []);
      expect(store.size).toBe(model.size);
    }
  });
});

describe('map state', () => {
  it('reads per key the map entries put and removed, in the order first put, as a plain map of maps does', () => {
    const store = new KeyedStateStore('step');
    const counts = store.map<number>('counts');
    const model = new Map<Key, Map<string, number>>();
    const mapKeys = ['x', 'y', 'z', '__proto__', ''];
    const random = seededRandom(3);
    for (let step = 0; step < 3000; step++) {
      const key = pick(random, keys);
      const mapKey = pick(random, mapKeys);
      store.setCurrentKey(key);
      const entries = model.get(key) ?? new Map<string, number>();
      const action = random();
      if (action < 0.5) {
        counts.put(mapKey, step);
        entries.set(mapKey, step);
        model.set(key, entries);
      } else if (action < 0.7) {
        counts.remove(mapKey);
        entries.delete(mapKey);
        if (entries.size === 0) model.delete(key);
      } else if (action < 0.75) {
        counts.clear();
        model.delete(key);
      }
      const expected = model.get(key) ?? new Map<string, number>();
      expect(counts.get(mapKey)).toBe(expected.get(mapKey));
      expect(counts.has(mapKey)).toBe(expected.has(mapKey));
      expect([...counts.entries()]).toEqual([...expected.entries()]);
      expect([...counts.keys()]).toEqual([...expected.keys()]);
      expect(store.size).toBe(model.size);
    }
  });
});

describe('time to live', () => {
  function storeAt(clock: FakeClock): KeyedStateStore {
    const store = new KeyedStateStore('step', clock.read);
    store.setCurrentKey('a');
    return store;
  }

  it('expires a value ttl after its last write; reads do not refresh it by default', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const last = store.value<string>('last', { ttlMs: 100 });
    last.set('first');
    clock.now = 60;
    expect(last.get()).toBe('first');
    clock.now = 80;
    last.set('second');
    clock.now = 179;
    expect(last.get()).toBe('second');
    clock.now = 180;
    expect(last.get()).toBeUndefined();
  });

  it('with refresh read_write, each read keeps a value another ttl', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const last = store.value<string>('last', { ttlMs: 100, refresh: 'read_write' });
    last.set('first');
    clock.now = 90;
    expect(last.get()).toBe('first');
    clock.now = 189;
    expect(last.get()).toBe('first');
    clock.now = 289;
    expect(last.get()).toBeUndefined();
  });

  it('expires each list element on its own, and update refreshes them all', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const seen = store.list<string>('seen', { ttlMs: 100 });
    seen.add('a');
    clock.now = 50;
    seen.add('b');
    clock.now = 70;
    seen.addAll(['c', 'd']);
    clock.now = 100;
    expect(seen.get()).toEqual(['b', 'c', 'd']);
    clock.now = 150;
    expect(seen.get()).toEqual(['c', 'd']);
    seen.update(['c', 'd', 'e']);
    clock.now = 249;
    expect(seen.get()).toEqual(['c', 'd', 'e']);
    clock.now = 250;
    expect(seen.get()).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('with refresh read_write, reading a list refreshes every element', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const seen = store.list<string>('seen', { ttlMs: 100, refresh: 'read_write' });
    seen.add('a');
    clock.now = 50;
    seen.add('b');
    clock.now = 90;
    expect(seen.get()).toEqual(['a', 'b']);
    clock.now = 189;
    expect(seen.get()).toEqual(['a', 'b']);
    clock.now = 289;
    expect(seen.get()).toEqual([]);
  });

  it('expires each map entry on its own, and entries, keys, get and has never return an expired one', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const tags = store.map<number>('tags', { ttlMs: 100 });
    tags.put('x', 1);
    clock.now = 50;
    tags.put('y', 2);
    clock.now = 99;
    expect([...tags.entries()]).toEqual([
      ['x', 1],
      ['y', 2],
    ]);
    clock.now = 100;
    expect(tags.get('x')).toBeUndefined();
    expect(tags.has('x')).toBe(false);
    expect(tags.has('y')).toBe(true);
    expect([...tags.entries()]).toEqual([['y', 2]]);
    expect([...tags.keys()]).toEqual(['y']);
    clock.now = 150;
    expect([...tags.keys()]).toEqual([]);
    expect(store.size).toBe(0);
  });

  it('with refresh read_write, get refreshes one map entry and entries refreshes them all', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const tags = store.map<number>('tags', { ttlMs: 100, refresh: 'read_write' });
    tags.put('x', 1);
    tags.put('y', 2);
    clock.now = 90;
    expect(tags.get('x')).toBe(1);
    clock.now = 100;
    expect([...tags.entries()]).toEqual([['x', 1]]);
    clock.now = 199;
    expect([...tags.keys()]).toEqual(['x']);
    clock.now = 299;
    expect(tags.has('x')).toBe(false);
  });

  it('removes an expired row when its key reads it', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const last = store.value<number>('last', { ttlMs: 100 });
    for (const key of keys) {
      store.setCurrentKey(key);
      last.set(1);
    }
    clock.now = 100;
    expect(store.size).toBe(keys.length);
    store.setCurrentKey('b');
    expect(last.get()).toBeUndefined();
    expect(store.size).toBe(keys.length - 1);
  });

  it('cleans up a bounded number of rows per call, round the states in turn, and frees every expired entry', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const last = store.value<number>('last', { ttlMs: 100 });
    const seen = store.list<number>('seen', { ttlMs: 100 });
    const kept = store.value<number>('kept'); // no time to live: cleanup passes it by
    for (let key = 0; key < 10; key++) {
      clock.now = key < 5 ? 0 : 50;
      store.setCurrentKey(key);
      last.set(key);
      seen.add(key);
      kept.set(key);
    }
    clock.now = 100; // keys 0 to 4 expired in `last` and `seen`
    const sizes: number[] = [];
    for (let call = 0; call < 6; call++) {
      store.cleanup(4);
      sizes.push(store.size);
    }
    // By hand, 4 rows a call in the order keys came: last 0-3 (4 go), last 4-7 (1 goes), last 8-9 then seen 0-1
    // (2 go), seen 2-5 (3 go), seen 6-9 (none), then `last` again.
    expect(sizes.map((size) => size - 10)).toEqual([16, 15, 13, 10, 10, 10]);
    for (let key = 5; key < 10; key++) {
      store.setCurrentKey(key);
      expect([last.get(), [...seen.get()], kept.get()]).toEqual([key, [key], key]);
    }
    clock.now = 150; // the rest expired: a later round finds them
    for (let call = 0; call < 4; call++) store.cleanup(4);
    expect(store.size).toBe(10);
  });

  it('removes every expired entry at a snapshot, writing none of them and deletes for those written before', () => {
    const clock = new FakeClock();
    const store = storeAt(clock);
    const last = store.value<number>('last', { ttlMs: 100 });
    const tags = store.map<number>('tags', { ttlMs: 100 });
    store.setCurrentKey('old');
    last.set(1);
    tags.put('x', 1);
    const checkpoint = new CheckpointRows();
    expect(checkpoint.snapshot(store, false)).toHaveLength(2);
    clock.now = 60;
    store.setCurrentKey('new');
    last.set(2);
    tags.put('y', 2);
    store.setCurrentKey('old');
    tags.put('z', 3);
    clock.now = 100; // `old`'s value and its map entry x expired, z not
    expect(sortedChanges(checkpoint.snapshot(store, false))).toEqual([
      { key: 'new', namespace: 'last', value: { value: 2, refreshed: 60 } },
      { key: 'new', namespace: 'tags', value: { entries: [['y', 2]], refreshed: [60] } },
      { key: 'old', namespace: 'last', value: undefined },
      { key: 'old', namespace: 'tags', value: { entries: [['z', 3]], refreshed: [60] } },
    ]);
    expect(store.size).toBe(3);
    const fresh = new CheckpointRows();
    expect(fresh.snapshot(store, true)).toHaveLength(3);
  });
});

describe('checkpoints', () => {
  /** A store with the three kinds of state, of which `recent` expires. */
  function declare(store: KeyedStateStore) {
    return {
      total: store.value<number>('total'),
      seen: store.list<string>('seen'),
      tags: store.map<number>('tags'),
      recent: store.value<number>('recent', { ttlMs: 100, refresh: 'read_write' }),
    };
  }

  type States = ReturnType<typeof declare>;

  /** Everything each key's states read, in one value to compare. */
  function readAll(store: KeyedStateStore, states: States, keysToRead: readonly Key[]): unknown[] {
    return keysToRead.map((key) => {
      store.setCurrentKey(key);
      return [states.total.get(), [...states.seen.get()], [...states.tags.entries()], states.recent.get()];
    });
  }

  it('writes only the rows changed since the previous snapshot, with deletes for rows gone, and restores to the same reads', () => {
    const clock = new FakeClock();
    const store = new KeyedStateStore('step', clock.read);
    const states = declare(store);
    const userKeys = Array.from({ length: 10 }, (_, index) => `user-${index}`);
    for (const [index, key] of userKeys.entries()) {
      store.setCurrentKey(key);
      states.total.set(index);
      states.seen.add(`page-${index}`);
      states.tags.put('only', index);
    }
    const checkpoint = new CheckpointRows();
    expect(checkpoint.snapshot(store, false)).toHaveLength(30);
    expect(checkpoint.snapshot(store, false)).toEqual([]);
    store.setCurrentKey('user-1');
    states.total.set(100);
    store.setCurrentKey('user-2');
    states.seen.clear();
    store.setCurrentKey('user-3');
    states.tags.remove('only');
    store.setCurrentKey('user-4');
    states.tags.put('more', 4);
    store.setCurrentKey('user-5');
    states.recent.clear(); // nothing there: no change
    states.seen.add('page-x');
    states.seen.clear();
    store.setCurrentKey('user-6');
    states.recent.set(6);
    expect(sortedChanges(checkpoint.snapshot(store, false))).toEqual([
      { key: 'user-1', namespace: 'total', value: { value: 100 } },
      { key: 'user-2', namespace: 'seen', value: undefined },
      { key: 'user-3', namespace: 'tags', value: undefined },
      { key: 'user-4', namespace: 'tags', value: { entries: [['only', 4], ['more', 4]] } },
      { key: 'user-5', namespace: 'seen', value: undefined },
      { key: 'user-6', namespace: 'recent', value: { value: 6, refreshed: 0 } },
    ]);
    expect(checkpoint.size).toBe(store.size);

    const restored = new KeyedStateStore('step', clock.read);
    const restoredStates = declare(restored);
    checkpoint.restoreInto(restored);
    expect(restored.size).toBe(store.size);
    expect(checkpoint.snapshot(restored, false)).toEqual([]); // restored rows are in the checkpoint already
    expect(readAll(restored, restoredStates, userKeys)).toEqual(readAll(store, states, userKeys));
  });

  it('restores rows split by key group into two tasks, each reading its own keys', () => {
    const store = new KeyedStateStore('step');
    const states = declare(store);
    const userKeys: Key[] = Array.from({ length: 200 }, (_, index) => (index % 2 === 0 ? `user-${index}` : index));
    for (const [index, key] of userKeys.entries()) {
      store.setCurrentKey(key);
      states.total.set(index);
      states.seen.addAll([`a-${index}`, `b-${index}`]);
    }
    const checkpoint = new CheckpointRows();
    checkpoint.snapshot(store, true);
    const taskOf = (key: Key): number => taskOfKeyGroup(keyGroupOf(key, 128), 2, 128);
    const tasks = [0, 1].map((task) => {
      const taskStore = new KeyedStateStore('step');
      const taskStates = declare(taskStore);
      checkpoint.restoreInto(taskStore, (key) => taskOf(key) === task);
      return { store: taskStore, states: taskStates };
    });
    for (const [task, { store: taskStore, states: taskStates }] of tasks.entries()) {
      const owned = userKeys.filter((key) => taskOf(key) === task);
      expect(owned.length).toBeGreaterThan(50);
      expect(taskStore.size).toBe(owned.length * 2);
      expect(readAll(taskStore, taskStates, owned)).toEqual(owned.map((key) => [userKeys.indexOf(key), [`a-${userKeys.indexOf(key)}`, `b-${userKeys.indexOf(key)}`], [], undefined]));
      const others = userKeys.filter((key) => taskOf(key) !== task);
      expect(readAll(taskStore, taskStates, others)).toEqual(others.map(() => [undefined, [], [], undefined]));
    }
  });

  it('keeps the times to live across a restore, including refreshes by reads', () => {
    const clock = new FakeClock();
    const store = new KeyedStateStore('step', clock.read);
    const written = store.value<string>('written', { ttlMs: 100 });
    const read = store.value<string>('read', { ttlMs: 100, refresh: 'read_write' });
    store.setCurrentKey('a');
    written.set('w');
    read.set('r');
    const checkpoint = new CheckpointRows();
    checkpoint.snapshot(store, false);
    clock.now = 80;
    expect(read.get()).toBe('r'); // refreshed to 80: a change the next snapshot writes
    clock.now = 90;
    checkpoint.snapshot(store, false);

    const restored = new KeyedStateStore('step', clock.read);
    const restoredWritten = restored.value<string>('written', { ttlMs: 100 });
    const restoredRead = restored.value<string>('read', { ttlMs: 100, refresh: 'read_write' });
    checkpoint.restoreInto(restored);
    restored.setCurrentKey('a');
    clock.now = 100;
    expect(restoredWritten.get()).toBeUndefined();
    clock.now = 179;
    expect(restoredRead.get()).toBe('r');
  });

  it('counts rows written without a time to live as refreshed when restored into state that has one', () => {
    const clock = new FakeClock();
    const checkpoint = new CheckpointRows();
    clock.now = 1000;
    const before = new KeyedStateStore('step', clock.read);
    before.setCurrentKey('a');
    before.value<number>('total').set(1);
    before.list<number>('seen').add(1);
    checkpoint.snapshot(before, true);
    clock.now = 5000;
    const restored = new KeyedStateStore('step', clock.read);
    const total = restored.value<number>('total', { ttlMs: 100 });
    const seen = restored.list<number>('seen', { ttlMs: 100 });
    checkpoint.restoreInto(restored);
    restored.setCurrentKey('a');
    clock.now = 5099;
    expect([total.get(), [...seen.get()]]).toEqual([1, [1]]);
    clock.now = 5100;
    expect([total.get(), [...seen.get()]]).toEqual([undefined, []]);
  });

  it('goes on after any restore as the store that was never interrupted, with expiring state and cleanups', () => {
    const clock = new FakeClock();
    const written: KeyedStateOptions = { ttlMs: 300 };
    const read: KeyedStateOptions = { ttlMs: 300, refresh: 'read_write' };
    function declareAll(store: KeyedStateStore) {
      return {
        store,
        value: store.value<number>('value', read),
        list: store.list<number>('list', read),
        log: store.list<number>('log', written),
        map: store.map<number>('map', read),
        tags: store.map<number>('tags', written),
        plain: store.map<number>('plain'),
      };
    }
    type AllStates = ReturnType<typeof declareAll>;
    // One call per step, its result compared between the stores; reads are calls of their own, as a read refreshes.
    const actions: ((states: AllStates, mapKey: string, step: number) => unknown)[] = [
      (states, _, step) => states.value.set(step),
      (states) => states.value.get(),
      (states) => states.value.clear(),
      (states, _, step) => states.list.add(step),
      (states, _, step) => states.log.addAll([step, -step]),
      (states) => [...states.list.get()],
      (states) => [...states.log.get()],
      (states, _, step) => states.log.update([step]),
      (states, mapKey, step) => states.map.put(mapKey, step),
      (states, mapKey, step) => states.tags.put(mapKey, step),
      (states, mapKey, step) => states.plain.put(mapKey, step),
      (states, mapKey) => states.map.get(mapKey),
      (states, mapKey) => states.map.has(mapKey),
      (states, mapKey) => states.tags.remove(mapKey),
      (states) => [...states.map.keys()],
      (states) => [...states.tags.entries()],
      (states) => [...states.plain.entries()],
      (states) => states.store.cleanup(3),
    ];
    const original = declareAll(new KeyedStateStore('step', clock.read));
    // Until the first checkpoint, a second store that sees the same calls.
    let restored = declareAll(new KeyedStateStore('step', clock.read));
    const checkpoint = new CheckpointRows();
    const random = seededRandom(4);
    // Enough keys and checkpoints that a row is often changed once between two of them, so a change a snapshot
    // misses shows, and entries often expire before they are used again.
    const manyKeys: Key[] = Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? `key-${index}` : index));
    for (let step = 0; step < 20000; step++) {
      clock.now += Math.floor(random() * 3);
      const key = pick(random, manyKeys);
      const mapKey = pick(random, ['x', 'y', 'z']);
      const action = pick(random, actions);
      original.store.setCurrentKey(key);
      restored.store.setCurrentKey(key);
      expect(action(restored, mapKey, step)).toEqual(action(original, mapKey, step));
      if (step % 29 === 28) {
        checkpoint.snapshot(original.store, step % 1000 === 999);
        const full = new CheckpointRows();
        full.snapshot(original.store, true);
        expect(checkpoint.contents()).toEqual(full.contents());
        restored = declareAll(new KeyedStateStore('step', clock.read));
        checkpoint.restoreInto(restored.store);
      }
    }
  });
});

describe('declaring and using keyed state', () => {
  it('asks for a current key before any state is read', () => {
    const store = new KeyedStateStore('sessions');
    const total = store.value<number>('total');
    expect(() => total.get()).toThrow("keyed state of step 'sessions' was used before a key was set: call setCurrentKey(key) first");
  });

  it('rejects a name declared twice, a ttl that is not a positive whole number and a refresh without a ttl', () => {
    const store = new KeyedStateStore('sessions');
    store.value('total');
    expect(() => store.list('total')).toThrow("keyed state 'total' under uid 'sessions' is declared twice");
    expect(() => store.value('a', { ttlMs: 0 })).toThrow("ttlMs of value state 'a' of step 'sessions' must be a positive whole number");
    expect(() => store.map('b', { ttlMs: 1.5 })).toThrow('got 1.5');
    expect(() => store.list('c', { refresh: 'read_write' })).toThrow('give ttlMs too');
    expect(() => store.list('d', { ttlMs: 5, refresh: 'read' as 'write' })).toThrow("must be 'write' or 'read_write'");
  });

  it('refuses checkpoint rows of a state the step does not declare, or of another kind of state', () => {
    const checkpoint = new CheckpointRows();
    const before = new KeyedStateStore('sessions');
    before.setCurrentKey('a');
    before.value<number>('gone').set(1);
    checkpoint.snapshot(before, true);
    expect(() => checkpoint.restoreInto(new KeyedStateStore('sessions'))).toThrow("keyed state 'gone' under uid 'sessions', which the step does not declare");
    const other = new KeyedStateStore('sessions');
    other.list<number>('gone');
    expect(() => checkpoint.restoreInto(other)).toThrow(`row of key "a" in list state 'gone' of step 'sessions' is not a list state row`);
  });
});
