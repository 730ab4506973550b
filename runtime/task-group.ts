// The tasks that run on one thread, with the readers of their sources: polls and decodes batches, hands each record
// to its source's chain, fires operators on watermarks, and says what watermark its sources allow. When the tasks of
// a run share the calling thread, one group holds them all; on worker threads, each worker holds a group of its own
// (runtime/parallel).

import type { Connectors, DeadLetterRecord, JobDefinition, Key, OperatorState, SourceBatch, SourceDefinition, SourceEntry, SourceReader, StateNamespace } from './api.ts';
import type { RestoreTarget } from './checkpoints/coordinator.ts';
import { residentRowsOf, type MemoryBudget } from './checkpoints/memory-budget.ts';
import type { SplitCheckpoint } from './checkpoints/storage.ts';
import { RecordDecoder } from './decode.ts';
import { JsonScanner } from './json-scanner.ts';
import type { JobMetrics } from './metrics.ts';
import { TaskRuntime, type TaskEnvironment } from './task.ts';
import { WatermarkTracker } from './time/watermarks.ts';

export interface OpenSource {
  /** The index of the task whose splits the reader reads. */
  readonly task: number;
  readonly definition: SourceDefinition;
  readonly reader: SourceReader;
  readonly entry: SourceEntry;
  readonly watermarks: WatermarkTracker;
  ended: boolean;
}

/** What a group needs of a checkpoint it restores: where its sources resume, and how far their splits had read. */
export interface RestoredSources {
  readonly sources: Readonly<Record<string, Readonly<Record<string, SplitCheckpoint>>>>;
}

/** Per source id, per split: a checkpoint's part of the sources. */
export type SourcePositions = Record<string, Record<string, SplitCheckpoint>>;

/** The one watermark split of a reader whose splits are read in order (SourceReader.splitsInOrder): no split's id. */
const IN_ORDER = -1;

/** Bad records logged one by one per source; past this, they are counted and summarised. */
const LOGGED_BAD_RECORDS = 100;

/** What a run tells each of its tasks, wherever it runs: the run-wide part of SourceContext. */
export interface TaskContext {
  readonly parallelism: number;
  /** Directory that relative source paths resolve against. */
  readonly cwd: string;
  /** As SourceContext.kafkaServers and appName. */
  readonly kafkaServers: readonly string[] | undefined;
  readonly appName: string;
}

export interface TaskGroupSettings extends TaskContext {
  readonly log: (line: string) => void;
}

export class TaskGroup {
  /** Source records decoded or rejected by this group so far. */
  recordsIn = 0;
  /**
   * In the last poll a source gave less than asked without its split ending: it has read what there is for now (a
   * live or paced source, a Kafka partition at its end).
   */
  caughtUp = false;
  readonly sources: OpenSource[] = [];
  private readonly decoder = new RecordDecoder();
  private readonly scanner = new JsonScanner();
  private readonly loggedBad = new Map<string, number>();

  private constructor(
    readonly tasks: readonly TaskRuntime[],
    private readonly metrics: JobMetrics,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Builds the tasks `taskIndexes` of the job and opens their readers; `sources` collects each reader as it opens,
   * so that the caller closes them whatever happens.
   */
  static async open(
    job: JobDefinition,
    taskIndexes: readonly number[],
    environment: TaskEnvironment,
    connectors: Connectors,
    settings: TaskGroupSettings,
    restored: RestoredSources | undefined,
  ): Promise<TaskGroup> {
    const tasks = taskIndexes.map((index) => new TaskRuntime(index, environment));
    const group = new TaskGroup(tasks, environment.metrics, settings.log);
    for (const task of tasks) {
      const entries = job.build(task);
      for (const definition of job.sources) {
        const resume = restored === undefined ? undefined : resumePositions(restored, definition.id);
        const { parallelism, cwd, kafkaServers, appName } = settings;
        const reader = connectors.source(definition, { taskIndex: task.index, parallelism, cwd, resume, kafkaServers, appName });
        await reader.open();
        // A reader knows its splits once open (a Kafka reader asks the broker for the partitions).
        const source: OpenSource = {
          task: task.index,
          definition,
          reader,
          entry: entries[definition.id],
          watermarks: new WatermarkTracker(
            reader.splitsInOrder === true ? [IN_ORDER] : reader.splits,
            definition.eventTime?.maxOutOfOrdernessMs ?? 0,
            definition.eventTime?.idleTimeoutMs ?? 0,
          ),
          ended: reader.splits.length === 0,
        };
        group.sources.push(source);
        if (restored !== undefined) restoreWatermarks(restored, definition.id, reader, source.watermarks);
      }
    }
    return group;
  }

  get operatorCount(): number {
    return this.tasks[0]?.operators.length ?? 0;
  }

  get ended(): boolean {
    return this.sources.every((source) => source.ended);
  }

  /**
   * Polls each source that has not ended once, at most `limit` records in all (Infinity: a batch each), and hands
   * the records to their chains. Returns the records polled.
   */
  async poll(batchSize: number, limit: number): Promise<number> {
    let polled = 0;
    this.caughtUp = false;
    for (const source of this.sources) {
      if (source.ended) continue;
      if (polled >= limit) break;
      // Near the record limit, ask for just what is left: a reader's position then covers exactly what was
      // processed, which a checkpoint relies on.
      const asked = Math.min(batchSize, limit - polled);
      const batch = await source.reader.poll(asked);
      if (batch === null) {
        source.ended = true;
        for (const split of source.reader.splitsInOrder === true ? [IN_ORDER] : source.reader.splits) source.watermarks.endSplit(split);
        continue;
      }
      if (batch.values.length < asked && batch.splitEnded !== true) this.caughtUp = true;
      polled += this.process(source, batch);
      if (batch.splitEnded === true && source.reader.splitsInOrder !== true) source.watermarks.endSplit(batch.split);
    }
    return polled;
  }

  /**
   * The watermark this group's sources allow now, Infinity when they have nothing to say (every split idle): the
   * minimum over groups is the run's.
   */
  lowWatermark(now: number): number {
    let low = Infinity;
    for (const source of this.sources) {
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
    return low;
  }

  /** The watermark reached operator `level` (in registration order) of every task of the group. */
  fire(level: number, watermark: number): void {
    for (const task of this.tasks) task.operators[level].onWatermark(watermark);
  }

  processingTime(now: number): void {
    for (const task of this.tasks) for (const operator of task.operators) operator.onProcessingTime?.(now);
  }

  /**
   * Where a restore puts rows into the group's operators: a keyed row into the task it names (by its index in the
   * run), a broadcast row into every task. With `budget`, keyed rows past it stay in the backend (MemoryBudget).
   */
  restoreTarget(budget?: MemoryBudget): RestoreTarget {
    const keyed = new Map(this.tasks.map((task) => [task.index, new Map(task.operators.flatMap((operator) => (operator.state === undefined ? [] : [[operator.state.uid, operator.state] as const])))]));
    const broadcast = new Map<string, OperatorState[]>();
    for (const task of this.tasks) {
      for (const { broadcastState } of task.operators) {
        if (broadcastState !== undefined) broadcast.set(broadcastState.uid, [...(broadcast.get(broadcastState.uid) ?? []), broadcastState]);
      }
    }
    return {
      keyedUids: new Set([...keyed.values()].flatMap((states) => [...states.keys()])),
      broadcastUids: new Set(broadcast.keys()),
      keyedRow(task: number, uid: string, key: Key, namespace: StateNamespace, value: unknown) {
        const state = keyed.get(task)!.get(uid)!;
        if (budget !== undefined) budget.restoreRow(state, key, namespace, value);
        else state.restoreRow(key, namespace, value);
      },
      broadcastRow(uid: string, key: Key, namespace: StateNamespace, value: unknown) {
        for (const state of broadcast.get(uid)!) state.restoreRow(key, namespace, value);
      },
      async restored(watermark: number) {
        for (const states of keyed.values()) for (const state of states.values()) state.restored(watermark);
        for (const states of broadcast.values()) for (const state of states) state.restored(watermark);
      },
    };
  }

  /** Rows of keyed state of the group's operators: all, and those whose values are in memory. */
  countState(): { rows: number; residentRows: number } {
    let rows = 0;
    let residentRows = 0;
    for (const task of this.tasks) {
      for (const operator of task.operators) {
        if (operator.state === undefined) continue;
        rows += operator.state.size;
        residentRows += residentRowsOf(operator.state);
      }
    }
    return { rows, residentRows };
  }

  /**
   * Where each split resumes, and the highest event time it saw: the sources' part of a checkpoint. Readers first
   * make durable what they took for themselves (a Kafka dead-letter topic's records), which the positions then cover.
   */
  async sourcePositions(): Promise<SourcePositions> {
    for (const { reader } of this.sources) await reader.flush?.();
    const positions: SourcePositions = {};
    for (const source of this.sources) addPositions(source, positions);
    return positions;
  }

  /** As sourcePositions, per task index: a distributed run restores each task from its own checkpoint. */
  async sourcePositionsByTask(): Promise<Record<string, SourcePositions>> {
    for (const { reader } of this.sources) await reader.flush?.();
    const byTask: Record<string, SourcePositions> = {};
    for (const source of this.sources) addPositions(source, (byTask[source.task] ??= {}));
    return byTask;
  }

  /**
   * The checkpoint of the current positions completed (nothing was polled since): readers may tell their systems
   * (a Kafka reader commits them as its group's offsets).
   */
  async checkpointCompleted(): Promise<void> {
    for (const { reader } of this.sources) {
      await reader.checkpointComplete?.(new Map(reader.splits.map((split) => [split, reader.checkpointPosition(split)])));
    }
  }

  async close(): Promise<void> {
    for (const source of this.sources) await source.reader.close();
  }

  /** Decodes a batch and hands each record to its source's chain. */
  private process(source: OpenSource, batch: SourceBatch): number {
    const { definition, entry, watermarks } = source;
    const { values, positions, split, errors, times } = batch;
    const watermarkSplit = source.reader.splitsInOrder === true ? IN_ORDER : split;
    const eventTime = definition.eventTime;
    // The generated parser converts as the strict readers do, so it reads lines of JSON text only.
    const parse = batch.encoding === 'json-text' && !batch.lenient ? definition.parse : undefined;
    const scanner = this.scanner;
    const now = Date.now();
    this.decoder.lenient = batch.lenient;
    const count = values.length;
    for (let i = 0; i < count; i++) {
      if (errors !== undefined && errors[i] !== undefined) {
        this.reject(source, split, positions[i], errors[i]!, values[i], now);
        continue;
      }
      // A line the parser does not take (undefined) goes through JSON.parse and the decoder.
      let record = parse === undefined ? undefined : parse(values[i] as string, scanner);
      if (record === undefined) {
        record = this.decode(source, batch, i, now);
        if (record === undefined) continue;
      }
      // Event time from a field of the record, else the source's own time of it (a Kafka record timestamp).
      const time = eventTime === undefined ? now : eventTime.extract !== undefined ? eventTime.extract(record) : times![i];
      watermarks.observe(watermarkSplit, time);
      entry.record(record, time);
    }
    this.metrics.received(definition.id, count);
    this.recordsIn += count;
    return count;
  }

  /** Value `i` of the batch as a typed record, or undefined when it was rejected (it does not parse or decode). */
  private decode(source: OpenSource, batch: SourceBatch, i: number, now: number): unknown {
    const { split, positions, values } = batch;
    let raw = values[i];
    if (batch.encoding === 'json-text') {
      try {
        raw = JSON.parse(raw as string);
      } catch (error) {
        this.reject(source, split, positions[i], `unparsable JSON: ${(error as Error).message}`, raw, now);
        return undefined;
      }
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.reject(source, split, positions[i], 'expected a JSON object', values[i], now);
      return undefined;
    }
    const decoder = this.decoder;
    decoder.error = undefined;
    const record = source.definition.decode(raw as Record<string, unknown>, decoder);
    if (decoder.error !== undefined) {
      this.reject(source, split, positions[i], decoder.error, values[i], now);
      return undefined;
    }
    return record;
  }

  private reject(source: OpenSource, split: number, offset: number, error: string, raw: unknown, time: number): void {
    const id = source.definition.id;
    this.metrics.bad(id);
    // A reader that keeps bad records itself (a Kafka dead-letter topic) takes them first.
    if (source.reader.rejected?.(split, offset, error)) return;
    const position = source.reader.describePosition(split, offset);
    if (source.entry.deadLetter) {
      const record: DeadLetterRecord = { source: id, position, error, raw: typeof raw === 'string' ? raw : JSON.stringify(raw) };
      source.entry.deadLetter(record, time);
      return;
    }
    const logged = this.loggedBad.get(id) ?? 0;
    if (logged < LOGGED_BAD_RECORDS) this.log(`bad record in source ${id} at ${position}: ${error}`);
    if (logged === LOGGED_BAD_RECORDS) this.log(`source ${id}: more bad records; only their count is reported from here on`);
    this.loggedBad.set(id, logged + 1);
  }
}

/** The positions of several parts of a run (workers, or a member's tasks), which hold different splits, as one. */
export function mergeSourcePositions(parts: Iterable<SourcePositions>): SourcePositions {
  const positions: SourcePositions = {};
  for (const part of parts) {
    for (const [source, splits] of Object.entries(part)) Object.assign((positions[source] ??= {}), splits);
  }
  return positions;
}

/** Where each split of a source resumes, and the highest event time it saw, into `into`. */
function addPositions({ definition, reader, watermarks }: OpenSource, into: SourcePositions): void {
  const splits = (into[definition.id] ??= {});
  for (const split of reader.splits) {
    const maxEventTime = watermarks.maxEventTime(reader.splitsInOrder === true ? IN_ORDER : split);
    splits[split] = { position: reader.checkpointPosition(split), maxEventTime: Number.isFinite(maxEventTime) ? maxEventTime : null };
  }
}

/** Source positions of a restored checkpoint, per source id: what SourceContext.resume takes. */
function resumePositions(restored: RestoredSources, sourceId: string): ReadonlyMap<number, unknown> {
  return new Map(Object.entries(restored.sources[sourceId] ?? {}).map(([split, checkpoint]) => [Number(split), checkpoint.position]));
}

/**
 * Gives each split's tracker back the highest event time it had seen. A reader of splits in order has one tracker:
 * it gets the lowest of its splits' (each split kept its old task's, no later than any record still to read of it).
 */
function restoreWatermarks(restored: RestoredSources, sourceId: string, reader: SourceReader, watermarks: WatermarkTracker): void {
  const splits = restored.sources[sourceId] ?? {};
  const maxEventTimes = reader.splits.flatMap((split) => {
    const maxEventTime = splits[split]?.maxEventTime;
    return maxEventTime === undefined || maxEventTime === null ? [] : [{ split, maxEventTime }];
  });
  if (reader.splitsInOrder !== true) {
    for (const { split, maxEventTime } of maxEventTimes) watermarks.restoreSplit(split, maxEventTime);
  } else if (maxEventTimes.length > 0) {
    watermarks.restoreSplit(IN_ORDER, Math.min(...maxEventTimes.map(({ maxEventTime }) => maxEventTime)));
  }
}

/** The lowest watermark over a reader's splits, as the reader states them. */
function readerWatermark(reader: SourceReader): number {
  let lowest = Infinity;
  for (const split of reader.splits) lowest = Math.min(lowest, reader.watermark!(split));
  return lowest;
}
