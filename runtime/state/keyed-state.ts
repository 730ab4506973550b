// Declared state of a step: keyed value, list and map state with a time to live (Flink's ValueState, ListState, MapState, StateTtlConfig), and broadcast state.

import type { Key, OperatorState, StateNamespace, StateRowWriter } from '../api.ts';
import { DeclaredStates, KeyedStateTable, ListStateTable, MapStateTable, ValueStateTable, type StateContext } from './keyed-state-tables.ts';

export { BroadcastStateStore, type BroadcastState, type ReadOnlyBroadcastState } from './broadcast-state.ts';

/**
 * How long an entry of a keyed state lives (Flink's StateTtlConfig). State values are plain JSON data (strings,
 * numbers, booleans, null, arrays and objects of them; never undefined, which means "absent"), as the spec's types
 * are: checkpoints write them as they are. A value is kept as given, not copied: set a new value rather than change
 * one that was set or read.
 */
export interface KeyedStateOptions {
  /**
   * An entry not refreshed for this long is expired: never returned again, and removed. For list state each
   * element expires on its own, for map state each map entry. Absent: entries live until cleared.
   */
  readonly ttlMs?: number;
  /** What refreshes an entry: `write` (creating or writing it, the default; Flink's OnCreateAndWrite) or `read_write` (reading it too; OnReadAndWrite). */
  readonly refresh?: 'write' | 'read_write';
}

/** One value per key. */
export interface ValueState<T> {
  get(): T | undefined;
  set(value: T): void;
  clear(): void;
}

/** A list of elements per key, in the order they were added. */
export interface ListState<T> {
  /** The elements; the array is the state's own (reading allocates nothing): it changes with the state, so copy it to keep it. */
  get(): readonly T[];
  add(element: T): void;
  addAll(elements: readonly T[]): void;
  /** Replaces the elements (an empty list clears them). */
  update(elements: readonly T[]): void;
  clear(): void;
}

/** A map from string map keys to values per key, iterated in the order the map keys were first put. */
export interface MapState<V> {
  get(mapKey: string): V | undefined;
  put(mapKey: string, value: V): void;
  remove(mapKey: string): void;
  has(mapKey: string): boolean;
  entries(): IterableIterator<[string, V]>;
  keys(): IterableIterator<string>;
  /** Removes every entry of the current key. */
  clear(): void;
}

/**
 * The keyed state of one stateful step in one task (Flink's KeyedStateBackend): the step declares its states by
 * name once, and before each call of user code the operator sets the current key, whose entry every state handle
 * then reads and writes. Everything is in memory and synchronous; in checkpoints each (key, state) pair is a row
 * with the state's name as its namespace, and incremental snapshots write the pairs changed since the previous one.
 *
 * Expired entries are removed when read, by `cleanup` a bounded number of rows at a time (call it from the
 * operator's processing-time callback), and all of them at each snapshot, so checkpoints hold none.
 *
 * A row holds, with `refreshed` (epoch ms of the clock) only for a state with a time to live: value state
 * `{ value, refreshed? }`; list state `{ elements: [...], refreshed?: [per element] }`; map state
 * `{ entries: [[map key, value], ...], refreshed?: [per entry] }`. A row without times restored into a state with a
 * time to live counts as refreshed at the restore, so a time to live can be added to a state later.
 */
export class KeyedStateStore extends DeclaredStates<KeyedStateTable> implements OperatorState, StateContext {
  /** The tables with a time to live: the ones `cleanup` and snapshots visit for expired entries. */
  private readonly expiringTables: KeyedStateTable[] = [];
  /** Where in `expiringTables` the next `cleanup` starts: it goes on where the previous one stopped. */
  private cleanupTable = 0;
  private key: Key | undefined;

  /**
   * `uid`: the step's state id. `clock`: the time to live's time in milliseconds; the operator passes processing
   * time (the default), tests a clock of their own.
   */
  constructor(
    uid: string,
    readonly clock: () => number = Date.now,
  ) {
    super(uid, 'keyed state');
  }

  /** The key whose entries the states read and write from now on (Flink's setCurrentKey). */
  setCurrentKey(key: Key): void {
    this.key = key;
  }

  get currentKey(): Key {
    if (this.key === undefined) throw new Error(`keyed state of step '${this.uid}' was used before a key was set: call setCurrentKey(key) first`);
    return this.key;
  }

  value<T>(name: string, options: KeyedStateOptions = {}): ValueState<T> {
    return this.declareExpiring(new ValueStateTable<T>(name, this, options));
  }

  list<T>(name: string, options: KeyedStateOptions = {}): ListState<T> {
    return this.declareExpiring(new ListStateTable<T>(name, this, options));
  }

  map<V>(name: string, options: KeyedStateOptions = {}): MapState<V> {
    return this.declareExpiring(new MapStateTable<V>(name, this, options));
  }

  private declareExpiring<Table extends KeyedStateTable>(table: Table): Table {
    this.declare(table);
    if (table.expiring) this.expiringTables.push(table);
    return table;
  }

  /**
   * Removes the expired entries of up to `budget` rows (key and state), going on from where the previous call
   * stopped and round the states in turn (Flink's incremental cleanup): a bounded piece of work per call.
   */
  cleanup(budget: number): void {
    const tables = this.expiringTables;
    if (tables.length === 0) return;
    const now = this.clock();
    for (let visitedTables = 0; visitedTables < tables.length && budget > 0; visitedTables++) {
      const visited = tables[this.cleanupTable].cleanup(budget, now);
      // Fewer rows than the budget: this state's round is complete, the next state goes on.
      if (visited < budget) this.cleanupTable = (this.cleanupTable + 1) % tables.length;
      budget -= visited;
    }
  }

  override snapshot(out: StateRowWriter, full: boolean): void {
    if (this.expiringTables.length > 0) {
      const now = this.clock();
      for (const table of this.expiringTables) table.removeAllExpired(now);
    }
    super.snapshot(out, full);
  }

  restoreRow(key: Key, namespace: StateNamespace, value: unknown): void {
    // Entries that expired meanwhile come back too: left out here, the backend would keep their rows; the next
    // snapshot removes them and writes their deletes.
    this.tableOf(namespace).restoreRow(key, value, this.clock());
  }
}
