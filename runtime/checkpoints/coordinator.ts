// Takes checkpoints of a running job and restores a job from one.
//
// The executor calls the coordinator between two phases, when every record polled so far has gone through every
// operator and exchange (on every worker thread: each phase is a barrier) and the sinks are flushed: that instant is
// already a consistent cut (what Flink's aligned barriers establish), so a checkpoint is a snapshot of it: source
// positions, keyed state (each thread snapshots its own tasks), watermarks and the sinks' pending output. Under a
// memory budget the executor first loads every row operators asked for, so that no record waits for state at the
// cut; after the checkpoint, every row is clean and operators evict what exceeds the budget.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobDefinition, Key, SinkConnector, StateNamespace } from '../api.ts';
import { taskOfKeyGroup } from '../keys.ts';
import type { StateBackend, StateBackendKind } from '../state/backend.ts';
import type { SourcePositions } from '../task-group.ts';
import type { StateSnapshot } from './snapshot.ts';
import { openStateBackend, readCheckpointState } from '../state/index.ts';
import { compareStateSchemas, fieldsToReset } from '../state/schema.ts';
import { MemoryBudget } from './memory-budget.ts';
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
  type MemberCheckpoint,
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

/**
 * What commits its output with checkpoints (Flink's two-phase commit): a sink, or a distributed run's exchange with
 * the other members.
 */
export type CheckpointParticipant = Pick<SinkConnector, 'flush' | 'prepareCommit' | 'commit'>;

/** The parts of a run a checkpoint cuts through. */
export interface CheckpointCut {
  /** The operators' keyed state rows: those changed since the previous checkpoint, or every one with `full`. */
  snapshot(full: boolean): Promise<StateSnapshot>;
  /** Where each source split resumes (readers first make durable what they keep for themselves: SourceReader.flush). */
  sourcePositions(): Promise<SourcePositions>;
  readonly sinks: ReadonlyMap<string, CheckpointParticipant>;
  readonly watermark: number;
  readonly recordsIn: number;
  /** In a distributed run: the member's tasks, each with its own positions (CheckpointMetadata.member). */
  readonly member?: MemberCheckpoint;
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
  refuseUnrestorable(location, metadata, job, maxParallelism);
  return { location, metadata };
}

/** Throws when this job cannot restore the checkpoint (checkpointToRestore says which it refuses). */
export function refuseUnrestorable(location: CheckpointLocation, metadata: CheckpointMetadata, job: JobDefinition, maxParallelism: number): void {
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
}

/** Where a restore puts keyed state rows: into the operators of the run's tasks, on whatever thread they run. */
export interface RestoreTarget {
  /** The uids of the keyed state and of the broadcast state the tasks have. */
  readonly keyedUids: ReadonlySet<string>;
  readonly broadcastUids: ReadonlySet<string>;
  /** A row of keyed state, for `task`, which owns its key group now. */
  keyedRow(task: number, uid: string, key: Key, namespace: StateNamespace, value: unknown): void;
  /** A row of broadcast state, for every task. */
  broadcastRow(uid: string, key: Key, namespace: StateNamespace, value: unknown): void;
  /** Every row is in: operators register the timers their rows need at the checkpoint's watermark. */
  restored(watermark: number): Promise<void>;
}

/**
 * Puts a checkpoint's keyed state back into the operators of the tasks: each row goes to the task that owns its
 * key group now (the parallelism may differ from the checkpoint's), to the operator with the row's uid; then every
 * operator re-registers its timers at the checkpoint's watermark. Returns the rows restored; rows of a uid no
 * operator has (a step removed, or its uid changed) are dropped, and said so.
 */
export async function restoreKeyedState(
  restored: CheckpointToRestore,
  job: JobDefinition,
  parallelism: number,
  target: RestoreTarget,
  log: (line: string) => void,
): Promise<number> {
  const { metadata, location } = restored;
  const reset = fieldsToReset(metadata.stateSchema, job.stateSchema);
  const dropped = new Map<string, number>();
  let rows = 0;
  await readCheckpointState(join(location.path, STATE_DIRECTORY), metadata.backend, { first: 0, last: metadata.maxParallelism - 1 }, (row) => {
    const broadcast = target.broadcastUids.has(row.uid);
    if (!broadcast && !target.keyedUids.has(row.uid)) {
      dropped.set(row.uid, (dropped.get(row.uid) ?? 0) + 1);
      return;
    }
    rows++;
    const stale = reset.get(row.uid);
    const value = stale === undefined ? row.value : withoutAccumulatorFields(row.value, stale);
    if (broadcast) target.broadcastRow(row.uid, row.key, row.namespace, value);
    else target.keyedRow(taskOfKeyGroup(row.keyGroup, parallelism, metadata.maxParallelism), row.uid, row.key, row.namespace, value);
  });
  for (const [uid, count] of dropped) log(`checkpoint ${metadata.id}: dropped ${count} state rows of '${uid}', which no step of the pipeline has now`);
  await target.restored(metadata.watermark ?? -Infinity);
  return rows;
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
    /** A distributed run's member restored its tasks from members' checkpoints (runtime/distributed/restore.ts). */
    restoredElsewhere = false,
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
    const needsFullSnapshot = (restored !== undefined && !reuse) || restoredElsewhere;
    return new CheckpointCoordinator(job, settings, parallelism, maxParallelism, backend, work, nextId, needsFullSnapshot, budget);
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
    const { rows, stateRows } = await cut.snapshot(full);
    await this.backend.write(rows);
    this.needsFullSnapshot = false;
    const sources = await cut.sourcePositions();
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
        ...(cut.member === undefined ? {} : { member: cut.member }),
      }),
    );
    for (const [sinkId, sink] of cut.sinks) if (sinkId in prepared) await sink.commit!(prepared[sinkId]);
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
}

/** A window row (`{ acc, … }`, OperatorState) with the given aggregate fields left out of its accumulator. */
function withoutAccumulatorFields(value: unknown, fields: ReadonlySet<string>): unknown {
  if (typeof value !== 'object' || value === null || !('acc' in value) || typeof value.acc !== 'object' || value.acc === null) return value;
  return { ...value, acc: Object.fromEntries(Object.entries(value.acc).filter(([field]) => !fields.has(field))) };
}

