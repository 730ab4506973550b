// Runs a job: opens its sources and sinks, builds its tasks, and drives batches and watermarks through them until the
// sources end, the record or time limit is reached, or the run is stopped.

import type { Connectors, DeadLetterRecord, JobDefinition, SinkConnector, SinkContext, SourceDefinition, SourceEntry, SourceReader } from './api.ts';
import {
  CheckpointCoordinator,
  checkpointToRestore,
  restoreKeyedState,
  restoreWatermarks,
  resumePositions,
  type CheckpointStats,
  type CheckpointToRestore,
  type RunCheckpointSettings,
} from './checkpoints/coordinator.ts';
import { residentRowsOf } from './checkpoints/memory-budget.ts';
import { listCheckpoints } from './checkpoints/storage.ts';
import { createSinkConnector, createSourceReader } from './connectors/index.ts';
import { RecordDecoder } from './decode.ts';
import { JobMetrics } from './metrics.ts';
import { Exchange, TaskRuntime, type TaskEnvironment } from './task.ts';
import type { Key } from './api.ts';
import { WatermarkTracker } from './time/watermarks.ts';

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
  /** `--kafka-servers`: bootstrap servers of every Kafka source and sink. */
  readonly kafkaServers?: readonly string[];
  /** `--app-name`, else the job's name: the default Kafka consumer group, part of Kafka transactional ids. */
  readonly appName?: string;
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

/** Bad records logged one by one per source; past this, they are counted and summarised. */
const LOGGED_BAD_RECORDS = 100;

interface OpenSource {
  readonly definition: SourceDefinition;
  readonly reader: SourceReader;
  readonly entry: SourceEntry;
  readonly watermarks: WatermarkTracker;
  ended: boolean;
}

/**
 * Runs a job. With `restart:` in the spec, a failure restarts it from the newest checkpoint (or from the start when
 * there is none) after the spec's delay, up to its attempts; then the run fails with the cause.
 */
export async function runJob(job: JobDefinition, options: RunOptions): Promise<RunSummary> {
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

async function runAttempt(job: JobDefinition, options: RunOptions, restore: string | undefined): Promise<Omit<RunSummary, 'restarts'>> {
  const started = Date.now();
  const metrics = new JobMetrics();
  const connectors = options.connectors ?? specConnectors;
  const restored = restore === undefined ? undefined : await checkpointToRestore(restore, options.checkpoints?.directory, job, options.maxParallelism);
  const coordinator = options.checkpoints === undefined ? undefined : await CheckpointCoordinator.start(job, options.checkpoints, options.parallelism, options.maxParallelism, restored);
  const delivery: SinkContext['delivery'] = coordinator?.delivery ?? 'none';
  const sinks = new Map<string, SinkConnector>();
  const sources: OpenSource[] = [];
  try {
    for (const definition of job.sinks) {
      const restoreSink = restored === undefined ? undefined : { prepared: restored.metadata.sinks[definition.id] };
      const sink = connectors.sink(definition, {
        taskIndex: 0, parallelism: 1, outputPath: options.outputPath, delivery, restore: restoreSink, kafkaServers: options.kafkaServers, appName: options.appName ?? job.name,
      });
      await sink.open();
      sinks.set(definition.id, sink);
    }
    return await runTasks(job, options, { started, metrics, connectors, restored, coordinator, sinks, sources });
  } finally {
    for (const source of sources) await source.reader.close();
    for (const sink of sinks.values()) await sink.close();
    await coordinator?.close();
  }
}

interface Attempt {
  readonly started: number;
  readonly metrics: JobMetrics;
  readonly connectors: Connectors;
  readonly restored: CheckpointToRestore | undefined;
  readonly coordinator: CheckpointCoordinator | undefined;
  readonly sinks: Map<string, SinkConnector>;
  /** Filled as readers open, so the attempt closes them whatever happens. */
  readonly sources: OpenSource[];
}

async function runTasks(job: JobDefinition, options: RunOptions, attempt: Attempt): Promise<Omit<RunSummary, 'restarts'>> {
  const { started, metrics, connectors, restored, coordinator, sinks, sources } = attempt;
  const exchanges = new Map<string, Exchange<Key, unknown>>();
  const environment: TaskEnvironment = {
    parallelism: options.parallelism,
    maxParallelism: options.maxParallelism,
    metrics,
    sink(id) {
      const sink = sinks.get(id);
      if (sink === undefined) throw new Error(`the job has no sink '${id}'`);
      return sink;
    },
    exchange(id) {
      let exchange = exchanges.get(id);
      if (exchange === undefined) exchanges.set(id, (exchange = new Exchange(id, options.parallelism, options.maxParallelism)));
      return exchange;
    },
  };
  const tasks = Array.from({ length: options.parallelism }, (_, index) => new TaskRuntime(index, environment));
  for (const task of tasks) {
    const entries = job.build(task);
    for (const definition of job.sources) {
      const resume = restored === undefined ? undefined : resumePositions(restored.metadata, definition.id);
      const reader = connectors.source(definition, {
        taskIndex: task.index, parallelism: options.parallelism, cwd: options.cwd, resume, kafkaServers: options.kafkaServers, appName: options.appName ?? job.name,
      });
      // A reader knows its splits once open (a Kafka reader asks the broker for the partitions).
      await reader.open();
      const source: OpenSource = {
        definition,
        reader,
        entry: entries[definition.id],
        watermarks: new WatermarkTracker(reader.splits, definition.eventTime?.maxOutOfOrdernessMs ?? 0, definition.eventTime?.idleTimeoutMs ?? 0),
        ended: reader.splits.length === 0,
      };
      sources.push(source);
      if (restored !== undefined) restoreWatermarks(restored.metadata, definition.id, reader, source.watermarks);
    }
  }
  const budget = coordinator?.memoryBudget;
  const operators = tasks.flatMap((task) => task.operators);
  budget?.share(operators);
  let restoredFrom: RunSummary['restoredFrom'];
  if (restored !== undefined) {
    const restoring = performance.now();
    const stateRows = await restoreKeyedState(restored, job, tasks, options.log, coordinator?.restoreBudget);
    // The rows restored into memory were measured against sizes learnt on the way: evict what exceeds the budget.
    coordinator?.restoreBudget?.evict();
    restoredFrom = { id: restored.metadata.id, path: restored.location.path, stateRows, durationMs: performance.now() - restoring };
  }
  const operatorCount = tasks[0].operators.length;
  let peakRows = 0;
  let peakResidentRows = 0;
  /** Counts keyed state rows: all of them, and those in memory. */
  const measureState = (): { rows: number; residentRows: number } => {
    let rows = 0;
    let residentRows = 0;
    for (const task of tasks) {
      for (const operator of task.operators) {
        if (operator.state === undefined) continue;
        rows += operator.state.size;
        residentRows += residentRowsOf(operator.state);
      }
    }
    peakRows = Math.max(peakRows, rows);
    peakResidentRows = Math.max(peakResidentRows, residentRows);
    return { rows, residentRows };
  };

  const decoder = new RecordDecoder();
  const loggedBad = new Map<string, number>();
  const batchSize = options.batchSize ?? 4096;
  let recordsIn = 0;
  let watermark = restored?.metadata.watermark ?? -Infinity;
  let stoppedBy: RunSummary['stoppedBy'] = 'end of input';
  let lastProgress = started;
  let checkpoints = 0;
  let checkpointMs = 0;
  let lastCheckpoint: CheckpointStats | undefined;
  let lastCheckpointAt = started;

  const rejectRecord = (source: OpenSource, split: number, offset: number, error: string, raw: unknown, time: number) => {
    const id = source.definition.id;
    metrics.bad(id);
    if (source.reader.rejected?.(split, offset, error)) return;
    const position = source.reader.describePosition(split, offset);
    if (source.entry.deadLetter) {
      const record: DeadLetterRecord = { source: id, position, error, raw: typeof raw === 'string' ? raw : JSON.stringify(raw) };
      source.entry.deadLetter(record, time);
      return;
    }
    const logged = loggedBad.get(id) ?? 0;
    if (logged < LOGGED_BAD_RECORDS) options.log(`bad record in source ${id} at ${position}: ${error}`);
    if (logged === LOGGED_BAD_RECORDS) options.log(`source ${id}: more bad records; only their count is reported from here on`);
    loggedBad.set(id, logged + 1);
  };

  /** Decodes a batch and hands each record to its source's chain. */
  const process = (source: OpenSource, batch: NonNullable<Awaited<ReturnType<SourceReader['poll']>>>): number => {
    const { definition, entry, watermarks } = source;
    const { values, positions, split, errors, times } = batch;
    const eventTime = definition.eventTime;
    const now = Date.now();
    decoder.lenient = batch.lenient;
    const count = values.length;
    for (let i = 0; i < count; i++) {
      let raw = values[i];
      if (errors !== undefined && errors[i] !== undefined) {
        rejectRecord(source, split, positions[i], errors[i]!, raw, now);
        continue;
      }
      if (batch.encoding === 'json-text') {
        try {
          raw = JSON.parse(raw as string);
        } catch (error) {
          rejectRecord(source, split, positions[i], `unparsable JSON: ${(error as Error).message}`, raw, now);
          continue;
        }
      }
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        rejectRecord(source, split, positions[i], 'expected a JSON object', values[i], now);
        continue;
      }
      decoder.error = undefined;
      const record = definition.decode(raw as Record<string, unknown>, decoder);
      if (decoder.error !== undefined) {
        rejectRecord(source, split, positions[i], decoder.error, values[i], now);
        continue;
      }
      const time = eventTime === undefined ? now : eventTime.extract !== undefined ? eventTime.extract(record) : times![i];
      watermarks.observe(split, time);
      entry.record(record, time);
    }
    metrics.received(definition.id, count);
    recordsIn += count;
    return count;
  };

  /**
   * Under a memory budget, loads the rows operators asked for and lets them process the records that waited, in
   * topological order: what an operator's loads release may park records in the operators after it.
   */
  const settle = async () => {
    if (budget === undefined) return;
    for (let i = 0; i < operatorCount; i++) for (const task of tasks) await budget.load(task.operators[i]);
  };

  const advanceWatermark = async (to: number) => {
    while (watermark < to) {
      // Under a memory budget, in steps, each firing no more evicted state than the budget holds.
      const step = budget === undefined ? to : budget.watermarkStep(watermark, to);
      watermark = step;
      // Operator by operator in topological order, each across all tasks, so an upstream window's output reaches a
      // downstream operator before that operator sees the same watermark. Under a memory budget, each operator
      // first gets the rows its waiting records and its firing need.
      for (let i = 0; i < operatorCount; i++) {
        if (budget !== undefined) for (const task of tasks) await budget.load(task.operators[i], step);
        // Before a firing frees state, and after loads for it: where the rows are most.
        measureState();
        for (const task of tasks) {
          const operator = task.operators[i];
          operator.onWatermark(step);
          // A firing that needs evicted rows stops to ask for them, and goes on once they are loaded.
          while (budget !== undefined && (await budget.load(operator)) > 0) {
            measureState();
            operator.onWatermark(step);
          }
        }
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
    for (const sink of sinks.values()) await sink.flush();
  };

  /** Called between rounds or steps of the watermark: every record polled so far is through, a consistent cut. */
  const checkpoint = async () => {
    await flushSinks();
    for (const source of sources) await source.reader.flush?.();
    lastCheckpoint = await coordinator!.take({ tasks, sources, sinks, watermark, recordsIn });
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
      let polled = 0;
      for (const source of sources) {
        if (source.ended) continue;
        // Near the record limit, ask for just what is left: a reader's position then covers exactly what was
        // processed, which a checkpoint relies on.
        const batch = await source.reader.poll(options.maxRecords > 0 ? Math.min(batchSize, options.maxRecords - recordsIn) : batchSize);
        if (batch === null) {
          source.ended = true;
          for (const split of source.reader.splits) source.watermarks.endSplit(split);
          continue;
        }
        polled += process(source, batch);
        if (options.maxRecords > 0 && recordsIn >= options.maxRecords) break;
      }
      const now = Date.now();
      let low = Infinity;
      for (const source of sources) {
        // A task's reader with no splits (more tasks than splits) holds no watermark back.
        if (source.reader.splits.length === 0) continue;
        source.watermarks.markIdleCheck(now);
        if (!source.definition.eventTime) low = Math.min(low, source.ended ? Infinity : now - 1);
        // A reader that knows its watermarks says them itself, idle or not, until it ends.
        else if (source.reader.watermark !== undefined && !source.ended) low = Math.min(low, readerWatermark(source.reader));
        // A reader whose every split is idle has nothing to say (Flink's WatermarkStatus.IDLE): the others decide;
        // when all are idle, low stays Infinity and the watermark holds.
        else if (!source.watermarks.isIdle()) low = Math.min(low, source.watermarks.current());
      }
      if (low !== Infinity) await advanceWatermark(low);
      for (const task of tasks) for (const operator of task.operators) operator.onProcessingTime?.(now);
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
      if (sources.every((source) => source.ended)) break;
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
      if (polled === 0) await new Promise((resolve) => setImmediate(resolve));
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

/** The lowest watermark over a reader's splits, as the reader states them. */
function readerWatermark(reader: SourceReader): number {
  let lowest = Infinity;
  for (const split of reader.splits) lowest = Math.min(lowest, reader.watermark!(split));
  return lowest;
}

function totalWritten(sinks: ReadonlyMap<string, SinkConnector>): number {
  let sum = 0;
  for (const sink of sinks.values()) sum += sink.written;
  return sum;
}

