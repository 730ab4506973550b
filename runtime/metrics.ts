// Counters of one run, per source, step and sink: what the end-of-run summary and progress lines report.

import type { TaskMetrics } from './api.ts';

export class JobMetrics implements TaskMetrics {
  readonly recordsIn = new Map<string, number>();
  readonly badRecords = new Map<string, number>();
  readonly lateRecords = new Map<string, number>();
  readonly droppedRecords = new Map<string, number>();
  /** Per exchange: records that crossed to another worker thread folded into window accumulators, and those accumulators. */
  readonly preAggregated = new Map<string, PreAggregated>();

  dropped(stepId: string, count = 1): void {
    add(this.droppedRecords, stepId, count);
  }

  late(stepId: string, count = 1): void {
    add(this.lateRecords, stepId, count);
  }

  received(sourceId: string, count: number): void {
    add(this.recordsIn, sourceId, count);
  }

  bad(sourceId: string, count = 1): void {
    add(this.badRecords, sourceId, count);
  }

  folded(exchangeId: string, records: number, accumulators: number): void {
    const counts = this.preAggregated.get(exchangeId);
    if (counts === undefined) this.preAggregated.set(exchangeId, { records, accumulators });
    else this.preAggregated.set(exchangeId, { records: counts.records + records, accumulators: counts.accumulators + accumulators });
  }
}

/** Records of an exchange that crossed worker threads folded into window accumulators (PreAggregatingWindow). */
export interface PreAggregated {
  readonly records: number;
  readonly accumulators: number;
}

function add(counters: Map<string, number>, name: string, count: number): void {
  counters.set(name, (counters.get(name) ?? 0) + count);
}

export function total(counters: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const value of counters.values()) sum += value;
  return sum;
}
