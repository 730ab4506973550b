// The `kafka` source connector (kafkajs): the partitions of the spec's topics that belong to one task, read from
// the positions of the checkpoint (or `start_offset`), handed out in batches of one partition each.

import { randomUUID } from 'node:crypto';
import { AssignerProtocol, type Admin, type Kafka, type Batch, type Consumer, type KafkaMessage, type PartitionAssigner, type Producer } from 'kafkajs';
import type { SourceBatch, SourceContext, SourceReader } from '../../api.ts';
import { commitGroupOffsets, createCluster, type Cluster } from './cluster.ts';
import { addMetadata, decodeValue, type DecodedValue } from './formats.ts';
import { kafkaClient, parseKafkaSourceOptions, type KafkaSourceOptions } from './options.ts';

/** A split is `topic index × SPLITS_PER_TOPIC + partition`, the topic index its place in `topics`. */
const SPLITS_PER_TOPIC = 100_000;
/** Messages fetched and not yet polled, at most (then fetching pauses until polls take half of them). */
const MAX_BUFFERED = 32_768;
/** How long a poll waits for messages before it returns an empty batch (SourceReader.poll: about 100 ms). */
const POLL_WAIT_MS = 100;

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** The offset of the next message to hand out: the checkpoint position. */
  position: number;
  /** The offset the next fetched message must have at least: messages below it were fetched before (a refetch). */
  fetched: number;
  /** With `bounded`: the end offset as of the start; the split ends when `position` reaches it. */
  readonly end: number | undefined;
  ended: boolean;
}

/** Messages of one partition, fetched and waiting to be polled from `next` on. */
interface Fetched {
  readonly split: number;
  readonly messages: readonly KafkaMessage[];
  next: number;
  /** The offset after the fetched batch, control records (transaction markers) included. */
  readonly endOffset: number;
}

/**
 * Partition p of the spec's i-th topic belongs to task (i + p) mod parallelism: deterministic, so watermarks are
 * per partition and a checkpoint's positions (per split) restore at any parallelism.
 *
 * kafkajs has no manual `assign()`: a consumer always joins a group. Each task's reader joins a group of its own
 * (`<group>.pipec-<task>-<uuid>`, new per run, so no member of an earlier run is waited for), alone in it, with a
 * partition assigner that gives it exactly its partitions, and seeks them to its positions. Offsets are the
 * checkpoint's, never auto-committed; when a checkpoint completes, its positions are committed to the spec's
 * group (`group`), which no consumer joins, so lag tools and `start_offset: committed` see them.
 */
export function createKafkaReader(options: Readonly<Record<string, unknown>>, context: SourceContext): SourceReader {
  return new KafkaReader(parseKafkaSourceOptions(options, context), context);
}

class KafkaReader implements SourceReader {
  splits: readonly number[] = [];
  private readonly options: KafkaSourceOptions;
  private readonly context: SourceContext;
  private readonly partitions = new Map<number, PartitionState>();
  private readonly metadataFields: readonly (readonly [string, string])[];
  private admin: Admin | undefined;
  /** For committing checkpoint offsets to the group. */
  private cluster: Cluster | undefined;
  /** Why the consumer stopped, if it crashed: the next poll throws it. */
  private crashed: Error | undefined;
  private consumer: Consumer | undefined;
  private deadLetters: Producer | undefined;
  private readonly queue: Fetched[] = [];
  private buffered = 0;
  private paused = false;
  /** Resolves a poll waiting for messages. */
  private wake: (() => void) | undefined;
  /** The messages of the batch polled last, for `rejected`. */
  private lastMessages: readonly KafkaMessage[] = [];
  private lastSplit = -1;
  private pendingDeadLetters: { key: Buffer | null; value: Buffer | null; headers: Record<string, string | Buffer>; timestamp: string }[] = [];
  private commitWarned = false;
  private readonly decoded: DecodedValue = { record: undefined, error: undefined, operation: undefined };

  constructor(options: KafkaSourceOptions, context: SourceContext) {
    this.options = options;
    this.context = context;
    this.metadataFields = Object.entries(options.metadata);
  }

  async open(): Promise<void> {
    const { options, context } = this;
    const kafka = kafkaClient(options.servers, `pipec-${context.appName ?? options.group}-source-${context.taskIndex}`);
    try {
      this.admin = kafka.admin();
      await this.admin.connect();
      await this.findPartitions(this.admin);
      if (this.splits.length === 0) return;
      await this.findPositions(this.admin);
      this.cluster = createCluster(kafka);
      await this.cluster.connect();
      if (options.deadLetterTopic !== undefined) {
        this.deadLetters = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
        await this.deadLetters.connect();
      }
      if ([...this.partitions.values()].every((state) => state.ended)) return;
      await this.startConsumer(kafka);
    } catch (error) {
      await this.close();
      throw new Error(`kafka source '${options.topics.join(',')}' at ${options.servers.join(',')}: ${(error as Error).message}`);
    }
  }

  async poll(maxRecords: number): Promise<SourceBatch | null> {
    if (this.crashed !== undefined) throw new Error(`kafka source '${this.options.topics.join(',')}': the consumer stopped: ${this.crashed.message}`);
    await this.flush();
    if (this.queue.length === 0) {
      if (this.allEnded()) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, POLL_WAIT_MS);
        this.wake = done;
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
      this.wake = undefined;
      if (this.queue.length === 0) {
        return this.allEnded() ? null : { split: this.splits[0], encoding: 'values', values: [], positions: [], lenient: false };
      }
    }
    return this.take(this.queue[0], maxRecords);
  }

  describePosition(split: number, position: number): string {
    const state = this.partitions.get(split);
    return state === undefined ? `split ${split} @${position}` : `${state.topic}/${state.partition}@${position}`;
  }

  checkpointPosition(split: number): number {
    const state = this.partitions.get(split);
    if (state === undefined) throw new RangeError(`kafka source: split ${split} is not read by task ${this.context.taskIndex}`);
    return state.position;
  }

  rejected(split: number, position: number, error: string): boolean {
    if (this.deadLetters === undefined) return false;
    const state = this.partitions.get(split)!;
    const message = split === this.lastSplit ? this.lastMessages.find((candidate) => Number(candidate.offset) === position) : undefined;
    if (message === undefined) return false;
    this.pendingDeadLetters.push({
      key: message.key,
      value: message.value,
      timestamp: message.timestamp,
      headers: {
        ...message.headers,
        'pipec.error': error,
        'pipec.source.topic': state.topic,
        'pipec.source.partition': String(state.partition),
        'pipec.source.offset': String(position),
      },
    });
    return true;
  }

  /** Sends the dead letters taken so far, with acks from all in-sync replicas. */
  async flush(): Promise<void> {
    if (this.pendingDeadLetters.length === 0) return;
    const messages = this.pendingDeadLetters;
    this.pendingDeadLetters = [];
    await this.deadLetters!.send({ topic: this.options.deadLetterTopic!, acks: -1, messages });
  }

  async checkpointComplete(positions: ReadonlyMap<number, unknown>): Promise<void> {
    if (this.cluster === undefined) return;
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const [split, position] of positions) {
      const state = this.partitions.get(split);
      if (state === undefined) continue;
      let list = byTopic.get(state.topic);
      if (list === undefined) byTopic.set(state.topic, (list = []));
      list.push({ partition: state.partition, offset: String(position) });
    }
    try {
      await commitGroupOffsets(this.cluster, this.options.group, [...byTopic].map(([topic, partitions]) => ({ topic, partitions })));
    } catch (error) {
      // The checkpoint holds the positions; the group's offsets are for lag tools and `start_offset: committed`.
      if (!this.commitWarned) console.error(`kafka source: cannot commit offsets to group '${this.options.group}': ${(error as Error).message}`);
      this.commitWarned = true;
    }
  }

  async close(): Promise<void> {
    const { consumer, admin, deadLetters, cluster } = this;
    this.consumer = this.admin = this.deadLetters = this.cluster = undefined;
    this.wake?.();
    await consumer?.disconnect();
    await deadLetters?.disconnect();
    await cluster?.disconnect();
    await admin?.disconnect();
  }

  /** This task's partitions of the spec's topics. */
  private async findPartitions(admin: Admin): Promise<void> {
    const { topics } = this.options;
    const { taskIndex, parallelism } = this.context;
    const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
    const splits: number[] = [];
    for (const [index, topic] of topics.entries()) {
      const partitions = metadata.topics.find((candidate) => candidate.name === topic)?.partitions ?? [];
      if (partitions.length === 0) throw new Error(`topic '${topic}' has no partitions (does it exist?)`);
      for (const { partitionId } of partitions) {
        if ((index + partitionId) % parallelism !== taskIndex) continue;
        const split = index * SPLITS_PER_TOPIC + partitionId;
        splits.push(split);
        this.partitions.set(split, { topic, partition: partitionId, position: 0, fetched: 0, end: undefined, ended: false });
      }
    }
    this.splits = splits.sort((a, b) => a - b);
  }

  /** Where each partition starts: the checkpoint's position, else `start_offset`; and with `bounded`, where it ends. */
  private async findPositions(admin: Admin): Promise<void> {
    const { options } = this;
    for (const topic of new Set([...this.partitions.values()].map((state) => state.topic))) {
      const offsets = new Map((await admin.fetchTopicOffsets(topic)).map((entry) => [entry.partition, { low: Number(entry.low), high: Number(entry.high) }]));
      const starts = new Map<number, number>();
      if (options.startOffset === 'committed') {
        const [committed] = await admin.fetchOffsets({ groupId: options.group, topics: [topic] });
        for (const { partition, offset } of committed?.partitions ?? []) if (Number(offset) >= 0) starts.set(partition, Number(offset));
      } else if (options.startOffset === 'timestamp') {
        for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(topic, options.startTimestamp)) starts.set(partition, Number(offset));
      }
      for (const [split, state] of this.partitions) {
        if (state.topic !== topic) continue;
        const { low, high } = offsets.get(state.partition)!;
        const resumed = this.context.resume?.get(split);
        const fallback = options.startOffset === 'latest' ? high : low;
        const start = typeof resumed === 'number' ? resumed : Math.max(low, starts.get(state.partition) ?? fallback);
        const end = options.bounded ? high : undefined;
        this.partitions.set(split, { ...state, position: start, fetched: start, end, ended: end !== undefined && start >= end });
      }
    }
  }

  private async startConsumer(kafka: Kafka): Promise<void> {
    const { options, context } = this;
    const assignment: Record<string, number[]> = {};
    for (const state of this.partitions.values()) (assignment[state.topic] ??= []).push(state.partition);
    const consumer = kafka.consumer({
      groupId: `${options.group}.pipec-${context.taskIndex}-${randomUUID()}`,
      partitionAssigners: [taskAssigner(assignment)],
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(Object.keys(assignment))], fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => this.onJoin(consumer));
    // kafkajs restarts its consumer after a retriable failure; one it gives up on ends the run with its cause.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.crashed = payload.error;
      this.wake?.();
    });
    // A fetch of only transaction markers or aborted messages reaches no eachBatch; its end still moves the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) this.enqueue(this.splitOf(payload.topic, payload.partition), [], Number(payload.lastOffset) + 1);
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => this.enqueue(this.splitOf(batch.topic, batch.partition), batch.messages, endOffset(batch)),
    });
  }

  /**
   * The consumer joined its group: at the start, and again after kafkajs restarted it (a retriable failure, such as a
   * coordinator not yet available on a fresh broker). Each time it starts fetching from what the group committed
   * (nothing: it starts from the beginning), so every partition is sought to the offset after what was fetched, and
   * what should not be fetched is paused again. Called before the first fetch after the join.
   */
  private onJoin(consumer: Consumer): void {
    for (const state of this.partitions.values()) {
      if (state.ended) consumer.pause([{ topic: state.topic, partitions: [state.partition] }]);
      else consumer.seek({ topic: state.topic, partition: state.partition, offset: String(state.fetched) });
    }
    if (this.paused) consumer.pause(this.topicPartitions());
  }

  private splitOf(topic: string, partition: number): number {
    return this.options.topics.indexOf(topic) * SPLITS_PER_TOPIC + partition;
  }

  /** Queues fetched messages from the partition's fetch position on (a refetch after a rebalance repeats nothing). */
  private enqueue(split: number, fetched: readonly KafkaMessage[], endOffset: number): void {
    const state = this.partitions.get(split);
    if (state === undefined || state.ended || endOffset <= state.fetched) return;
    const first = fetched.findIndex((message) => Number(message.offset) >= state.fetched);
    const messages = first <= 0 ? fetched : fetched.slice(first);
    state.fetched = endOffset;
    this.queue.push({ split, messages: first < 0 ? [] : messages, next: 0, endOffset });
    this.buffered += messages.length;
    if (!this.paused && this.buffered >= MAX_BUFFERED) {
      this.paused = true;
      this.setPaused(this.topicPartitions(), true);
    }
    this.wake?.();
  }

  /** Up to `maxRecords` messages of the partition at the head of the queue, as raw records. */
  private take(head: Fetched, maxRecords: number): SourceBatch {
    const { options, metadataFields, decoded } = this;
    const state = this.partitions.get(head.split)!;
    const values: unknown[] = [];
    const positions: number[] = [];
    const times: number[] = [];
    let errors: (string | undefined)[] | undefined;
    const start = head.next;
    let stop = Math.min(head.messages.length, start + maxRecords);
    for (let i = start; i < stop; i++) {
      const message = head.messages[i];
      const offset = Number(message.offset);
      // A bounded read stops at the end offsets it started with.
      if (state.end !== undefined && offset >= state.end) {
        stop = head.messages.length;
        break;
      }
      state.position = offset + 1;
      decodeValue(options.format, message.value, decoded);
      const record = decoded.record;
      if (record === undefined && decoded.error === undefined) continue; // a Debezium tombstone
      if (record === undefined) {
        (errors ??= [])[values.length] = decoded.error;
        values.push(message.value === null ? '' : message.value.toString('utf8'));
      } else {
        if (metadataFields.length > 0) addMetadata(record, metadataFields, { topic: state.topic, partition: state.partition, message, operation: decoded.operation });
        values.push(record);
      }
      positions.push(offset);
      times.push(Number(message.timestamp));
    }
    head.next = stop;
    this.buffered -= stop - start;
    this.lastMessages = head.messages;
    this.lastSplit = head.split;
    if (stop === head.messages.length) {
      state.position = Math.min(Math.max(state.position, head.endOffset), state.end ?? Infinity);
      this.queue.shift();
    }
    if (state.end !== undefined && state.position >= state.end && !state.ended) {
      state.ended = true;
      this.setPaused([{ topic: state.topic, partitions: [state.partition] }], true);
    }
    if (this.paused && this.buffered < MAX_BUFFERED / 2) {
      this.paused = false;
      this.setPaused(this.topicPartitions(), false);
    }
    if (errors !== undefined) errors.length = values.length;
    return { split: head.split, encoding: 'values', values, positions, lenient: false, errors, times };
  }

  /** Pauses or resumes fetching; while kafkajs restarts the consumer there is nothing to pause, and onJoin applies the state. */
  private setPaused(partitions: { topic: string; partitions: number[] }[], paused: boolean): void {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    try {
      if (paused) consumer.pause(partitions);
      else consumer.resume(partitions);
    } catch {
      // "Consumer group was not initialized": the consumer is between a crash and its restart.
    }
  }

  private allEnded(): boolean {
    return this.queue.length === 0 && this.options.bounded && [...this.partitions.values()].every((state) => state.ended);
  }

  private topicPartitions(): { topic: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>();
    for (const state of this.partitions.values()) {
      if (state.ended) continue;
      let partitions = byTopic.get(state.topic);
      if (partitions === undefined) byTopic.set(state.topic, (partitions = []));
      partitions.push(state.partition);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }
}

/** The offset after a fetched batch, the transaction markers in it included. */
function endOffset(batch: Batch): number {
  return Number(batch.lastOffset()) + 1;
}

/** A partition assigner that gives every member (the task's consumer, alone in its group) exactly `assignment`. */
function taskAssigner(assignment: Record<string, number[]>): PartitionAssigner {
  return () => ({
    name: 'pipec-task',
    version: 1,
    async assign({ members }) {
      const memberAssignment = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) });
      return members.map(({ memberId }) => ({ memberId, memberAssignment }));
    },
    protocol({ topics }) {
      return { name: 'pipec-task', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });
}
