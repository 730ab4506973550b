// Where keyed state persists between checkpoints: the interface of the `memory` and `rocksdb` backends.
//
// Operators keep their working state in memory (the hot path never waits on a backend). At each checkpoint the
// executor collects the rows operators changed (OperatorState.snapshot) and hands them to the backend in one batch;
// the backend then writes the checkpoint's copy of the state into the checkpoint's directory. Under a memory
// budget, operators drop clean rows from memory after a checkpoint, and the executor reads them back in batches.

import type { Key, StateNamespace } from '../api.ts';

/** One row of keyed state: the state of one key (and namespace) of one step. */
export interface StateRow {
  /** hash(key) mod max parallelism: the unit a checkpoint is split by when restored at another parallelism. */
  readonly keyGroup: number;
  /** The step's state id (its uid, else its id). */
  readonly uid: string;
  readonly key: Key;
  readonly namespace: StateNamespace;
  /** Plain JSON data; undefined in a change set means the row was deleted. */
  readonly value: unknown;
}

/** Where a row is filed: a row without its value. */
export type StateRowAddress = Omit<StateRow, 'value'>;

export type StateBackendKind = 'memory' | 'rocksdb';

/** Key groups `first` to `last`, both included: what one task owns, and what it reads back from a checkpoint. */
export interface KeyGroupRange {
  readonly first: number;
  readonly last: number;
}

export interface StateBackend {
  readonly kind: StateBackendKind;
  /**
   * True when `write` takes only the rows changed since the previous checkpoint (rocksdb keeps the rest); false
   * when every checkpoint needs every row (memory: each checkpoint is a full copy).
   */
  readonly incremental: boolean;
  /** Applies one checkpoint's rows (puts, and deletes where value is undefined) as one atomic batch. */
  write(rows: readonly StateRow[]): Promise<void>;
  /**
   * The values of rows as of the last `write`, in the order asked, undefined for a row it does not hold; read in one
   * batch. Operators under a memory budget read back the rows they evicted. Only an incremental backend holds rows
   * between checkpoints: memory throws.
   */
  read(rows: readonly StateRowAddress[]): Promise<unknown[]>;
  /**
   * Writes the state as of the last `write` into `directory` (it exists and is empty). rocksdb flushes and
   * hard-links its SST files, so files unchanged since an earlier checkpoint are shared, not copied.
   */
  checkpoint(directory: string): Promise<CheckpointStateStats>;
  close(): Promise<void>;
}

export interface CheckpointStateStats {
  /** Bytes of state in the checkpoint's directory. */
  readonly bytes: number;
  /** Of those, bytes shared with earlier checkpoints (hard links); 0 for the memory backend. */
  readonly sharedBytes: number;
}
