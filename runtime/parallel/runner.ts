// Where the tasks of a run execute: all on the calling thread (LocalTasks), or spread over worker threads
// (WorkerTasks). The executor drives either through this interface, one phase at a time: each phase ends when every
// record it produced has passed every operator and exchange, so between phases the run is at a consistent cut.

import type { CheckpointCut, RestoreTarget } from '../checkpoints/coordinator.ts';

export interface PollResult {
  /** Source records polled in this phase. */
  readonly polled: number;
  /** Every source of every task has ended. */
  readonly ended: boolean;
  /** The watermark the sources allow now; Infinity when they have nothing to say (every split idle). */
  readonly low: number;
}

export interface StateCount {
  /** Keyed state rows, in memory or evicted. */
  readonly rows: number;
  /** Rows whose values are in memory. */
  readonly residentRows: number;
}

export interface TaskRunner extends Pick<CheckpointCut, 'snapshot' | 'sourcePositions'> {
  /** Operators per task (the same in every task), in topological order. */
  readonly operatorCount: number;
  /** The process's tasks' state, for the restore of a checkpoint. */
  readonly restoreTarget: RestoreTarget;
  /** Polls every source that has not ended once, at most `limit` records in all (Infinity: a batch each). */
  poll(limit: number): Promise<PollResult>;
  /**
   * The watermark advances to `watermark`: operator by operator in topological order, each across all tasks, so an
   * upstream window's output reaches a downstream operator before that operator sees the same watermark.
   */
  advance(watermark: number): Promise<void>;
  /** Processing time advanced to `now`. */
  processingTime(now: number): Promise<void>;
  /** Rows of keyed state now. */
  countState(): StateCount;
  /** The checkpoint just taken completed: sources may tell their systems (a Kafka reader commits its offsets). */
  checkpointCompleted(): Promise<void>;
  /** Closes the readers of every task; the runner is done. */
  close(): Promise<void>;
}
