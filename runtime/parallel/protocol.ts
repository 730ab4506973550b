// The messages between the main thread and the worker threads of a run, and between workers. Every message is
// structured-cloned once; records cross threads in batches, one message per peer per exchange pass, never one
// message per record.

import type { Key, StateNamespace } from '../api.ts';
import type { Column, RecordColumns } from './columns.ts';
import type { StateSnapshot } from '../checkpoints/snapshot.ts';
import type { PreAggregated } from '../metrics.ts';
import type { RestoredSources, SourcePositions, TaskContext } from '../task-group.ts';
import type { MessagePort } from 'node:worker_threads';

/** Marks workerData as pipec's: a bundle imported by a worker thread serves tasks only then. */
export const WORKER_PROTOCOL = 'pipec-tasks-1';

/** What every worker of a run is told about it, besides what the tasks are (TaskContext). */
export interface WorkerRun extends TaskContext {
  readonly maxParallelism: number;
  readonly batchSize: number;
  readonly restored: RestoredSources | undefined;
  /** Sinks that take records as JSON lines (SinkConnector.writeLines): workers serialise what their tasks write to them. */
  readonly jsonLinesSinks: readonly string[];
}

export interface WorkerSetup extends WorkerRun {
  readonly protocol: typeof WORKER_PROTOCOL;
  readonly workerIndex: number;
  /** Per worker, the tasks it runs (global task indexes). */
  readonly taskIndexesByWorker: readonly (readonly number[])[];
  /** Per worker, the port to it (undefined at this worker's own index). */
  readonly peers: readonly (MessagePort | undefined)[];
}

/** A row of a restored checkpoint for one worker: keyed rows name their task; broadcast rows go to every task. */
export type RestoreRow = readonly [task: number | null, uid: string, key: Key, namespace: StateNamespace, value: unknown];

export type Command =
  | { readonly type: 'poll'; readonly limit: number }
  | { readonly type: 'advance'; readonly watermark: number }
  | { readonly type: 'time'; readonly now: number }
  | { readonly type: 'snapshot'; readonly full: boolean }
  | { readonly type: 'positions' }
  /** Posted without a reply: rows come in many messages, then `restored`. */
  | { readonly type: 'restore'; readonly rows: readonly RestoreRow[] }
  | { readonly type: 'restored'; readonly watermark: number }
  | { readonly type: 'completed' }
  | { readonly type: 'close' };

/** What a worker reports after a command, besides its result: what its tasks wrote, counted and logged meanwhile. */
export interface Report {
  readonly type: 'done';
  readonly result: PollReply | StateSnapshot | SourcePositions | undefined;
  /**
   * Per sink id, the records the worker's tasks wrote since the previous report, in order: as JSON lines for the
   * sinks that take them, else as columns when they can be.
   */
  readonly sinks: readonly (readonly [string, SinkOutput])[];
  /** Counter increments since the previous report (JobMetrics maps as entries). */
  readonly metrics: MetricsDelta;
  readonly logs: readonly string[];
  readonly rows: number;
  readonly residentRows: number;
}

export type SinkOutput = RecordColumns | unknown[] | { readonly lines: string; readonly records: number };

export interface PollReply {
  readonly polled: number;
  readonly ended: boolean;
  readonly low: number;
}

export interface MetricsDelta {
  readonly recordsIn: readonly (readonly [string, number])[];
  readonly badRecords: readonly (readonly [string, number])[];
  readonly lateRecords: readonly (readonly [string, number])[];
  readonly droppedRecords: readonly (readonly [string, number])[];
  readonly preAggregated: readonly (readonly [string, PreAggregated])[];
}

export interface Ready {
  readonly type: 'ready';
  readonly operatorCount: number;
  /** Some operator has onProcessingTime. */
  readonly processingTime: boolean;
  readonly keyedUids: readonly string[];
  readonly broadcastUids: readonly string[];
}

export interface Failed {
  readonly type: 'failed';
  readonly message: string;
  readonly stack: string | undefined;
}

export type WorkerMessage = Ready | Report | Failed;

/**
 * One exchange pass from one worker to another: per exchange (by its index in creation order, which is
 * topological), the records for the receiving worker's tasks; and whether this worker sent any record to any peer
 * in the pass (when none did, the exchanges are settled).
 */
export interface ExchangePass {
  readonly batches: readonly ExchangeBatch[];
  readonly sentAny: boolean;
}

/** Records of one exchange for one worker, as columns (runtime/parallel/columns.ts): per record, its task, key and time. */
export interface ExchangeBatch {
  readonly exchange: number;
  readonly tasks: Int32Array;
  readonly keys: Column;
  /** As columns, or as they are when they are not records of one shape. */
  readonly records: RecordColumns | unknown[];
  readonly times: Float64Array;
  /** Records of windows that had not fired, folded into accumulators for the window step the exchange feeds. */
  readonly partials: ExchangePartials | undefined;
}

/** Accumulators of a window step, per key and window (PreAggregatingWindow), each for the task that owns its key. */
export interface ExchangePartials {
  readonly tasks: Int32Array;
  readonly keys: Column;
  /** The windows' starts. */
  readonly starts: Float64Array;
  /** As WindowAggregation.save gives them. */
  readonly accumulators: readonly unknown[];
  /** The records folded into them. */
  readonly records: number;
}
