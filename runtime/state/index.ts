// The state backends behind one door: what the executor opens for a run, and what restore and `pipec state inspect` read.

import { assertNever } from '../assert.ts';
import type { KeyGroupRange, StateBackend, StateBackendKind, StateRow } from './backend.ts';
import { MemoryStateBackend, readMemoryCheckpoint } from './memory.ts';
import { readRocksDBCheckpoint, RocksDBStateBackend } from './rocksdb.ts';

export type { CheckpointStateStats, KeyGroupRange, StateBackend, StateBackendKind, StateRow, StateRowAddress } from './backend.ts';

/**
 * The live backend of one run. rocksdb keeps its database in `workDirectory` (created; an earlier run's database
 * there is deleted) and, with `restoreFrom` (a checkpoint's state directory), starts from that checkpoint's rows.
 * memory keeps nothing on disk and loads nothing: the executor restores rows into the operators, and the next
 * checkpoint writes every row anyway.
 */
export async function openStateBackend(
  kind: StateBackendKind,
  workDirectory: string,
  restoreFrom?: string,
): Promise<StateBackend> {
  switch (kind) {
    case 'memory':
      return new MemoryStateBackend();
    case 'rocksdb':
      return RocksDBStateBackend.open(workDirectory, restoreFrom);
    default:
      return assertNever(kind);
  }
}

/**
 * Calls `visit` with every row of key groups [first, last] in a checkpoint's state directory and returns how many
 * there were, leaving the directory as it was. Rows come sorted by key group, then uid.
 */
export function readCheckpointState(
  directory: string,
  kind: StateBackendKind,
  keyGroups: KeyGroupRange,
  visit: (row: StateRow) => void,
): Promise<number> {
  switch (kind) {
    case 'memory':
      return readMemoryCheckpoint(directory, keyGroups, visit);
    case 'rocksdb':
      return readRocksDBCheckpoint(directory, keyGroups, visit);
    default:
      return assertNever(kind);
  }
}
