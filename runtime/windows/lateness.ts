// What window operators share: their output options, allowed lateness, and where a record too late goes.
import type { Key, TaskMetrics } from '../api.ts';
import type { WindowAggregation } from './aggregation.ts';

/** Options every keyed window operator takes (tumbling, sliding, session, global), besides those of its kind. */
export interface WindowOperatorOptions<K extends Key, In, Acc, Out> {
  /** The step id, for metrics. */
  readonly id: string;
  /** The step's state id in checkpoints (`uid` in the spec); the step id when absent. */
  readonly uid?: string;
  /** How long after a window fired its state is kept for late records (each late record emits an updated row). */
  readonly allowedLatenessMs: number;
  readonly aggregation: WindowAggregation<K, In, Acc, Out>;
  /** A key's row of a window; `time` is the window's max timestamp, end - 1 (Flink's window.maxTimestamp()). */
  readonly emit: (key: K, row: Out, time: number) => void;
  /** A record later than its window's allowed lateness; absent when the step has no `late_output`. */
  readonly late?: (key: K, record: In, time: number) => void;
  readonly metrics: TaskMetrics;
}

/** A record arrived after every window it belongs to was past its allowed lateness: to the late output, else counted as dropped — never silently lost. */
export function rejectLateRecord<K extends Key, In, Acc, Out>(options: WindowOperatorOptions<K, In, Acc, Out>, key: K, record: In, time: number): void {
  if (options.late !== undefined) {
    options.metrics.late(options.id);
    options.late(key, record, time);
  } else {
    options.metrics.dropped(options.id);
  }
}
