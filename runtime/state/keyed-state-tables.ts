// The tables behind declared state: per state name, its entries by key, their times to live and checkpoint rows.

import type { Key, StateNamespace, StateRowWriter } from '../api.ts';
import type { KeyedStateOptions, ListState, MapState, ValueState } from './keyed-state.ts';

/**
 * The rows of one named state, one per key, and which of them changed since the last snapshot. A key whose row
 * went away (cleared, expired) stays in `changed` until the snapshot writes its delete; a key created and removed
 * between two snapshots gets a delete for a row the checkpoint never had, which backends take as a no-op.
 */
export abstract class StateTable<K extends Key, Stored> {
  /** Per key, what the state holds for it: a value, a list's elements, a map. */
  protected readonly rows = new Map<K, Stored>();
  protected readonly changed = new Set<K>();

  constructor(readonly name: string) {}

  /** Rows in memory. */
  get size(): number {
    return this.rows.size;
  }

  /** The row of `key` as plain JSON data, or undefined when it has none; a copy the state will not change. */
  protected abstract row(key: K): unknown;

  /** Writes every row (`full`) or the changed ones and deletes for those gone; then no row counts as changed. */
  writeRows(out: StateRowWriter, full: boolean): void {
    if (full) {
      for (const key of this.rows.keys()) out.put(key, this.name, this.row(key));
    } else {
      for (const key of this.changed) {
        const row = this.row(key);
        if (row === undefined) out.delete(key, this.name);
        else out.put(key, this.name, row);
      }
    }
    this.changed.clear();
  }
}

/**
 * The states one step declared in one task, by name, as one OperatorState: in checkpoints the name is the rows'
 * namespace. `what` names the kind of state in messages (`keyed state`, `broadcast state`).
 */
export abstract class DeclaredStates<Table extends StateTable<Key, unknown>> {
  protected readonly tables = new Map<string, Table>();

  constructor(
    /** The uid the rows are filed under. */
    readonly uid: string,
    private readonly what: string,
  ) {}

  protected declare<Declared extends Table>(table: Declared): Declared {
    if (this.tables.has(table.name)) {
      throw new Error(`${this.what} '${table.name}' under uid '${this.uid}' is declared twice: give each state of a step its own name`);
    }
    this.tables.set(table.name, table);
    return table;
  }

  /** The state a checkpoint row belongs to. */
  protected tableOf(namespace: StateNamespace): Table {
    const table = this.tables.get(String(namespace));
    if (table === undefined) {
      throw new Error(
        `the checkpoint holds ${this.what} '${namespace}' under uid '${this.uid}', which the step does not declare: declare it, ` +
          'or give the step a new uid to start its state afresh',
      );
    }
    return table;
  }

  snapshot(out: StateRowWriter, full: boolean): void {
    for (const table of this.tables.values()) table.writeRows(out, full);
  }

  /** Nothing to register: declared state has no timers (a time to live runs on the store's clock). */
  restored(): void {}

  get size(): number {
    let rows = 0;
    for (const table of this.tables.values()) rows += table.size;
    return rows;
  }
}

/** What a keyed state reads from its store: the step, the current key and the time to live's clock. */
export interface StateContext {
  readonly uid: string;
  /** The key the operator set before calling user code. */
  readonly currentKey: Key;
  /** Milliseconds, as the store was given them (processing time, or a test's clock). */
  readonly clock: () => number;
}

/**
 * One declared keyed state with its time to live, as Flink's TTL state wrappers: an entry's time is set when it is
 * written (and read, with refresh `read_write`), and an entry whose time is `ttlMs` or more behind the clock is
 * expired: never returned, and removed when read, when `cleanup` visits its key, or at the next snapshot.
 * `Stored` is what a key holds, `Times` the times of its entries (kept only when expiring).
 */
export abstract class KeyedStateTable<Stored = unknown, Times = unknown> extends StateTable<Key, Stored> {
  /** Per key, when its entries were last refreshed (only when expiring). */
  protected readonly refreshed = new Map<Key, Times>();
  /** Whether entries expire; when not, no time is kept and the clock is never read. */
  readonly expiring: boolean;
  private readonly ttlMs: number;
  protected readonly refreshOnRead: boolean;
  /** Where incremental cleanup goes on: a live iterator over the keys, so rows added or removed meanwhile are fine. */
  private cleanupCursor: Iterator<Key> | undefined;

  constructor(
    name: string,
    /** `value`, `list` or `map`, for messages. */
    private readonly kind: string,
    protected readonly context: StateContext,
    options: KeyedStateOptions,
  ) {
    super(name);
    const { ttlMs, refresh = 'write' } = options;
    if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && ttlMs > 0)) {
      throw new RangeError(`ttlMs of ${this.description} must be a positive whole number of milliseconds, got ${ttlMs}`);
    }
    if (refresh !== 'write' && refresh !== 'read_write') {
      throw new RangeError(`refresh of ${this.description} must be 'write' or 'read_write', got ${JSON.stringify(refresh)}`);
    }
    if (ttlMs === undefined && options.refresh !== undefined) {
      throw new Error(`refresh of ${this.description} applies to a time to live: give ttlMs too, or leave refresh out`);
    }
    this.expiring = ttlMs !== undefined;
    this.ttlMs = ttlMs ?? Infinity;
    this.refreshOnRead = refresh === 'read_write';
  }

  /** `value state 'seen' of step 'sessions'`, for messages. */
  get description(): string {
    return `${this.kind} state '${this.name}' of step '${this.context.uid}'`;
  }

  /** Removes the current key's row. */
  clear(): void {
    const key = this.context.currentKey;
    if (this.rows.has(key)) this.removeRow(key);
  }

  protected removeRow(key: Key): void {
    this.rows.delete(key);
    this.refreshed.delete(key);
    this.changed.add(key);
  }

  protected isExpired(refreshed: number, now: number): boolean {
    return now - refreshed >= this.ttlMs;
  }

  /** Removes the entries of `key`'s row that expired by `now` (the row with its last entry), marking it changed. */
  protected abstract removeExpired(key: Key, now: number): void;

  /** Takes back the row a snapshot wrote; an entry without a time (the state had no time to live then) counts as refreshed `now`. */
  abstract restoreRow(key: Key, row: unknown, now: number): void;

  /** Removes what expired in up to `budget` rows after the previous call's; returns the rows visited, fewer once it reached the last row. */
  cleanup(budget: number, now: number): number {
    let visited = 0;
    this.cleanupCursor ??= this.rows.keys();
    while (visited < budget) {
      const next = this.cleanupCursor.next();
      if (next.done === true) {
        this.cleanupCursor = undefined;
        break;
      }
      this.removeExpired(next.value, now);
      visited++;
    }
    return visited;
  }

  /** Removes every expired entry, so no checkpoint holds one and each removed row is written as a delete. */
  removeAllExpired(now: number): void {
    for (const key of this.rows.keys()) this.removeExpired(key, now);
  }

  protected invalidRow(key: Key, expected: string): Error {
    return new Error(
      `the checkpoint's row of key ${JSON.stringify(key)} in ${this.description} is not ${expected}: the state was declared differently ` +
        'when the checkpoint was written; restore with the pipeline that wrote it, or give the step a new uid to start its state afresh',
    );
  }
}

/** A checkpoint row of value state; `refreshed` only with a time to live. */
interface ValueRow<T> {
  readonly value: T;
  readonly refreshed?: number;
}

/** A checkpoint row of list state: the elements in order and, with a time to live, each one's time. */
interface ListRow<T> {
  readonly elements: readonly T[];
  readonly refreshed?: readonly number[];
}

/** A checkpoint row of map state: the entries in insertion order and, with a time to live, each one's time. */
interface MapRow<V> {
  readonly entries: readonly (readonly [string, V])[];
  readonly refreshed?: readonly number[];
}

function isRecord(row: unknown): row is Record<string, unknown> {
  return typeof row === 'object' && row !== null && !Array.isArray(row);
}

/** An optional `refreshed` list of a row: absent, or one number per element. */
function isTimes(refreshed: unknown, length: number): boolean {
  return refreshed === undefined || (Array.isArray(refreshed) && refreshed.length === length && refreshed.every((time) => typeof time === 'number'));
}

export class ValueStateTable<T> extends KeyedStateTable<T, number> implements ValueState<T> {
  constructor(name: string, context: StateContext, options: KeyedStateOptions) {
    super(name, 'value', context, options);
  }

  get(): T | undefined {
    const key = this.context.currentKey;
    const value = this.rows.get(key);
    if (value === undefined || !this.expiring) return value;
    const now = this.context.clock();
    if (this.isExpired(this.refreshed.get(key)!, now)) {
      this.removeRow(key);
      return undefined;
    }
    if (this.refreshOnRead) {
      this.refreshed.set(key, now);
      this.changed.add(key);
    }
    return value;
  }

  set(value: T): void {
    const key = this.context.currentKey;
    this.rows.set(key, value);
    if (this.expiring) this.refreshed.set(key, this.context.clock());
    this.changed.add(key);
  }

  protected removeExpired(key: Key, now: number): void {
    if (this.isExpired(this.refreshed.get(key)!, now)) this.removeRow(key);
  }

  protected row(key: Key): ValueRow<T> | undefined {
    if (!this.rows.has(key)) return undefined;
    const value = this.rows.get(key)!;
    return this.expiring ? { value, refreshed: this.refreshed.get(key)! } : { value };
  }

  restoreRow(key: Key, row: unknown, now: number): void {
    if (!(isRecord(row) && row.value !== undefined && (row.refreshed === undefined || typeof row.refreshed === 'number'))) {
      throw this.invalidRow(key, 'a value state row { value, refreshed? }');
    }
    const { value, refreshed } = row as unknown as ValueRow<T>;
    this.rows.set(key, value);
    if (this.expiring) this.refreshed.set(key, refreshed ?? now);
  }
}

/** What `get` returns for a key without elements: one shared frozen array, so reading an empty list allocates nothing. */
const noElements: readonly never[] = Object.freeze([]);

export class ListStateTable<T> extends KeyedStateTable<T[], number[]> implements ListState<T> {
  constructor(name: string, context: StateContext, options: KeyedStateOptions) {
    super(name, 'list', context, options);
  }

  get(): readonly T[] {
    const key = this.context.currentKey;
    const elements = this.rows.get(key);
    if (elements === undefined || !this.expiring) return elements ?? noElements;
    const now = this.context.clock();
    this.removeExpired(key, now);
    if (elements.length === 0) return noElements;
    if (this.refreshOnRead) {
      this.refreshed.get(key)!.fill(now);
      this.changed.add(key);
    }
    return elements;
  }

  add(element: T): void {
    const key = this.context.currentKey;
    this.elementsOf(key).push(element);
    if (this.expiring) this.refreshed.get(key)!.push(this.context.clock());
    this.changed.add(key);
  }

  addAll(elements: readonly T[]): void {
    // Counted first: `elements` may be this very list, as `get` returned it.
    const count = elements.length;
    if (count === 0) return;
    const key = this.context.currentKey;
    const list = this.elementsOf(key);
    for (let index = 0; index < count; index++) list.push(elements[index]);
    if (this.expiring) {
      const times = this.refreshed.get(key)!;
      const now = this.context.clock();
      for (let index = 0; index < count; index++) times.push(now);
    }
    this.changed.add(key);
  }

  update(elements: readonly T[]): void {
    this.clear();
    this.addAll(elements);
  }

  /** The elements of `key`, created empty (with their times) when it has none. */
  private elementsOf(key: Key): T[] {
    let elements = this.rows.get(key);
    if (elements === undefined) {
      elements = [];
      this.rows.set(key, elements);
      if (this.expiring) this.refreshed.set(key, []);
    }
    return elements;
  }

  /** Keeps the unexpired elements in place, in order, so `get` hands out the state's own array without copying. */
  protected removeExpired(key: Key, now: number): void {
    const elements = this.rows.get(key)!;
    const times = this.refreshed.get(key)!;
    let kept = 0;
    for (let index = 0; index < elements.length; index++) {
      if (this.isExpired(times[index], now)) continue;
      elements[kept] = elements[index];
      times[kept] = times[index];
      kept++;
    }
    if (kept === elements.length) return;
    elements.length = kept;
    times.length = kept;
    if (kept === 0) this.removeRow(key);
    else this.changed.add(key);
  }

  protected row(key: Key): ListRow<T> | undefined {
    const elements = this.rows.get(key);
    if (elements === undefined) return undefined;
    return this.expiring ? { elements: elements.slice(), refreshed: this.refreshed.get(key)!.slice() } : { elements: elements.slice() };
  }

  restoreRow(key: Key, row: unknown, now: number): void {
    if (!(isRecord(row) && Array.isArray(row.elements) && row.elements.length > 0 && isTimes(row.refreshed, row.elements.length))) {
      throw this.invalidRow(key, 'a list state row { elements, refreshed? } with at least one element');
    }
    const { elements, refreshed } = row as unknown as ListRow<T>;
    this.rows.set(key, elements.slice());
    if (this.expiring) this.refreshed.set(key, refreshed?.slice() ?? elements.map(() => now));
  }
}

/** What `entries` and `keys` iterate for a key without entries. */
const noEntries: ReadonlyMap<string, never> = new Map<string, never>();

export class MapStateTable<V> extends KeyedStateTable<Map<string, V>, Map<string, number>> implements MapState<V> {
  constructor(name: string, context: StateContext, options: KeyedStateOptions) {
    super(name, 'map', context, options);
  }

  get(mapKey: string): V | undefined {
    const key = this.context.currentKey;
    const map = this.rows.get(key);
    if (map === undefined) return undefined;
    const value = map.get(mapKey);
    if (value === undefined || !this.expiring) return value;
    const now = this.context.clock();
    const times = this.refreshed.get(key)!;
    if (this.isExpired(times.get(mapKey)!, now)) {
      this.removeEntry(key, map, times, mapKey);
      return undefined;
    }
    if (this.refreshOnRead) {
      times.set(mapKey, now);
      this.changed.add(key);
    }
    return value;
  }

  /** A read like `get`: with refresh `read_write` it refreshes the entry. */
  has(mapKey: string): boolean {
    return this.get(mapKey) !== undefined;
  }

  put(mapKey: string, value: V): void {
    const key = this.context.currentKey;
    let map = this.rows.get(key);
    if (map === undefined) {
      map = new Map();
      this.rows.set(key, map);
      if (this.expiring) this.refreshed.set(key, new Map());
    }
    map.set(mapKey, value);
    if (this.expiring) this.refreshed.get(key)!.set(mapKey, this.context.clock());
    this.changed.add(key);
  }

  remove(mapKey: string): void {
    const key = this.context.currentKey;
    const map = this.rows.get(key);
    if (map !== undefined && map.has(mapKey)) this.removeEntry(key, map, this.refreshed.get(key), mapKey);
  }

  entries(): IterableIterator<[string, V]> {
    return this.readAll().entries();
  }

  keys(): IterableIterator<string> {
    return this.readAll().keys();
  }

  /** The current key's entries for iterating, after removing the expired ones and refreshing the rest when reads refresh. */
  private readAll(): ReadonlyMap<string, V> {
    const key = this.context.currentKey;
    if (this.expiring && this.rows.has(key)) {
      const now = this.context.clock();
      this.removeExpired(key, now);
      const times = this.refreshed.get(key);
      if (times !== undefined && this.refreshOnRead) {
        for (const mapKey of times.keys()) times.set(mapKey, now);
        this.changed.add(key);
      }
    }
    return this.rows.get(key) ?? noEntries;
  }

  private removeEntry(key: Key, map: Map<string, V>, times: Map<string, number> | undefined, mapKey: string): void {
    map.delete(mapKey);
    times?.delete(mapKey);
    if (map.size === 0) this.removeRow(key);
    else this.changed.add(key);
  }

  protected removeExpired(key: Key, now: number): void {
    const map = this.rows.get(key)!;
    const times = this.refreshed.get(key)!;
    for (const mapKey of times.keys()) {
      if (this.isExpired(times.get(mapKey)!, now)) this.removeEntry(key, map, times, mapKey);
    }
  }

  protected row(key: Key): MapRow<V> | undefined {
    const map = this.rows.get(key);
    if (map === undefined) return undefined;
    const entries = [...map];
    if (!this.expiring) return { entries };
    const times = this.refreshed.get(key)!;
    return { entries, refreshed: entries.map(([mapKey]) => times.get(mapKey)!) };
  }

  restoreRow(key: Key, row: unknown, now: number): void {
    if (
      !(
        isRecord(row) &&
        Array.isArray(row.entries) &&
        row.entries.length > 0 &&
        row.entries.every((entry) => Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string') &&
        isTimes(row.refreshed, row.entries.length)
      )
    ) {
      throw this.invalidRow(key, 'a map state row { entries: [[map key, value], …], refreshed? } with at least one entry');
    }
    const { entries, refreshed } = row as unknown as MapRow<V>;
    this.rows.set(key, new Map(entries));
    if (this.expiring) this.refreshed.set(key, new Map(entries.map(([mapKey], index) => [mapKey, refreshed?.[index] ?? now])));
  }
}
