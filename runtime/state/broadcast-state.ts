// Broadcast state: maps a broadcast stream writes on every task and keyed records read, as Flink's BroadcastState.

import type { Key, OperatorState, StateNamespace } from '../api.ts';
import { DeclaredStates, StateTable } from './keyed-state-tables.ts';

/** The keyed side's view of a broadcast state: it reads, only the broadcast side writes (Flink's ReadOnlyBroadcastState). */
export interface ReadOnlyBroadcastState<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  entries(): IterableIterator<[string, V]>;
  keys(): IterableIterator<string>;
  readonly size: number;
}

/** The broadcast side's view: every task applies the same broadcast records, so every task holds the same map. */
export interface BroadcastState<V> extends ReadOnlyBroadcastState<V> {
  /** `value` is plain JSON data, kept as given: put a new value rather than change one that was put. */
  put(key: string, value: V): void;
  remove(key: string): void;
  clear(): void;
}

class BroadcastStateTable<V> extends StateTable<string, V> implements BroadcastState<V> {
  get(key: string): V | undefined {
    return this.rows.get(key);
  }

  has(key: string): boolean {
    return this.rows.has(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.rows.entries();
  }

  keys(): IterableIterator<string> {
    return this.rows.keys();
  }

  put(key: string, value: V): void {
    this.rows.set(key, value);
    this.changed.add(key);
  }

  remove(key: string): void {
    if (this.rows.delete(key)) this.changed.add(key);
  }

  clear(): void {
    for (const key of this.rows.keys()) this.changed.add(key);
    this.rows.clear();
  }

  protected row(key: string): V | undefined {
    return this.rows.get(key);
  }

  restoreRow(key: string, value: unknown): void {
    this.rows.set(key, value as V);
  }
}

/**
 * The broadcast states of one step in one task: operator state, not keyed. In checkpoints each map entry is a row
 * (the map key as key, the state's name as namespace, the value as it is); the operator offers this store as its
 * `broadcastState`, so a restore gives every row to every task, whatever key group the row is filed under.
 */
export class BroadcastStateStore extends DeclaredStates<BroadcastStateTable<unknown>> implements OperatorState {
  /** Its rows are filed under the uid `<step uid>/broadcast`, apart from the step's keyed rows (a uid has no `/`). */
  constructor(stepUid: string) {
    super(`${stepUid}/broadcast`, 'broadcast state');
  }

  map<V>(name: string): BroadcastState<V> {
    return this.declare(new BroadcastStateTable<V>(name));
  }

  restoreRow(key: Key, namespace: StateNamespace, value: unknown): void {
    this.tableOf(namespace).restoreRow(String(key), value);
  }
}
