// Every task of the run on the calling thread: exchanges are direct calls of the owning task's receiver. The state
// memory budget (`--state-memory`) works only here: its loads read the backend between phases, next to the operators.

import type { Operator } from '../api.ts';
import type { RestoreTarget } from '../checkpoints/coordinator.ts';
import type { MemoryBudget } from '../checkpoints/memory-budget.ts';
import { snapshotOperators, type StateSnapshot } from '../checkpoints/snapshot.ts';
import type { TaskGroup, SourcePositions } from '../task-group.ts';
import type { PollResult, StateCount, TaskRunner } from './runner.ts';

export class LocalTasks implements TaskRunner {
  constructor(
    readonly group: TaskGroup,
    private readonly maxParallelism: number,
    private readonly batchSize: number,
    /** With `--state-memory`. */
    private readonly budget: MemoryBudget | undefined,
    /** The budget for restoring rows: absent when every restored row must stay in memory (CheckpointCoordinator.restoreBudget). */
    private readonly restoreBudget: MemoryBudget | undefined,
  ) {}

  get operatorCount(): number {
    return this.group.operatorCount;
  }

  get operators(): Operator[] {
    return this.group.tasks.flatMap((task) => task.operators);
  }

  async poll(limit: number): Promise<PollResult> {
    const polled = await this.group.poll(this.batchSize, limit);
    return { polled, ended: this.group.ended, low: this.group.lowWatermark(Date.now()) };
  }

  async advance(watermark: number): Promise<void> {
    for (let level = 0; level < this.group.operatorCount; level++) this.group.fire(level, watermark);
  }

  async processingTime(now: number): Promise<void> {
    this.group.processingTime(now);
  }

  countState(): StateCount {
    return this.group.countState();
  }

  async snapshot(full: boolean): Promise<StateSnapshot> {
    const budget = this.budget;
    return snapshotOperators(this.group.tasks, full, this.maxParallelism, budget === undefined ? undefined : (...row) => budget.observe(...row));
  }

  async sourcePositions(): Promise<SourcePositions> {
    return this.group.sourcePositions();
  }

  async checkpointCompleted(): Promise<void> {
    await this.group.checkpointCompleted();
  }

  get restoreTarget(): RestoreTarget {
    return this.group.restoreTarget(this.restoreBudget);
  }

  async close(): Promise<void> {
    await this.group.close();
  }
}
