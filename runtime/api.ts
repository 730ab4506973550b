// The contract between generated code and the runtime: a job definition, the task it builds its operators on,
// and the interfaces of sources, sinks and operators. Generated code imports only runtime/index.ts.

import type { JsonScanner } from './json-scanner.ts';
import type { WindowAggregation } from './windows/aggregation.ts';

/** What a generated module exports as default. */
export interface JobDefinition {
  readonly name: string;
  /** The spec file it was compiled from, as given to `pipec build`. */
  readonly spec: string;
  readonly pipecVersion: string;
  readonly sources: readonly SourceDefinition[];
  readonly sinks: readonly SinkDefinition[];
  /** `checkpoints:` of the spec; absent when the spec takes none (then `--checkpoint-dir` turns them on with the defaults). */
  readonly checkpoints?: CheckpointSettings;
  /** `state:` of the spec. */
  readonly state: StateSettings;
  /** `restart:` of the spec; absent = the run fails on the first error. */
  readonly restart?: RestartSettings;
  /** The state schema of every stateful step, by uid: what a checkpoint must match to be restored (compiler/state). */
  readonly stateSchema: StateSchema;
  /** Creates this task's operators and sinks and returns the entry points of the source chains. Called once per task. */
  build(task: Task): JobEntries;
}

export interface SourceDefinition {
  readonly id: string;
  readonly connector: 'file' | 'generator' | 'kafka';
  /** The connector's options from the spec (path, format, dataset, seed, …). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Turns one raw value of the source into a typed record, or reports why it does not match the type. */
  readonly decode: (raw: RawRecord, decoder: Decoder) => unknown;
  /**
   * Reads one line of JSON text straight into a typed record, as JSON.parse and `decode` would, or returns undefined
   * when the line is not the common case it reads (a flat object of plain values that decode takes as they are):
   * JSON.parse and `decode` then read the line, and say what is wrong with it. Generated for a source of JSON lines
   * whose record type has only primitive fields; absent, every line goes through JSON.parse and `decode`.
   */
  readonly parse?: (line: string, scanner: JsonScanner) => unknown;
  readonly eventTime: EventTimeDefinition | undefined;
}

export interface EventTimeDefinition {
  /** Event time of a decoded record, epoch milliseconds; absent: the source's own record time (SourceBatch.times). */
  readonly extract?: (record: any) => number;
  readonly maxOutOfOrdernessMs: number;
  /** 0 = never idle. */
  readonly idleTimeoutMs: number;
}

export interface SinkDefinition {
  readonly id: string;
  readonly connector: 'file' | 'stdout' | 'kafka';
  readonly options: Readonly<Record<string, unknown>>;
  /** Kafka: the message key of a record (a number is written as its decimal text; null or undefined: no key). */
  readonly key?: (record: any) => string | number | null | undefined;
  /** Kafka: the message headers of a record (a null or undefined value: no such header). */
  readonly headers?: (record: any) => Readonly<Record<string, string | number | null | undefined>>;
}

export interface CheckpointSettings {
  readonly intervalMs: number;
  readonly mode: 'exactly_once' | 'at_least_once';
  /** Completed checkpoints kept; older ones are deleted. */
  readonly retain: number;
}

export interface StateSettings {
  readonly backend: 'memory' | 'rocksdb';
}

export interface RestartSettings {
  readonly attempts: number;
  readonly delayMs: number;
}

/**
 * The state schema of a job: per stateful step uid, what its checkpoint rows hold. Written by the compiler next to
 * the generated code (generated/<pipeline>.state.json) and into every checkpoint; two schemas are compared by
 * runtime/state/schema.ts.
 */
export type StateSchema = Readonly<Record<string, StepStateSchema>>;

export interface StepStateSchema {
  /** The step id (the uid defaults to it). */
  readonly step: string;
  /** What the step keeps: `tumbling`, `sliding`, `session`, `global` (window kinds) or `dedupe`. */
  readonly operator: string;
  /** The key's type, as the spec writes types (`string`, `int`, or a composite key's `[string,int]`). */
  readonly key: string;
  /** Per aggregate field of a window step, its function and argument type (`sum(float)`); empty for dedupe. */
  readonly fields: Readonly<Record<string, string>>;
  /** Aggregate fields whose state a restore drops (they start empty): the step's `migrate: { reset: [...] }`. */
  readonly reset?: readonly string[];
}

/** A raw record as a source read it: a parsed JSON value (json lines, generator) or a CSV row keyed by header. */
export type RawRecord = Readonly<Record<string, unknown>>;

/**
 * Field readers for generated decoders. Each reads one field and converts it to the spec type; on the first
 * mismatch it records the reason in `error` and returns a placeholder, so a decoder reads every field straight
 * through and checks `error` once at the end.
 */
export interface Decoder {
  error: string | undefined;
  /** CSV cells arrive as strings; a lenient decoder parses them into the field's type. */
  readonly lenient: boolean;
}

/** Where each source chain starts, per source id. */
export type JobEntries = Readonly<Record<string, SourceEntry>>;

export interface SourceEntry {
  /** Called once per decoded record, in source order, with its event time (or processing time). */
  readonly record: (record: any, time: number) => void;
  /** Called for a record that does not decode; absent when the source names no `dead_letter` output (then it is counted and logged). */
  readonly deadLetter?: (record: DeadLetterRecord, time: number) => void;
}

/** A record that did not match its type, with where it came from. */
export interface DeadLetterRecord {
  readonly source: string;
  /** `pipelines/data/orders.jsonl:1234`, or `generator orders shard 0 #17`. */
  readonly position: string;
  readonly error: string;
  /** The raw text (or JSON of the raw value). */
  readonly raw: string;
}

/** One task of a job: builds operators and sinks, and drives watermarks through them. */
export interface Task {
  readonly index: number;
  readonly parallelism: number;
  /** The sink writer for a sink id of the job. */
  sink<T>(id: string): SinkWriter<T>;
  /** Registers an operator so the task delivers watermarks, end of input and checkpoints to it, in registration (topological) order. */
  register<T extends Operator>(operator: T): T;
  /**
   * The exchange `id`: records sent to it reach `receiver` of the task that owns the key's key group. `window` is
   * the window step the receiver hands every record to and nothing else: then records bound for a task on another
   * worker thread may cross as that window's partial accumulators (PreAggregatingWindow).
   */
  exchange<K extends Key, T>(id: string, receiver: (key: K, record: T, time: number) => void, window?: PreAggregatingWindow<K, T>): ExchangeSender<K, T>;
  readonly metrics: TaskMetrics;
}

/**
 * A window step that an exchange feeds directly. A worker thread folds the records it sends to another worker's
 * tasks into one accumulator per key and window, and sends those instead of the records: Flink SQL's two-phase
 * (local-global) aggregation. Only records of windows that have not fired are folded, so the receiving task adds
 * each accumulator as it would have added the records (no late row is emitted, no record is late); records of
 * windows that fired cross as they are, to emit their late updates one by one or go to the late output.
 */
export interface PreAggregatingWindow<K extends Key, In, Acc = unknown> {
  readonly aggregation: Pick<WindowAggregation<K, In, Acc, unknown>, 'create' | 'add' | 'save'>;
  /**
   * The start of the window a record of event time `time` joins, if that window has not fired: watermarks reach
   * every task of a run at once, so the receiving task's window has not fired either. NaN otherwise.
   */
  unfiredWindowOf(time: number): number;
  /** Adds an accumulator that another worker folded (as `aggregation.save` gave it) to the key's window `start`. */
  mergePartial(key: K, start: number, saved: unknown): void;
}

/** A key value: one key field's value, or a composite key's string. */
export type Key = string | number | boolean;

export interface ExchangeSender<K extends Key, T> {
  send(key: K, record: T, time: number): void;
}

export interface SinkWriter<T> {
  write(record: T): void;
}

/** Lifecycle of a stateful operator, in the spirit of Flink's StreamOperator. */
export interface Operator {
  readonly id: string;
  /**
   * The watermark of the operator's input advanced to `watermark`; fire what is due, in event-time order. Under a
   * memory budget, a firing that needs evicted rows may stop and ask for them (OperatorState.pendingLoads): the
   * executor loads them and calls again with the same watermark, until the operator asks for nothing more.
   */
  onWatermark(watermark: number): void;
  /** Processing time advanced (for processing-time windows and triggers). */
  onProcessingTime?(now: number): void;
  /** Present on operators with keyed state: their part in checkpoints. */
  readonly state?: OperatorState;
  /**
   * Present on operators that keep broadcast state (runtime/state/broadcast-state.ts): operator state that every
   * task holds alike, not split by key. Its rows are filed under its own uid like keyed rows, but a restore gives
   * every one of them to every task, whatever key groups the task owns.
   */
  readonly broadcastState?: OperatorState;
}

/** A window or key's namespace within a step's keyed state: a window start, a pane start, a session's start. */
export type StateNamespace = number | string;

/**
 * An operator's keyed state in checkpoints (Flink's snapshotState / initializeState). State is made of rows, one
 * per (key, namespace), each a plain JSON value; the checkpoint files a row under the key's key group, so a
 * checkpoint restores at any parallelism: each task takes back the rows of the key groups it owns.
 */
export interface OperatorState {
  /** The step's state id: its `uid`, else its step id. */
  readonly uid: string;
  /**
   * Writes the operator's rows: with `full`, every row; otherwise only rows changed since the previous snapshot,
   * and a delete for every row that went away since. Afterwards every row counts as unchanged. Called between
   * batches, never during one.
   */
  snapshot(out: StateRowWriter, full: boolean): void;
  /**
   * Takes back one row of a checkpoint; rows come in no particular order, all before `restored`. A window
   * operator's row keeps its accumulator, as WindowAggregation.save gives it, under `acc`: a restore leaves the
   * fields a migration resets out of it.
   */
  restoreRow(key: Key, namespace: StateNamespace, value: unknown): void;
  /** Every row is back; `watermark` was the operator's watermark at the checkpoint: register the timers the rows need. */
  restored(watermark: number): void;
  /** Rows the operator has, in memory or evicted: as many as a checkpoint of it holds. */
  readonly size: number;

  // State larger than memory (`pipec run --state-memory`): an operator that can spill implements all of what
  // follows; one that does not keeps every row in memory. The executor evicts after checkpoints and loads between
  // rounds and before each watermark, never during a batch: the hot path never waits on the backend.

  /** Rows whose value is in memory: `size` less the evicted ones. */
  readonly residentRows?: number;
  /**
   * Drops the values of clean rows (unchanged since the last snapshot, so the backend holds them) from memory until
   * at most `targetRows` are resident, those least likely needed soon first, keeping an index of the rows evicted:
   * enough to know that a key has state in the backend, and which rows a firing needs. Called right after a
   * checkpoint, or a restore whose rows the backend holds. Returns the rows evicted.
   */
  evict?(targetRows: number): number;
  /**
   * The rows asked for since the previous call, each once; empty when none. `process` never handles a record against
   * evicted state: it parks it, and every later record of its key (a key's records keep their order), and asks for
   * the rows it needs; `prepareWatermark` asks for those a firing needs. The caller reads them from the backend and
   * hands them to `loaded`.
   */
  pendingLoads?(): readonly RowAddress[];
  /**
   * The values of the rows `pendingLoads` gave, in its order: they are resident again (and clean), and the parked
   * records are processed, in the order they came; what they emit may park records in downstream operators.
   */
  loaded?(rows: readonly RowAddress[], values: readonly unknown[]): void;
  /**
   * Takes back a row of a checkpoint that the backend holds and keeps: as if evicted, the operator keeps only what
   * its index of evicted rows needs (the row comes in full for that). The executor restores rows this way past the
   * budget, instead of `restoreRow`, when the backend was restored from the checkpoint; `restored` follows as usual.
   */
  restoreEvicted?(key: Key, namespace: StateNamespace, value: unknown): void;
  /**
   * `onWatermark(watermark)` comes next: ask for the evicted rows it fires, so that it finds them in memory (no
   * more than `maxRows` at once: a firing that needs more asks for them as it goes).
   */
  prepareWatermark?(watermark: number, maxRows: number): void;
  /**
   * How far towards `watermark` the operator's watermark can go with firing that needs at most `maxRows` evicted
   * rows, but at least to its next firing that needs any (which may need more): the executor cuts an advance that
   * fires much evicted state (the end of input fires everything) into steps, each loading what fits the budget.
   * Returns `watermark` when all of it fits.
   */
  watermarkStep?(watermark: number, maxRows: number): number;
}

/** A row of an operator's keyed state, without its value. */
export interface RowAddress {
  readonly key: Key;
  readonly namespace: StateNamespace;
}

export interface StateRowWriter {
  /** `value` must be plain JSON data (no class instances, no undefined). */
  put(key: Key, namespace: StateNamespace, value: unknown): void;
  delete(key: Key, namespace: StateNamespace): void;
}

export interface TaskMetrics {
  /** A record arrived after its window's allowed lateness and had no late output. */
  dropped(stepId: string, count?: number): void;
  /** A record went to a late output. */
  late(stepId: string, count?: number): void;
}

/** Reads one source for one task: the splits (file chunks, generator shards, partitions) assigned to that task. */
export interface SourceReader {
  /** The splits this reader reads; watermarks are tracked per split. */
  readonly splits: readonly number[];
  /**
   * The reader reads its splits one after the other, in order of event time (the pieces of a time-ordered file):
   * its records are one stream for watermarks, as if one split, so that a split not started yet does not hold the
   * watermark back, nor does one read to its end let it run ahead.
   */
  readonly splitsInOrder?: boolean;
  open(): Promise<void>;
  /**
   * The next batch of at most `maxRecords` values, or null when every split has ended (bounded input).
   * An unbounded source with nothing to read resolves an empty batch within about 100 ms, so the task can
   * advance processing time and idle splits.
   */
  poll(maxRecords: number): Promise<SourceBatch | null>;
  /** Human-readable position for logs and dead letters: `pipelines/data/orders.jsonl:1234`. */
  describePosition(split: number, position: number): string;
  /**
   * Where `split` resumes after the records polled so far, as plain JSON data (a byte offset and line, a sequence
   * number, a Kafka offset): what a checkpoint keeps. A reader created with it in `SourceContext.resume` goes on
   * with the record after the last one polled, as if it had never stopped.
   */
  checkpointPosition(split: number): unknown;
  close(): Promise<void>;
  /**
   * Only for a source that knows its own watermarks (the in-memory source of `pipec test`, whose cases pin them):
   * the split's watermark now, -Infinity before the first. When present, it replaces the bounded-out-of-orderness
   * watermark (and idleness) of every split of this reader until the reader ends; the executor reads it after each
   * round of polls, so a batch that ends where a watermark is due lets it apply exactly after that record.
   */
  watermark?(split: number): number;
  /**
   * A record of this reader did not decode (`position` as in the batch). A reader that keeps bad records itself (a
   * Kafka dead-letter topic) takes it and returns true; false lets the run handle it (the source's `dead_letter`
   * output, else counted and logged).
   */
  rejected?(split: number, position: number, error: string): boolean;
  /** Makes what `rejected` took durable; called before every checkpoint, whose positions then cover it. */
  flush?(): Promise<void>;
  /**
   * The checkpoint that recorded `positions` (this reader's splits → checkpointPosition) is complete (Flink's
   * notifyCheckpointComplete): e.g. commit them as the Kafka consumer group's offsets, for lag tools and
   * `start_offset: committed`. Not needed for correctness: a restore reads positions from the checkpoint.
   */
  checkpointComplete?(positions: ReadonlyMap<number, unknown>): Promise<void>;
}

export interface SourceBatch {
  readonly split: number;
  /** `json-text`: each value is one line of JSON text to parse. `values`: each value is already a RawRecord. */
  readonly encoding: 'json-text' | 'values';
  readonly values: readonly unknown[];
  /** Per value, its position in the split: line number for files, sequence number for generators. */
  readonly positions: readonly number[];
  /** True for CSV: field values are strings that the decoder converts. */
  readonly lenient: boolean;
  /**
   * The split has no more records after this batch (a file split read to its end, a bounded partition): it stops
   * holding back the watermark while the reader's other splits go on.
   */
  readonly splitEnded?: boolean;
  /** Per value, when the reader parsed it and failed: why (the value is then the raw text); absent when none failed. */
  readonly errors?: readonly (string | undefined)[];
  /** Per value, the record's own time in the source (a Kafka record timestamp): event time when the spec takes it. */
  readonly times?: readonly number[];
}

export interface SourceContext {
  readonly taskIndex: number;
  readonly parallelism: number;
  /** Directory that relative paths resolve against. */
  readonly cwd: string;
  /** Restoring a checkpoint: per split, the position `checkpointPosition` gave; a split not in it starts at its beginning. */
  readonly resume?: ReadonlyMap<number, unknown>;
  /** `pipec run --kafka-servers`: the bootstrap servers of every Kafka source and sink (default localhost:9092). */
  readonly kafkaServers?: readonly string[];
  /** `--app-name`, else the pipeline name: default Kafka consumer group, and part of transactional ids. */
  readonly appName?: string;
}

/** The writing end of a sink: buffered writes on the hot path, one awaited flush per batch. */
export interface SinkConnector<T = unknown> extends SinkWriter<T> {
  open(): Promise<void>;
  /** Writes out what was buffered. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Records written so far. */
  readonly written: number;
  /**
   * For a sink that writes JSON lines: records serialised where they were made (on a worker thread), each
   * `JSON.stringify(record)` and a line feed. The same as `write` of each of the `records`, which then cross to the
   * sink's thread as one string and are not serialised on it.
   */
  writeLines?(lines: string, records: number): void;
  /**
   * Checkpoint `checkpointId` cuts here (after a flush): makes what was written since the previous one durable but
   * not yet visible, and returns, as plain JSON data, what a restore needs to commit or discard it (the two-phase
   * commit of Flink's TwoPhaseCommitSinkFunction). Only for `exactly_once` delivery.
   */
  prepareCommit?(checkpointId: number): Promise<unknown>;
  /** The checkpoint `prepareCommit` returned `prepared` for is complete: make its output visible. Idempotent. */
  commit?(prepared: unknown): Promise<void>;
  /**
   * Makes visible what another process's sink prepared for a checkpoint this one restores (a distributed run
   * restores the tasks of a member that died): Kafka commits the transaction by its producer id and epoch.
   */
  recover?(prepared: unknown): Promise<void>;
}

/** Builds the readers of sources and the writers of sinks: the spec's connectors (runtime/connectors) unless a run says otherwise. */
export interface Connectors {
  source(definition: SourceDefinition, context: SourceContext): SourceReader;
  sink(definition: SinkDefinition, context: SinkContext): SinkConnector;
}

export interface SinkContext {
  readonly taskIndex: number;
  readonly parallelism: number;
  /** Directory that relative sink paths resolve against. */
  readonly outputPath: string;
  /**
   * `none` (no checkpoints: write straight out), `at_least_once` (write straight out; a restore keeps what is
   * there), `exactly_once` (output is visible only once a checkpoint covers it; see prepareCommit/commit).
   */
  readonly delivery: 'none' | 'at_least_once' | 'exactly_once';
  /**
   * Restoring a checkpoint: what this sink's prepareCommit returned for it (undefined when the sink had not
   * started then). The sink commits it if that had not happened, and discards any output no checkpoint covers.
   */
  readonly restore?: { readonly prepared: unknown };
  /** As SourceContext.kafkaServers. */
  readonly kafkaServers?: readonly string[];
  /** As SourceContext.appName. */
  readonly appName?: string;
  /**
   * Kafka transactions a process leaves open (it died) are aborted by the broker after this long; a restore must
   * commit a prepared one before. Default 15 min; a distributed run sets a short one, since an open transaction holds
   * back every read_committed consumer of its partitions.
   */
  readonly transactionTimeoutMs?: number;
  /** In a distributed run: the id of this process's member, whose sinks use transactional ids and files of their own. */
  readonly member?: string;
}
