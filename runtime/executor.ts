// Runs a job: opens its sources and sinks, builds its tasks, and drives batches and watermarks through them until the
// sources end, the record or time limit is reached, or the run is stopped.

import type { Connectors, JobDefinition, SinkConnector, SinkContext } from './api.ts';
import {
  CheckpointCoordinator,
  checkpointToRestore,
  restoreKeyedState,
  type CheckpointParticipant,
  type CheckpointStats,
  type CheckpointToRestore,
  type RunCheckpointSettings,
} from './checkpoints/coordinator.ts';
import type { MemoryBudget } from './checkpoints/memory-budget.ts';
import { listCheckpoints } from './checkpoints/storage.ts';
import { createSinkConnector, createSourceReader } from './connectors/index.ts';
import { JobMetrics, type PreAggregated } from './metrics.ts';
import { LocalTasks } from './parallel/local.ts';
import type { TaskRunner } from './parallel/runner.ts';
import { WorkerTasks } from './parallel/workers.ts';
import { taskEnvironment, type TaskEnvironment } from './task.ts';
import { mergeSourcePositions, TaskGroup, type RestoredSources, type TaskContext } from './task-group.ts';
import type { ExchangeBridge } from './distributed/bridge.ts';
import { Reassigned } from './distributed/member.ts';
import { checkParts, restoredSources, restoredWatermark } from './distributed/restore.ts';
import {
  EXCHANGE_PARTICIPANT,
  memberCheckpoint,
  memberCheckpoints,
  memberSinkContext,
  openBridge,
  recoverOutput,
  restoreMember,
  runMember,
  type MemberAttempt,
} from './distributed/run.ts';

export interface RunOptions {
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Stop after this many source records (0 = no limit). */
  readonly maxRecords: number;
  /** Stop after this long (0 = until the sources end or the signal aborts). */
  readonly durationMs: number;
  /** Relative source paths resolve against this directory. */
  readonly cwd: string;
  /** Relative sink paths resolve against this directory. */
  readonly outputPath: string;
  /** Aborting it stops the run cleanly: windows are drained, sinks flushed. */
  readonly signal?: AbortSignal;
  /** Where log lines go (bad records, progress). */
  readonly log: (line: string) => void;
  /** Called about once a second with the progress so far, when given. */
  readonly onProgress?: (progress: RunProgress) => void;
  /** Records per source poll. */
  readonly batchSize?: number;
  /** Where sources are read from and sinks written to; the spec's connectors by default. `pipec test` passes in-memory ones. */
  readonly connectors?: Connectors;
  /** Take checkpoints (absent: none are taken, and sinks write straight out). */
  readonly checkpoints?: RunCheckpointSettings;
  /** Restore before running: `latest` (the newest under checkpoints.directory) or a checkpoint's path. */
  readonly restore?: string;
  /**
   * Run the tasks on `count` worker threads (at most one per task), each importing `module` (file URL of the job's
   * bundle, which serves tasks in a worker thread). Absent, or with in-memory connectors: on the calling thread.
   */
  readonly workers?: { readonly module: string; readonly count: number };
  /** `--kafka-servers`: bootstrap servers of every Kafka source and sink. */
  readonly kafkaServers?: readonly string[];
  /** `--app-name`, else the job's name: the default Kafka consumer group, part of Kafka transactional ids. */
  readonly appName?: string;
  /**
   * `--distributed`: this process is one member of the run, in the Kafka consumer group `<app>.members`, which
   * assigns it tasks (runtime/distributed). Needs checkpoints, in a directory every member can reach.
   */
  readonly distributed?: boolean;
}

const specConnectors: Connectors = { source: createSourceReader, sink: createSinkConnector };

export interface RunProgress {
  readonly elapsedMs: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly watermark: number;
  /** The last checkpoint completed, if any. */
  readonly checkpoint: CheckpointStats | undefined;
}

export interface RestoredFrom {
  readonly id: number;
  readonly path: string;
  readonly stateRows: number;
  /** How long putting its keyed state back into the operators took. */
  readonly durationMs: number;
}

export interface RunSummary {
  readonly elapsedMs: number;
  readonly recordsIn: ReadonlyMap<string, number>;
  readonly badRecords: ReadonlyMap<string, number>;
  readonly lateRecords: ReadonlyMap<string, number>;
  readonly droppedRecords: ReadonlyMap<string, number>;
  /** Per exchange, records that crossed to another worker thread folded into window accumulators (PreAggregatingWindow). */
  readonly preAggregated: ReadonlyMap<string, PreAggregated>;
  readonly written: ReadonlyMap<string, number>;
  readonly stoppedBy: 'end of input' | 'record limit' | 'duration' | 'signal';
  /** Checkpoints completed by the run (the final one included). */
  readonly checkpoints: number;
  /** Time the run spent taking them (processing waits while a checkpoint is taken). */
  readonly checkpointMs: number;
  readonly lastCheckpoint: CheckpointStats | undefined;
  /** The checkpoint the run started from, if it was restored. */
  readonly restoredFrom: RestoredFrom | undefined;
  /** Times the job failed and restarted (`restart:` of the spec). */
  readonly restarts: number;
  /**
   * A distributed run's member: times the group assigned the tasks anew and the member started over with its new
   * ones (the rest of the summary covers its last assignment).
   */
  readonly reassignments?: number;
  readonly state: StateSummary;
}

/** Keyed state rows over the run: how large the state grew, and how much of it memory held. */
export interface StateSummary {
  /** Rows at the end, and at most (measured after each round of batches and each load), in memory or evicted. */
  readonly rows: number;
  readonly peakRows: number;
  /** Rows whose values were in memory at the end, and at most. */
  readonly residentRows: number;
  readonly peakResidentRows: number;
  /** `--state-memory`, in bytes; undefined without a budget. */
  readonly memoryBudgetBytes: number | undefined;
  /** Rows evicted to the backend, and loaded back from it, over the run. */
  readonly evictedRows: number;
  readonly loadedRows: number;
}

/**
 * Runs a job. With `restart:` in the spec, a failure restarts it from the newest checkpoint (or from the start when
 * there is none) after the spec's delay, up to its attempts; then the run fails with the cause.
 */
export async function runJob(job: JobDefinition, options: RunOptions): Promise<RunSummary> {
  if (options.distributed === true) return runMember(job, options);
  let restore = options.restore;
  for (let restarts = 0; ; restarts++) {
    try {
      return { ...(await runAttempt(job, options, restore)), restarts };
    } catch (error) {
      const restart = job.restart;
      if (restart === undefined || restarts >= restart.attempts || options.signal?.aborted) throw error;
      if (options.checkpoints !== undefined && (await listCheckpoints(options.checkpoints.directory)).length > 0) restore = 'latest';
      const from = restore === undefined ? 'the start' : restore === 'latest' ? 'the newest checkpoint' : restore;
      options.log(`failed: ${(error as Error).message}; restart ${restarts + 1} of ${restart.attempts} from ${from} in ${restart.delayMs / 1000} s`);
      await sleep(restart.delayMs, options.signal);
    }
  }
}

/**
 * One attempt of a run: of the whole job, or, in a distributed run, of the tasks the member's `assignment` gives it,
 * each restored from the newest checkpoint that holds it (RestorePlan).
 */
export async function runAttempt(
  job: JobDefinition,
  options: RunOptions,
  restore: string | undefined,
  distributed?: MemberAttempt,
): Promise<Omit<RunSummary, 'restarts'>> {
  const started = Date.now();
  const metrics = new JobMetrics();
  const connectors = options.connectors ?? specConnectors;
  const restored = restore === undefined ? undefined : await checkpointToRestore(restore, options.checkpoints?.directory, job, options.maxParallelism);
  const plan = distributed?.assignment.plan;
  if (plan !== undefined) checkParts(plan, job, options.maxParallelism);
  const settings = distributed === undefined ? options.checkpoints : memberCheckpoints(options, distributed.member);
  const restoredElsewhere = plan !== undefined && plan.parts.length > 0;
  const coordinator = settings === undefined ? undefined : await CheckpointCoordinator.start(job, settings, options.parallelism, options.maxParallelism, restored, restoredElsewhere);
  const delivery: SinkContext['delivery'] = coordinator?.delivery ?? 'none';
  const sinks = new Map<string, SinkConnector>();
  // What every source, sink and task of the run is told, on whatever thread.
  const context: TaskContext = { parallelism: options.parallelism, cwd: options.cwd, kafkaServers: options.kafkaServers, appName: options.appName ?? job.name };
  let runner: TaskRunner | undefined;
  let bridge: ExchangeBridge | undefined;
  try {
    for (const definition of job.sinks) {
      const restoreSink = restored === undefined ? undefined : { prepared: restored.metadata.sinks[definition.id] };
      const sinkContext: SinkContext = {
        taskIndex: 0, parallelism: 1, outputPath: options.outputPath, delivery, restore: restoreSink, kafkaServers: context.kafkaServers, appName: context.appName,
      };
      sinks.set(definition.id, connectors.sink(definition, distributed === undefined ? sinkContext : memberSinkContext(sinkContext, distributed.member, settings!)));
    }
    // Before any transactional id of this member is opened again (which would abort what it prepared).
    if (distributed !== undefined) await recoverOutput(job, distributed, sinks, options.log);
    for (const sink of sinks.values()) await sink.open();
    const workers = workerThreads(options, coordinator);
    if (workers > 1) {
      const { maxParallelism, log } = options;
      const settings = { ...context, module: options.workers!.module, workers, maxParallelism, log, batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE };
      runner = await WorkerTasks.start({ ...settings, restored: restored?.metadata }, sinks, metrics);
    } else {
      const environment = taskEnvironment(options.parallelism, options.maxParallelism, metrics, sinks);
      const taskIndexes = distributed?.assignment.tasks ?? Array.from({ length: options.parallelism }, (_, index) => index);
      const restoredSourcesOf = plan === undefined ? restored?.metadata : restoredSources(plan);
      runner = await localTasks(job, options, context, environment, taskIndexes, { connectors, restoredSources: restoredSourcesOf, coordinator });
      if (distributed !== undefined) bridge = await openBridge(distributed, settings!, environment.exchanges, options.log);
    }
    return await runTasks(job, options, { started, metrics, restored, coordinator, sinks, runner, distributed: distributed && { ...distributed, bridge: bridge! } });
  } finally {
    await runner?.close();
    await bridge?.close();
    for (const sink of sinks.values()) await sink.close();
    await coordinator?.close();
  }
}

const DEFAULT_BATCH_SIZE = 4096;

/**
 * Worker threads for the tasks: `workers.count` (at most one per task), when the run names the job's module for
 * them to import. Tasks stay on the calling thread with in-memory connectors (`pipec test`), whose records cannot
 * cross threads, under a state memory budget, whose loads read the backend next to the operators, and in a
 * distributed run, whose member exchanges records with the others on the calling thread.
 */
function workerThreads(options: RunOptions, coordinator: CheckpointCoordinator | undefined): number {
  if (options.workers === undefined || options.connectors !== undefined || coordinator?.memoryBudget !== undefined || options.distributed === true) return 1;
  return Math.min(options.workers.count, options.parallelism);
}

/** The tasks `taskIndexes` (every task of the run, or a member's) on this thread, one group, sharing the sinks and exchanges. */
async function localTasks(
  job: JobDefinition,
  options: RunOptions,
  context: TaskContext,
  environment: TaskEnvironment,
  taskIndexes: readonly number[],
  parts: Pick<Attempt, 'coordinator'> & { readonly connectors: Connectors; readonly restoredSources: RestoredSources | undefined },
): Promise<LocalTasks> {
  const { connectors, restoredSources, coordinator } = parts;
  const group = await TaskGroup.open(job, taskIndexes, environment, connectors, { ...context, log: options.log }, restoredSources);
  const runner = new LocalTasks(group, options.maxParallelism, options.batchSize ?? DEFAULT_BATCH_SIZE, coordinator?.memoryBudget, coordinator?.restoreBudget);
  coordinator?.memoryBudget?.share(runner.operators);
  return runner;
}

interface Attempt {
  readonly started: number;
  readonly metrics: JobMetrics;
  readonly restored: CheckpointToRestore | undefined;
  readonly coordinator: CheckpointCoordinator | undefined;
  readonly sinks: Map<string, SinkConnector>;
  readonly runner: TaskRunner;
  readonly distributed: (MemberAttempt & { readonly bridge: ExchangeBridge }) | undefined;
}

async function runTasks(job: JobDefinition, options: RunOptions, attempt: Attempt): Promise<Omit<RunSummary, 'restarts'>> {
  const { started, metrics, restored, coordinator, sinks, runner, distributed } = attempt;
  const bridge = distributed?.bridge;
  // What checkpoints cut through and flushes write out: the sinks, and a member's exchange with the others.
  const participants: ReadonlyMap<string, CheckpointParticipant> = bridge === undefined ? sinks : new Map<string, CheckpointParticipant>([...sinks, [EXCHANGE_PARTICIPANT, bridge]]);
  // Only tasks on this thread can spill state: the memory budget's loads work on their operators directly.
  const budget = runner instanceof LocalTasks ? coordinator?.memoryBudget : undefined;
  const localTaskList = runner instanceof LocalTasks ? runner.group.tasks : [];
  let restoredFrom: RunSummary['restoredFrom'];
  if (distributed !== undefined) {
    restoredFrom = await restoreMember(distributed.assignment.plan, job, options, runner.restoreTarget);
  } else if (restored !== undefined) {
    const restoring = performance.now();
    const stateRows = await restoreKeyedState(restored, job, options.parallelism, runner.restoreTarget, options.log);
    // The rows restored into memory were measured against sizes learnt on the way: evict what exceeds the budget.
    coordinator?.restoreBudget?.evict();
    restoredFrom = { id: restored.metadata.id, path: restored.location.path, stateRows, durationMs: performance.now() - restoring };
  }
  const operatorCount = runner.operatorCount;
  let peakRows = 0;
  let peakResidentRows = 0;
  /** Counts keyed state rows: all of them, and those in memory. */
  const measureState = (): { rows: number; residentRows: number } => {
    const { rows, residentRows } = runner.countState();
    peakRows = Math.max(peakRows, rows);
    peakResidentRows = Math.max(peakResidentRows, residentRows);
    return { rows, residentRows };
  };

  let recordsIn = 0;
  let watermark = distributed !== undefined ? restoredWatermark(distributed.assignment.plan) : (restored?.metadata.watermark ?? -Infinity);
  let stoppedBy: RunSummary['stoppedBy'] = 'end of input';
  let lastProgress = started;
  let checkpoints = 0;
  let checkpointMs = 0;
  let lastCheckpoint: CheckpointStats | undefined;
  let lastCheckpointAt = started;

  /**
   * Under a memory budget, loads the rows operators asked for and lets them process the records that waited, in
   * topological order: what an operator's loads release may park records in the operators after it.
   */
  const settle = async () => {
    if (budget === undefined) return;
    for (let i = 0; i < operatorCount; i++) for (const task of localTaskList) await budget.load(task.operators[i]);
  };

  /**
   * Under a memory budget, fires operator `level` of every task at `step`, with the evicted rows it needs loaded
   * first.
   */
  const fire = async (budget: MemoryBudget, level: number, step: number) => {
    for (const task of localTaskList) await budget.load(task.operators[level], step);
    // Before a firing frees state, and after loads for it: where the rows are most.
    measureState();
    for (const task of localTaskList) {
      const operator = task.operators[level];
      operator.onWatermark(step);
      // A firing that needs evicted rows stops to ask for them, and goes on once they are loaded.
      while ((await budget.load(operator)) > 0) {
        measureState();
        operator.onWatermark(step);
      }
    }
  };

  const advanceWatermark = async (to: number) => {
    while (watermark < to) {
      // Under a memory budget, in steps, each firing no more evicted state than the budget holds.
      const step = budget === undefined ? to : budget.watermarkStep(watermark, to);
      watermark = step;
      if (budget === undefined) {
        measureState();
        if (bridge !== undefined) bridge.firing = true;
        try {
          await runner.advance(step);
        } finally {
          if (bridge !== undefined) bridge.firing = false;
        }
      } else {
        // As TaskRunner.advance does it: operator by operator, each across all tasks.
        for (let level = 0; level < operatorCount; level++) await fire(budget, level, step);
      }
      if (watermark < to) {
        // What a step fired need not wait in memory for the rest; and between steps every record is through every
        // operator at one watermark: a consistent cut.
        await flushSinks();
        if (budget?.checkpointDue()) await checkpoint();
      }
    }
  };

  const flushSinks = async () => {
    for (const sink of participants.values()) await sink.flush();
  };

  /** Called between phases: every record polled so far is through, a consistent cut. */
  const checkpoint = async () => {
    await flushSinks();
    // A member's checkpoint holds its sources' positions per task; the run's are those together. Nothing is polled
    // during a checkpoint, so they are the cut's, read before the snapshot as after it.
    const member = distributed === undefined ? undefined : await memberCheckpoint(distributed, runner);
    lastCheckpoint = await coordinator!.take({
      snapshot: (full) => runner.snapshot(full),
      sourcePositions: member === undefined ? () => runner.sourcePositions() : async () => mergeSourcePositions(Object.values(member.taskSources)),
      member,
      sinks: participants,
      watermark,
      recordsIn,
    });
    await runner.checkpointCompleted();
    const warning = budget?.takeWarning();
    if (warning !== undefined) options.log(warning);
    lastCheckpointAt = Date.now();
    checkpoints++;
    checkpointMs += lastCheckpoint.durationMs;
  };

  const onAbort = () => {
    stoppedBy = 'signal';
  };
  options.signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      // The group changed: the member's tasks go on from their checkpoints wherever Kafka assigns them now.
      if (distributed?.member.reassigned === true) throw new Reassigned();
      const { polled, ended, low } = await runner.poll(options.maxRecords > 0 ? options.maxRecords - recordsIn : Infinity);
      const received = bridge?.poll() ?? 0;
      recordsIn += polled;
      const now = Date.now();
      // A member's watermark also waits for what the other members' sources allow; when every source of the run
      // has ended, the end of input fires what is left, as in a run of one process.
      const allowed = bridge === undefined ? low : Math.min(low, bridge.low());
      if (allowed !== Infinity) await advanceWatermark(allowed);
      else if (ended && bridge?.othersEnded() === true) await advanceWatermark(Infinity);
      // Said after what the poll sent them, in the same partitions: a member reading it has read those first.
      bridge?.announce(low, ended);
      await runner.processingTime(now);
      await settle();
      measureState();
      await flushSinks();
      // Under a memory budget a checkpoint also comes when the rows in memory need evicting, which only a checkpoint allows.
      const checkpointDue =
        coordinator !== undefined && (Date.now() - lastCheckpointAt >= options.checkpoints!.intervalMs || budget?.checkpointDue() === true);
      if (checkpointDue) await checkpoint();
      if (options.onProgress && now - lastProgress >= 1000) {
        lastProgress = now;
        options.onProgress({ elapsedMs: now - started, recordsIn, recordsOut: totalWritten(sinks), watermark, checkpoint: lastCheckpoint });
      }
      // A member's input also comes from the other members, which go on after its own sources end.
      if (ended && bridge === undefined) break;
      if (options.maxRecords > 0 && recordsIn >= options.maxRecords) {
        stoppedBy = 'record limit';
        break;
      }
      if (options.durationMs > 0 && now - started >= options.durationMs) {
        stoppedBy = 'duration';
        break;
      }
      if (options.signal?.aborted) break;
      // An unbounded source with nothing new: give timers and signals a turn before polling again.
      if (polled === 0 && received === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // At the end of the input the final watermark fires every open window (Flink's end-of-input MAX_WATERMARK).
    // A run stopped early drains them too, unless it takes checkpoints: then its final checkpoint keeps the open
    // windows (Flink's stop-with-savepoint), so that `--restore latest` goes on as if the run had never stopped.
    if (stoppedBy === 'end of input' || coordinator === undefined) await advanceWatermark(Infinity);
    await settle();
    await flushSinks();
    // The final checkpoint commits what the sinks hold since the previous one.
    if (coordinator !== undefined) await checkpoint();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const written = new Map<string, number>();
  for (const [id, sink] of sinks) written.set(id, sink.written);
  const { rows, residentRows } = measureState();
  const state: StateSummary = {
    rows,
    peakRows,
    residentRows,
    peakResidentRows,
    memoryBudgetBytes: budget?.bytes,
    evictedRows: budget?.evictedRows ?? 0,
    loadedRows: budget?.loadedRows ?? 0,
  };
  return {
    elapsedMs: Date.now() - started,
    recordsIn: metrics.recordsIn,
    badRecords: metrics.badRecords,
    lateRecords: metrics.lateRecords,
    droppedRecords: metrics.droppedRecords,
    preAggregated: metrics.preAggregated,
    written,
    stoppedBy,
    checkpoints,
    checkpointMs,
    lastCheckpoint,
    restoredFrom,
    state,
  };
}

/** Waits `ms`, or less when the signal aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function totalWritten(sinks: ReadonlyMap<string, SinkConnector>): number {
  let sum = 0;
  for (const sink of sinks.values()) sum += sink.written;
  return sum;
}

