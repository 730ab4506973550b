// Every task of the run on the calling thread: exchanges are direct calls of the owning task's receiver. The state
// memory budget (`--state-memory`) works only here: its loads read the backend between phases, next to the operators.

import type { Key, Operator, OperatorState, StateNamespace } from '../api.ts';
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
    const tasks = this.group.tasks;
    const keyed = tasks.map((task) => new Map(task.operators.flatMap((operator) => (operator.state === undefined ? [] : [[operator.state.uid, operator.state] as const]))));
    const broadcast = new Map<string, OperatorState[]>();
    for (const task of tasks) {
      for (const { broadcastState } of task.operators) {
        if (broadcastState !== undefined) broadcast.set(broadcastState.uid, [...(broadcast.get(broadcastState.uid) ?? []), broadcastState]);
      }
    }
    const budget = this.restoreBudget;
    return {
      keyedUids: new Set(keyed[0]?.keys() ?? []),
      broadcastUids: new Set(broadcast.keys()),
      keyedRow(task: number, uid: string, key: Key, namespace: StateNamespace, value: unknown) {
        const state = keyed[task].get(uid)!;
        if (budget !== undefined) budget.restoreRow(state, key, namespace, value);
        else state.restoreRow(key, namespace, value);
      },
      broadcastRow(uid: string, key: Key, namespace: StateNamespace, value: unknown) {
        for (const state of broadcast.get(uid)!) state.restoreRow(key, namespace, value);
      },
      async restored(watermark: number) {
        for (const states of keyed) for (const state of states.values()) state.restored(watermark);
        for (const states of broadcast.values()) for (const state of states) state.restored(watermark);
      },
    };
  }

  async close(): Promise<void> {
    await this.group.close();
  }
}
