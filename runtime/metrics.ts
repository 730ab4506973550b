// Counters of one run, per source, step and sink: what the end-of-run summary and progress lines report.

import type { TaskMetrics } from './api.ts';

export class JobMetrics implements TaskMetrics {
  readonly recordsIn = new Map<string, number>();
  readonly badRecords = new Map<string, number>();
  readonly lateRecords = new Map<string, number>();
  readonly droppedRecords = new Map<string, number>();
  /** Per exchange, records that crossed to another worker thread folded into window accumulators, and those accumulators. */
  readonly preAggregatedRecords = new Map<string, number>();
  readonly preAggregates = new Map<string, number>();

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

  preAggregated(exchangeId: string, records: number, accumulators: number): void {
    add(this.preAggregatedRecords, exchangeId, records);
    add(this.preAggregates, exchangeId, accumulators);
  }
}

function add(counters: Map<string, number>, name: string, count: number): void {
  counters.set(name, (counters.get(name) ?? 0) + count);
}

export function total(counters: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const value of counters.values()) sum += value;
  return sum;
}
