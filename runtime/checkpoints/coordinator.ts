// Takes checkpoints of a running job and restores a job from one.
//
// The executor runs every task of a process on one thread and calls the coordinator between two rounds of
// batches, when every record polled so far has gone through every operator and exchange and the sinks are flushed:
// that instant is already a consistent cut (what Flink's aligned barriers establish across threads), so a
// checkpoint is a snapshot of it: source positions, keyed state, watermarks and the sinks' pending output. Under a
// memory budget the executor first loads every row operators asked for, so that no record waits for state at the
// cut; after the checkpoint, every row is clean and operators evict what exceeds the budget.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobDefinition, Key, Operator, OperatorState, SinkConnector, SourceReader, StateNamespace, StateRowWriter } from '../api.ts';
import { keyGroupOf, taskOfKeyGroup } from '../keys.ts';
import type { StateBackend, StateBackendKind, StateRow } from '../state/backend.ts';
import { openStateBackend, readCheckpointState } from '../state/index.ts';
import { compareStateSchemas, fieldsToReset } from '../state/schema.ts';
import { MemoryBudget } from './memory-budget.ts';
import type { WatermarkTracker } from '../time/watermarks.ts';
import {
  findCheckpoint,
  nextCheckpointId,
  pruneCheckpoints,
  readMetadata,
  STATE_DIRECTORY,
  workDirectory,
  writeCheckpoint,
  type CheckpointLocation,
  type CheckpointMetadata,
  type SplitCheckpoint,
} from './storage.ts';

/** How a run takes checkpoints: the spec's `checkpoints:` and `state:`, with the command line's directory. */
export interface RunCheckpointSettings {
  /** Absolute. */
  readonly directory: string;
  readonly intervalMs: number;
  readonly mode: 'exactly_once' | 'at_least_once';
  readonly retain: number;
  readonly backend: StateBackendKind;
  /**
   * `--state-memory`: the bytes the values of keyed state rows may take in memory (estimated), over all operators;
   * past it, operators evict clean rows to the backend after each checkpoint. Needs the rocksdb backend.
   */
  readonly memoryBudgetBytes?: number;
}

/** The parts of a run a checkpoint cuts through. */
export interface CheckpointCut {
  /** Per task, its operators. */
  readonly tasks: readonly { readonly operators: readonly Operator[] }[];
  readonly sources: readonly { readonly definition: { readonly id: string }; readonly reader: SourceReader; readonly watermarks: WatermarkTracker }[];
  readonly sinks: ReadonlyMap<string, SinkConnector>;
  readonly watermark: number;
  readonly recordsIn: number;
}

export interface CheckpointStats {
  readonly id: number;
  readonly path: string;
  readonly durationMs: number;
  readonly stateRows: number;
  readonly stateBytes: number;
  readonly sharedBytes: number;
}

/** A checkpoint chosen by `--restore`, read and found compatible with the job. */
export interface CheckpointToRestore {
  readonly location: CheckpointLocation;
  readonly metadata: CheckpointMetadata;
}

/**
 * Finds and reads the checkpoint `restore` names and refuses one this job cannot read: another job, another
 * number of key groups, or state whose schema changed incompatibly (the same rules as PC401 at build time).
 */
export async function checkpointToRestore(
  restore: string,
  directory: string | undefined,
  job: JobDefinition,
  maxParallelism: number,
): Promise<CheckpointToRestore> {
  const location = await findCheckpoint(restore, directory);
  const metadata = await readMetadata(location.path);
  const refuse = (why: string) => new Error(`cannot restore ${location.path}: ${why}`);
  if (metadata.job !== job.name) throw refuse(`it is a checkpoint of pipeline '${metadata.job}', not '${job.name}'`);
  if (metadata.maxParallelism !== maxParallelism) {
    throw refuse(`it has ${metadata.maxParallelism} key groups; run with --max-parallelism ${metadata.maxParallelism} (any --parallelism up to it works)`);
  }
  const problems = compareStateSchemas(metadata.stateSchema, job.stateSchema);
  if (problems.length > 0) {
    throw refuse(
      `its state does not fit the pipeline any more (PC401):\n${problems.map((problem) => `  step ${problem.step}: ${problem.description}`).join('\n')}\n` +
        'give the step a new `uid` to start its state afresh, or declare `migrate: { reset: [field] }` on it',
    );
  }
  return { location, metadata };
}

/**
 * Puts a checkpoint's keyed state back into the operators of the tasks: each row goes to the task that owns its
 * key group now (the parallelism may differ from the checkpoint's), to the operator with the row's uid; then every
 * operator re-registers its timers at the checkpoint's watermark. Returns the rows restored; rows of a uid no
 * operator has (a step removed, or its uid changed) are dropped, and said so. With a memory budget (when the
 * backend holds the checkpoint's rows), keyed rows past it stay in the backend, as if evicted.
 */
export async function restoreKeyedState(
  restored: CheckpointToRestore,
  job: JobDefinition,
  tasks: readonly { readonly operators: readonly Operator[] }[],
  log: (line: string) => void,
  budget?: MemoryBudget,
): Promise<number> {
  const { metadata, location } = restored;
  const reset = fieldsToReset(metadata.stateSchema, job.stateSchema);
  const statesByTask = tasks.map((task) => new Map(statefulOperators(task.operators).map((state) => [state.uid, state])));
  // Broadcast state is alike in every task: each of its rows goes to all of them.
  const broadcastByUid = new Map<string, OperatorState[]>();
  for (const task of tasks) {
    for (const operator of task.operators) {
      if (operator.broadcastState === undefined) continue;
      const uid = operator.broadcastState.uid;
      broadcastByUid.set(uid, [...(broadcastByUid.get(uid) ?? []), operator.broadcastState]);
    }
  }
  const dropped = new Map<string, number>();
  let rows = 0;
  await readCheckpointState(join(location.path, STATE_DIRECTORY), metadata.backend, { first: 0, last: metadata.maxParallelism - 1 }, (row) => {
    const broadcast = broadcastByUid.get(row.uid);
    const state = broadcast === undefined ? statesByTask[taskOfKeyGroup(row.keyGroup, tasks.length, metadata.maxParallelism)].get(row.uid) : undefined;
    if (broadcast === undefined && state === undefined) {
      dropped.set(row.uid, (dropped.get(row.uid) ?? 0) + 1);
      return;
    }
    rows++;
    const stale = reset.get(row.uid);
    const value = stale === undefined ? row.value : withoutAccumulatorFields(row.value, stale);
    if (broadcast !== undefined) for (const copy of broadcast) copy.restoreRow(row.key, row.namespace, value);
    else if (budget !== undefined) budget.restoreRow(state!, row.key, row.namespace, value);
    else state!.restoreRow(row.key, row.namespace, value);
  });
  for (const [uid, count] of dropped) log(`checkpoint ${metadata.id}: dropped ${count} state rows of '${uid}', which no step of the pipeline has now`);
  const watermark = metadata.watermark ?? -Infinity;
  for (const states of statesByTask) for (const state of states.values()) state.restored(watermark);
  for (const states of broadcastByUid.values()) for (const state of states) state.restored(watermark);
  return rows;
}

/** Source positions of a restored checkpoint, per source id: what SourceContext.resume takes. */
export function resumePositions(metadata: CheckpointMetadata, sourceId: string): ReadonlyMap<number, unknown> {
  return new Map(Object.entries(metadata.sources[sourceId] ?? {}).map(([split, checkpoint]) => [Number(split), checkpoint.position]));
}

/** Gives each split's tracker back the highest event time it had seen. */
export function restoreWatermarks(metadata: CheckpointMetadata, sourceId: string, reader: SourceReader, watermarks: WatermarkTracker): void {
  const splits = metadata.sources[sourceId] ?? {};
  for (const split of reader.splits) {
    const maxEventTime = splits[split]?.maxEventTime;
    if (maxEventTime !== undefined && maxEventTime !== null) watermarks.restoreSplit(split, maxEventTime);
  }
}

export class CheckpointCoordinator {
  private constructor(
    private readonly job: JobDefinition,
    private readonly settings: RunCheckpointSettings,
    private readonly parallelism: number,
    private readonly maxParallelism: number,
    private readonly backend: StateBackend,
    private readonly work: string,
    private nextId: number,
    /**
     * The backend does not hold the restored rows (it started empty: another kind, or a migration reset fields):
     * the next snapshot is full, and a restore keeps every row in memory until then.
     */
    private needsFullSnapshot: boolean,
    /** With `memoryBudgetBytes`. */
    readonly memoryBudget: MemoryBudget | undefined,
  ) {}

  /** Opens the run's state backend (from the restored checkpoint's state when it has the same kind). */
  static async start(
    job: JobDefinition,
    settings: RunCheckpointSettings,
    parallelism: number,
    maxParallelism: number,
    restored: CheckpointToRestore | undefined,
  ): Promise<CheckpointCoordinator> {
    if (settings.memoryBudgetBytes !== undefined && settings.backend !== 'rocksdb') {
      throw new Error(`a state memory budget needs the rocksdb state backend, which keeps evicted rows; the job's backend is ${settings.backend}`);
    }
    const work = await workDirectory(settings.directory);
    // The backend starts from the checkpoint's own files when they hold the rows as the operators will: same kind,
    // and no field a migration resets (else it starts empty, and the first snapshot writes every row).
    const reuse =
      restored !== undefined && restored.metadata.backend === settings.backend && fieldsToReset(restored.metadata.stateSchema, job.stateSchema).size === 0;
    const backend = await openStateBackend(settings.backend, work, reuse ? join(restored.location.path, STATE_DIRECTORY) : undefined);
    // Ids only grow, also after restoring a checkpoint of another directory: sinks name pending output by them.
    const nextId = Math.max(await nextCheckpointId(settings.directory), (restored?.metadata.id ?? 0) + 1);
    const budget = settings.memoryBudgetBytes === undefined ? undefined : new MemoryBudget(settings.memoryBudgetBytes, backend, maxParallelism);
    return new CheckpointCoordinator(job, settings, parallelism, maxParallelism, backend, work, nextId, restored !== undefined && !reuse, budget);
  }

  get delivery(): RunCheckpointSettings['mode'] {
    return this.settings.mode;
  }

  /**
   * Takes a checkpoint of the cut: the operators' changed rows go to the backend in one batch, the sinks prepare
   * their output, the checkpoint is written atomically, and only then do the sinks commit (Flink's
   * notifyCheckpointComplete): output becomes visible only once a checkpoint that covers it exists.
   */
  async take(cut: CheckpointCut): Promise<CheckpointStats> {
    const started = performance.now();
    const id = this.nextId++;
    const full = !this.backend.incremental || this.needsFullSnapshot;
    const rows: StateRow[] = [];
    let stateRows = 0;
    for (const [index, task] of cut.tasks.entries()) {
      for (const operator of task.operators) {
        if (operator.state !== undefined) {
          operator.state.snapshot(this.rowWriter(operator.state.uid, rows), full);
          stateRows += operator.state.size;
        }
        // Every task holds the same broadcast state: the first task's copy is the checkpoint's; the others are
        // snapshotted too, into nothing, so that they count their rows as unchanged alike.
        const broadcast = operator.broadcastState;
        if (broadcast !== undefined) broadcast.snapshot(index === 0 ? this.rowWriter(broadcast.uid, rows) : DISCARD, full);
        if (broadcast !== undefined && index === 0) stateRows += broadcast.size;
      }
    }
    await this.backend.write(rows);
    this.needsFullSnapshot = false;

    const sources: Record<string, Record<string, SplitCheckpoint>> = {};
    for (const { definition, reader, watermarks } of cut.sources) {
      const splits = (sources[definition.id] ??= {});
      for (const split of reader.splits) {
        const maxEventTime = watermarks.maxEventTime(split);
        splits[split] = { position: reader.checkpointPosition(split), maxEventTime: Number.isFinite(maxEventTime) ? maxEventTime : null };
      }
    }
    const prepared: Record<string, unknown> = {};
    for (const [sinkId, sink] of cut.sinks) if (sink.prepareCommit !== undefined) prepared[sinkId] = await sink.prepareCommit(id);

    const { path, metadata } = await writeCheckpoint(
      this.settings.directory,
      id,
      async (stateDirectory) => {
        const { bytes, sharedBytes } = await this.backend.checkpoint(stateDirectory);
        return { stateBytes: bytes, sharedBytes };
      },
      (stats): CheckpointMetadata => ({
        format: 1,
        id,
        job: this.job.name,
        spec: this.job.spec,
        pipecVersion: this.job.pipecVersion,
        completedAt: new Date().toISOString(),
        parallelism: this.parallelism,
        maxParallelism: this.maxParallelism,
        backend: this.settings.backend,
        stateSchema: this.job.stateSchema,
        watermark: Number.isFinite(cut.watermark) ? cut.watermark : null,
        sources,
        sinks: prepared,
        recordsIn: cut.recordsIn,
        stateRows,
        ...stats,
      }),
    );
    for (const [sinkId, sink] of cut.sinks) if (sinkId in prepared) await sink.commit!(prepared[sinkId]);
    for (const { definition, reader } of cut.sources) {
      const splits = sources[definition.id];
      await reader.checkpointComplete?.(new Map(reader.splits.map((split) => [split, splits[split].position])));
    }
    await pruneCheckpoints(this.settings.directory, this.settings.retain);
    this.memoryBudget?.evict();
    const { stateBytes, sharedBytes } = metadata;
    return { id, path, durationMs: performance.now() - started, stateRows, stateBytes, sharedBytes };
  }

  /**
   * The memory budget for a restore: undefined when the backend does not hold the restored rows as restored
   * (another backend kind, a migration), for then every row must stay in memory until the first checkpoint has
   * written them.
   */
  get restoreBudget(): MemoryBudget | undefined {
    return this.needsFullSnapshot ? undefined : this.memoryBudget;
  }

  /** Closes the backend and removes the run's live state (the checkpoints keep what they need). */
  async close(): Promise<void> {
    await this.backend.close();
    await rm(this.work, { recursive: true, force: true });
  }

  private rowWriter(uid: string, rows: StateRow[]) {
    const { maxParallelism, memoryBudget } = this;
    return {
      put(key: Key, namespace: StateNamespace, value: unknown): void {
        rows.push({ keyGroup: keyGroupOf(key, maxParallelism), uid, key, namespace, value });
        memoryBudget?.observe(uid, key, namespace, value);
      },
      delete(key: Key, namespace: StateNamespace): void {
        rows.push({ keyGroup: keyGroupOf(key, maxParallelism), uid, key, namespace, value: undefined });
      },
    };
  }
}

/** A window row (`{ acc, … }`, OperatorState) with the given aggregate fields left out of its accumulator. */
function withoutAccumulatorFields(value: unknown, fields: ReadonlySet<string>): unknown {
  if (typeof value !== 'object' || value === null || !('acc' in value) || typeof value.acc !== 'object' || value.acc === null) return value;
  return { ...value, acc: Object.fromEntries(Object.entries(value.acc).filter(([field]) => !fields.has(field))) };
}

const DISCARD: StateRowWriter = { put() {}, delete() {} };

function statefulOperators(operators: readonly Operator[]): OperatorState[] {
  return operators.flatMap((operator) => (operator.state === undefined ? [] : [operator.state]));
}
