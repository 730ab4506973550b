// Runs a job: opens its sources and sinks, builds its tasks, and drives batches and watermarks through them until the
// sources end, the record or time limit is reached, or the run is stopped.

import type { Connectors, DeadLetterRecord, JobDefinition, SinkConnector, SourceDefinition, SourceEntry, SourceReader } from './api.ts';
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
}

const specConnectors: Connectors = { source: createSourceReader, sink: createSinkConnector };

export interface RunProgress {
  readonly elapsedMs: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly watermark: number;
}

export interface RunSummary {
  readonly elapsedMs: number;
  readonly recordsIn: ReadonlyMap<string, number>;
  readonly badRecords: ReadonlyMap<string, number>;
  readonly lateRecords: ReadonlyMap<string, number>;
  readonly droppedRecords: ReadonlyMap<string, number>;
  readonly written: ReadonlyMap<string, number>;
  readonly stoppedBy: 'end of input' | 'record limit' | 'duration' | 'signal';
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

export async function runJob(job: JobDefinition, options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const metrics = new JobMetrics();
  const connectors = options.connectors ?? specConnectors;
  const sinks = new Map<string, SinkConnector>();
  for (const definition of job.sinks) {
    const sink = connectors.sink(definition, { taskIndex: 0, parallelism: 1, outputPath: options.outputPath });
    await sink.open();
    sinks.set(definition.id, sink);
  }
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
  const sources: OpenSource[] = [];
  for (const task of tasks) {
    const entries = job.build(task);
    for (const definition of job.sources) {
      const reader = connectors.source(definition, { taskIndex: task.index, parallelism: options.parallelism, cwd: options.cwd });
      await reader.open();
      const eventTime = definition.eventTime;
      sources.push({
        definition,
        reader,
        entry: entries[definition.id],
        watermarks: new WatermarkTracker(reader.splits, eventTime?.maxOutOfOrdernessMs ?? 0, eventTime?.idleTimeoutMs ?? 0),
        ended: reader.splits.length === 0,
      });
    }
  }

  const decoder = new RecordDecoder();
  const loggedBad = new Map<string, number>();
  const batchSize = options.batchSize ?? 4096;
  let recordsIn = 0;
  let watermark = -Infinity;
  let stoppedBy: RunSummary['stoppedBy'] = 'end of input';
  let lastProgress = started;

  const rejectRecord = (source: OpenSource, position: string, error: string, raw: unknown, time: number) => {
    const id = source.definition.id;
    metrics.bad(id);
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
    const { values, positions, split } = batch;
    const eventTime = definition.eventTime;
    const now = Date.now();
    decoder.lenient = batch.lenient;
    let count = values.length;
    if (options.maxRecords > 0 && recordsIn + count > options.maxRecords) count = options.maxRecords - recordsIn;
    for (let i = 0; i < count; i++) {
      let raw = values[i];
      if (batch.encoding === 'json-text') {
        try {
          raw = JSON.parse(raw as string);
        } catch (error) {
          rejectRecord(source, source.reader.describePosition(split, positions[i]), `unparsable JSON: ${(error as Error).message}`, raw, now);
          continue;
        }
      }
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        rejectRecord(source, source.reader.describePosition(split, positions[i]), 'expected a JSON object', values[i], now);
        continue;
      }
      decoder.error = undefined;
      const record = definition.decode(raw as Record<string, unknown>, decoder);
      if (decoder.error !== undefined) {
        rejectRecord(source, source.reader.describePosition(split, positions[i]), decoder.error, values[i], now);
        continue;
      }
      const time = eventTime ? eventTime.extract(record) : now;
      watermarks.observe(split, time);
      entry.record(record, time);
    }
    metrics.received(definition.id, count);
    recordsIn += count;
    return count;
  };

  const advanceWatermark = (to: number) => {
    if (to <= watermark) return;
    watermark = to;
    // Operator by operator in topological order, each across all tasks, so an upstream window's output reaches a
    // downstream operator before that operator sees the same watermark.
    const operatorCount = tasks[0].operators.length;
    for (let i = 0; i < operatorCount; i++) for (const task of tasks) task.operators[i].onWatermark(to);
  };

  const flushSinks = async () => {
    for (const sink of sinks.values()) await sink.flush();
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
        const batch = await source.reader.poll(batchSize);
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
      if (low !== Infinity) advanceWatermark(low);
      for (const task of tasks) for (const operator of task.operators) operator.onProcessingTime?.(now);
      await flushSinks();
      if (options.onProgress && now - lastProgress >= 1000) {
        lastProgress = now;
        options.onProgress({ elapsedMs: now - started, recordsIn, recordsOut: totalWritten(sinks), watermark });
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
    // A clean stop drains: the final watermark fires every open window (Flink's end-of-input MAX_WATERMARK).
    advanceWatermark(Infinity);
    await flushSinks();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const source of sources) await source.reader.close();
    for (const sink of sinks.values()) await sink.close();
  }
  const written = new Map<string, number>();
  for (const [id, sink] of sinks) written.set(id, sink.written);
  return {
    elapsedMs: Date.now() - started,
    recordsIn: metrics.recordsIn,
    badRecords: metrics.badRecords,
    lateRecords: metrics.lateRecords,
    droppedRecords: metrics.droppedRecords,
    written,
    stoppedBy,
  };
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

