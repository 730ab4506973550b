// Test harness for declared state: a checkpoint kept as JSON rows that snapshots write into and restores read from, and a clock the test moves.
import type { Key, OperatorState, StateNamespace, StateRowWriter } from '../../../runtime/api.ts';

export interface RowChange {
  readonly key: Key;
  readonly namespace: StateNamespace;
  /** Undefined for a delete. */
  readonly value: unknown;
}

/**
 * The rows of one OperatorState as a backend would hold them: each row as JSON text (so a row that is not plain JSON
 * data, or that the state changes after writing it, shows up), and the changes of the last snapshot.
 */
export class CheckpointRows implements StateRowWriter {
  private readonly rows = new Map<string, { readonly key: Key; readonly namespace: StateNamespace; readonly json: string }>();
  private changes: RowChange[] = [];

  put(key: Key, namespace: StateNamespace, value: unknown): void {
    const json = JSON.stringify(value);
    this.rows.set(JSON.stringify([key, namespace]), { key, namespace, json });
    this.changes.push({ key, namespace, value: JSON.parse(json) });
  }

  delete(key: Key, namespace: StateNamespace): void {
    this.rows.delete(JSON.stringify([key, namespace]));
    this.changes.push({ key, namespace, value: undefined });
  }

  /** Snapshots `state` into these rows and returns what it wrote; a full snapshot replaces every row. */
  snapshot(state: OperatorState, full: boolean): RowChange[] {
    this.changes = [];
    if (full) this.rows.clear();
    state.snapshot(this, full);
    return this.changes;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Every row as `[key, namespace, value]` JSON text, sorted, to compare two checkpoints. */
  contents(): string[] {
    return [...this.rows.values()].map(({ key, namespace, json }) => `[${JSON.stringify(key)},${JSON.stringify(namespace)},${json}]`).sort();
  }

  /** Restores the rows whose key `owns` says (every row by default) into `state`. */
  restoreInto(state: OperatorState, owns: (key: Key) => boolean = () => true): void {
    for (const { key, namespace, json } of this.rows.values()) {
      if (owns(key)) state.restoreRow(key, namespace, JSON.parse(json));
    }
    state.restored(-Infinity);
  }
}

/** A clock the test sets: `clock.now = 100`. */
export class FakeClock {
  now = 0;
  readonly read = (): number => this.now;
}

/** Changes sorted by key and namespace, so snapshots compare regardless of order. */
export function sortedChanges(changes: readonly RowChange[]): RowChange[] {
  return [...changes].sort((a, b) => JSON.stringify([a.key, a.namespace]).localeCompare(JSON.stringify([b.key, b.namespace])));
}
