// The operators' part of a checkpoint: their keyed state rows, each filed under its key's key group, taken on the
// thread that runs the operators (the calling thread, or each worker thread for its own tasks).

import type { Key, Operator, StateNamespace, StateRowWriter } from '../api.ts';
import { keyGroupOf } from '../keys.ts';
import type { StateRow } from '../state/backend.ts';

export interface StateSnapshot {
  /** The rows changed since the previous snapshot (every row, when full), and a row without value per delete. */
  readonly rows: StateRow[];
  /** Rows the operators hold: what the checkpoint holds of them. */
  readonly stateRows: number;
}

/** Sees every row a snapshot writes (the state memory budget learns row sizes from them). */
export type RowObserver = (uid: string, key: Key, namespace: StateNamespace, value: unknown) => void;

/**
 * Snapshots the operators of `tasks` (OperatorState.snapshot): with `full`, every row; otherwise only what changed.
 * Every task holds the same broadcast state: task 0's copy is the checkpoint's; the others are snapshotted too,
 * into nothing, so that they count their rows as unchanged alike.
 */
export function snapshotOperators(
  tasks: readonly { readonly index: number; readonly operators: readonly Operator[] }[],
  full: boolean,
  maxParallelism: number,
  observe?: RowObserver,
): StateSnapshot {
  const rows: StateRow[] = [];
  let stateRows = 0;
  const writer = (uid: string): StateRowWriter => ({
    put(key, namespace, value) {
      rows.push({ keyGroup: keyGroupOf(key, maxParallelism), uid, key, namespace, value });
      observe?.(uid, key, namespace, value);
    },
    delete(key, namespace) {
      rows.push({ keyGroup: keyGroupOf(key, maxParallelism), uid, key, namespace, value: undefined });
    },
  });
  for (const task of tasks) {
    for (const operator of task.operators) {
      if (operator.state !== undefined) {
        operator.state.snapshot(writer(operator.state.uid), full);
        stateRows += operator.state.size;
      }
      const broadcast = operator.broadcastState;
      if (broadcast === undefined) continue;
      broadcast.snapshot(task.index === 0 ? writer(broadcast.uid) : DISCARD, full);
      if (task.index === 0) stateRows += broadcast.size;
    }
  }
  return { rows, stateRows };
}

const DISCARD: StateRowWriter = { put() {}, delete() {} };
