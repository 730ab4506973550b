// The `generator` source connector: reads a deterministic dataset, split into shards, at an optional rate.

import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { SourceBatch, SourceContext, SourceReader } from '../../api.ts';
import { type Dataset, type DatasetContext, type RecordGenerator, datasetNames, isDataset, recordGenerators } from './datasets.ts';
import { Random, seedWord } from './random.ts';

export interface GeneratorOptions {
  readonly dataset: Dataset;
  readonly seed: number;
  /** Records over all shards; 0 = unbounded. */
  readonly count: number;
  /** Records per second of wall time over all shards; 0 = as fast as possible. */
  readonly rate: number;
  /** Event-time spacing of consecutive records, ms. */
  readonly interval: number;
  /** Event time of record 0, epoch ms (`now` resolved). */
  readonly start: number;
  /** Fraction of records whose event time moves back by up to `maxLateness`. */
  readonly outOfOrder: number;
  readonly maxLateness: number;
  readonly shards: number;
}

export const DEFAULT_START = Date.UTC(2026, 0, 1);
/** Event-time spacing without a rate: 100 records per second of event time. */
const DEFAULT_INTERVAL_MS = 10;
const DEFAULT_MAX_LATENESS_MS = 5000;
/** A paced poll waits for about this much output, so a low rate still makes batches rather than single records. */
const PACED_BATCH_MS = 20;
/** The longest a poll waits before returning an empty batch (SourceReader.poll). */
const MAX_POLL_WAIT_MS = 100;

const EMPTY: readonly never[] = Object.freeze([]);

function optionNumber(options: Readonly<Record<string, unknown>>, name: string, fallback: number, check: (value: number) => boolean, expected: string): number {
  const value = options[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !check(value)) {
    throw new Error(`generator source: option '${name}' must be ${expected}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `now` is when the reader is created: records then carry event times near the wall clock (a live feed, with `rate`). */
function parseStart(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_START;
  if (value === 'now') return Date.now();
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new Error(`generator source: option 'start' must be an ISO-8601 time, epoch milliseconds or "now", got ${JSON.stringify(value)}`);
}

/** Checks the spec's options and fills in defaults. Durations (`interval`, `max_lateness`) arrive in milliseconds. */
export function parseGeneratorOptions(options: Readonly<Record<string, unknown>>): GeneratorOptions {
  const dataset = options.dataset;
  if (!isDataset(dataset)) {
    throw new Error(`generator source: option 'dataset' must be one of ${datasetNames.join(', ')}, got ${JSON.stringify(dataset)}`);
  }
  const isCount = (value: number) => Number.isSafeInteger(value) && value >= 0;
  const rate = optionNumber(options, 'rate', 0, (value) => Number.isFinite(value) && value >= 0, 'a number of records per second ≥ 0');
  return {
    dataset,
    seed: optionNumber(options, 'seed', 1, Number.isSafeInteger, 'an integer'),
    count: optionNumber(options, 'count', 0, isCount, 'an integer ≥ 0'),
    rate,
    // With a rate, event time advances with wall time unless the spec says otherwise.
    interval: optionNumber(options, 'interval', rate > 0 ? 1000 / rate : DEFAULT_INTERVAL_MS, (value) => Number.isFinite(value) && value >= 0, 'milliseconds ≥ 0'),
    start: parseStart(options.start),
    outOfOrder: optionNumber(options, 'out_of_order', 0, (value) => value >= 0 && value <= 1, 'a fraction between 0 and 1'),
    maxLateness: optionNumber(options, 'max_lateness', DEFAULT_MAX_LATENESS_MS, (value) => Number.isFinite(value) && value >= 0, 'milliseconds ≥ 0'),
    shards: optionNumber(options, 'shards', 1, (value) => Number.isSafeInteger(value) && value >= 1, 'an integer ≥ 1'),
  };
}

/** Where `shard` starts: its first record, or the sequence number a checkpoint gives as its position. */
function resumedSequence(shard: number, position: unknown, shards: number): number {
  if (position === undefined) return shard;
  if (!(Number.isSafeInteger(position) && (position as number) >= shard && (position as number) % shards === shard)) {
    throw new Error(
      `generator source: the checkpoint gives shard ${shard} the position ${JSON.stringify(position)}, which is not a record of that shard with ${shards} shards; ` +
        `restore a checkpoint taken with the same 'shards', or run without restoring one`,
    );
  }
  return position as number;
}

/**
 * Record i of the whole stream has the nominal event time start + i * interval and belongs to shard i mod shards;
 * task `taskIndex` reads the shards s with s mod parallelism = taskIndex. Each batch holds records of one shard.
 * A shard's checkpoint position is the sequence number of its next record: records depend only on their sequence
 * number, so a reader resumed there produces the same records as one that never stopped.
 */
export function createGeneratorReader(options: Readonly<Record<string, unknown>>, context: SourceContext): SourceReader {
  return new GeneratorReader(parseGeneratorOptions(options), context);
}

class GeneratorReader implements SourceReader {
  readonly splits: readonly number[];
  private readonly options: GeneratorOptions;
  private readonly generate: RecordGenerator;
  private readonly datasetContext: DatasetContext;
  private readonly random = new Random();
  /** Per split (same index as `splits`), the sequence number of its next record. */
  private readonly nextSequence: number[];
  private unfinished: number;
  /** Round-robin cursor over `splits`. */
  private turn = 0;
  /** Records per second of wall time this reader owes: its share of the shards' rate. */
  private readonly rate: number;
  private pacingStart = performance.now();
  private emitted = 0;

  constructor(options: GeneratorOptions, context: SourceContext) {
    this.options = options;
    this.generate = recordGenerators[options.dataset];
    this.datasetContext = { seed: seedWord(options.seed), start: options.start };
    const splits: number[] = [];
    for (let shard = context.taskIndex; shard < options.shards; shard += context.parallelism) {
      if (options.count === 0 || shard < options.count) splits.push(shard);
    }
    this.splits = splits;
    this.nextSequence = splits.map((shard) => resumedSequence(shard, context.resume?.get(shard), options.shards));
    this.unfinished = this.nextSequence.filter((sequence) => options.count === 0 || sequence < options.count).length;
    this.rate = (options.rate * splits.length) / options.shards;
  }

  async open(): Promise<void> {
    this.pacingStart = performance.now();
    this.emitted = 0;
  }

  async poll(maxRecords: number): Promise<SourceBatch | null> {
    if (this.unfinished === 0) return null;
    let allowed = maxRecords;
    if (this.rate > 0) allowed = await this.pace(maxRecords);
    // Even at full speed, let timers and I/O (checkpoints, metrics, signals) run between batches.
    else await yieldToEventLoop();
    const index = this.nextSplitIndex();
    const split = this.splits[index];
    const { count, shards } = this.options;
    let sequence = this.nextSequence[index];
    const remaining = count === 0 ? allowed : Math.min(allowed, Math.ceil((count - sequence) / shards));
    if (remaining <= 0) return { split, encoding: 'values', values: EMPTY, positions: EMPTY, lenient: false };
    const values = new Array<object>(remaining);
    const positions = new Array<number>(remaining);
    for (let offset = 0; offset < remaining; offset++) {
      values[offset] = this.produce(sequence);
      positions[offset] = sequence;
      sequence += shards;
    }
    this.nextSequence[index] = sequence;
    if (count !== 0 && sequence >= count) this.unfinished--;
    this.emitted += remaining;
    return { split, encoding: 'values', values, positions, lenient: false };
  }

  /** Record `sequence` of the whole stream. */
  private produce(sequence: number): object {
    const random = this.random;
    const { interval, start, outOfOrder, maxLateness } = this.options;
    random.seek(this.datasetContext.seed, sequence);
    // Both draws happen for every record, so the records' contents do not depend on the out-of-order settings.
    const lateDraw = random.next();
    const latenessDraw = random.next();
    let eventTime = Math.floor(start + sequence * interval);
    if (lateDraw < outOfOrder) eventTime -= Math.floor(latenessDraw * (maxLateness + 1));
    return this.generate(random, sequence, eventTime, this.datasetContext);
  }

  describePosition(split: number, position: number): string {
    return `generator shard ${split} #${position}`;
  }

  checkpointPosition(split: number): number {
    const index = this.splits.indexOf(split);
    if (index < 0) throw new RangeError(`generator source: shard ${split} is not read by this reader, which reads shards ${this.splits.join(', ') || 'none'}`);
    return this.nextSequence[index];
  }

  async close(): Promise<void> {}

  /** The index in `splits` of the next split with records left, round robin. */
  private nextSplitIndex(): number {
    const { count } = this.options;
    for (;;) {
      const index = this.turn;
      this.turn = (this.turn + 1) % this.splits.length;
      if (count === 0 || this.nextSequence[index] < count) return index;
    }
  }

  /**
   * How many records the rate allows now, at most `maxRecords`. Sleeps (never spins) until about PACED_BATCH_MS
   * worth of records are due, or MAX_POLL_WAIT_MS at most; may return 0.
   */
  private async pace(maxRecords: number): Promise<number> {
    const wanted = Math.max(1, Math.min(maxRecords, Math.floor((this.rate * PACED_BATCH_MS) / 1000)));
    let elapsed = performance.now() - this.pacingStart;
    const dueAt = ((this.emitted + wanted) / this.rate) * 1000;
    if (dueAt > elapsed) {
      await sleep(Math.min(MAX_POLL_WAIT_MS, Math.ceil(dueAt - elapsed)));
      elapsed = performance.now() - this.pacingStart;
    } else {
      await yieldToEventLoop();
    }
    const due = Math.floor((elapsed * this.rate) / 1000) - this.emitted;
    return Math.max(0, Math.min(maxRecords, due));
  }
}
