// One `pipec run --distributed` process in its Kafka consumer group: the group assigns it tasks, and it fetches the
// exchange records other members send to those tasks (DESIGN §4.8: Kafka is the distributed engine).
//
// The exchange topic `<app>-exchange` has a partition per task. Every member of the group `<app>.members`
// subscribes to it, and Kafka's assignment of its partitions is the assignment of the tasks: a member runs the tasks
// whose partitions it holds (their operators, their sources' splits) and reads, from each of those partitions, the
// records that other members' tasks send to it. When the group changes (a member joins, leaves or dies), Kafka
// assigns the partitions anew and each member starts over with its new tasks from their newest checkpoints.

import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { withAdmin } from '../connectors/kafka/options.ts';
import type { RestorePlan } from './restore.ts';

/** The tasks Kafka gave this member, in one generation of the group, and how they resume. */
export interface Assignment {
  /** Counts this member's joins: an assignment is superseded by the next one. */
  readonly generation: number;
  readonly tasks: readonly number[];
  readonly plan: RestorePlan;
}

/** Messages of one exchange partition, fetched in a generation. */
export interface FetchedExchange {
  readonly task: number;
  readonly messages: readonly KafkaMessage[];
  /** The offset after the batch, transaction markers included. */
  readonly endOffset: number;
}

/** Fetched and not yet taken, at most (then fetching pauses until the member catches up). */
const MAX_BUFFERED = 32_768;
/**
 * How long a member that stops heartbeating (killed) keeps its tasks: Kafka's lowest session timeout by default
 * (group.min.session.timeout.ms), so failover starts seconds after a crash.
 */
const SESSION_TIMEOUT_MS = 6000;
const HEARTBEAT_INTERVAL_MS = 1000;

/** Thrown into a member's attempt when the group changed: its tasks go on from their checkpoints, wherever Kafka assigns them. */
export class Reassigned extends Error {
  constructor() {
    super('the group assigned the tasks anew');
  }
}

export function exchangeTopic(app: string): string {
  return `${app}-exchange`;
}

export function membersGroup(app: string): string {
  return `${app}.members`;
}

/** A member's Kafka client id names the member: the group's description then says which members are alive. */
export function memberClientId(app: string, id: string): string {
  return `pipec-${app}-member-${id}`;
}

/** A new member id: one per process. */
export function newMemberId(): string {
  return randomUUID();
}

/** The ids of the members in the group now (after a join: the members of its generation). */
export async function liveMembers(kafka: Kafka, app: string): Promise<Set<string>> {
  const { groups } = await withAdmin(kafka, (admin) => admin.describeGroups([membersGroup(app)]));
  const prefix = memberClientId(app, '');
  return new Set((groups[0]?.members ?? []).flatMap(({ clientId }) => (clientId.startsWith(prefix) ? [clientId.slice(prefix.length)] : [])));
}

export class GroupMember {
  private readonly topic: string;
  private consumer: Consumer | undefined;
  private generation = 0;
  private assignment: Assignment | undefined;
  /** Resolves the wait of `nextAssignment` for an assignment newer than `taken`. */
  private wake: (() => void) | undefined;
  private taken = 0;
  /** The tasks being read in the current generation, and the offset each has reached. */
  private reading = new Map<number, number>();
  private queue: FetchedExchange[] = [];
  private buffered = 0;
  private paused = false;
  private crashed: Error | undefined;

  private constructor(
    private readonly kafka: Kafka,
    /** The run's name (`--app-name`): it names the group and the exchange topic. */
    readonly app: string,
    /** This process in checkpoints, transactional ids and its Kafka client id (memberClientId). */
    readonly id: string,
    readonly parallelism: number,
    private readonly planRestore: (tasks: readonly number[]) => RestorePlan,
  ) {
    this.topic = exchangeTopic(app);
  }

  /**
   * Creates the exchange topic with a partition per task (or checks the one there has as many) and joins the group.
   * Every member must run with the same --parallelism: the topic's partitions are the tasks. `planRestore` says
   * where the tasks of an assignment resume; it runs when the assignment arrives, before anything is fetched.
   */
  static async join(kafka: Kafka, app: string, id: string, parallelism: number, planRestore: (tasks: readonly number[]) => RestorePlan): Promise<GroupMember> {
    const member = new GroupMember(kafka, app, id, parallelism, planRestore);
    await member.ensureTopic();
    await member.start();
    return member;
  }

  /** The next assignment not taken yet: waits for the group's join (or rejoin after a change). */
  async nextAssignment(signal?: AbortSignal): Promise<Assignment | undefined> {
    while (this.assignment === undefined || this.assignment.generation <= this.taken) {
      if (this.crashed !== undefined) throw this.crashed;
      if (signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 100);
        this.wake = done;
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
      this.wake = undefined;
    }
    this.taken = this.assignment.generation;
    return this.assignment;
  }

  /** The group changed since the assignment taken last: the tasks run now are no longer (all) this member's. */
  get reassigned(): boolean {
    return this.crashed !== undefined || (this.assignment !== undefined && this.assignment.generation > this.taken);
  }

  /**
   * What was fetched for the assignment taken last, batch by batch in the order of each partition. Batches of a
   * newer assignment wait for the attempt that takes it (the one running may poll once more before it stops).
   */
  take(): FetchedExchange[] {
    if (this.crashed !== undefined) throw new Error(`the group member's consumer stopped: ${this.crashed.message}`);
    if (this.assignment?.generation !== this.taken) return [];
    const taken = this.queue;
    this.queue = [];
    this.buffered = 0;
    if (this.paused) {
      this.paused = false;
      this.consumer?.resume([{ topic: this.topic, partitions: [...this.reading.keys()] }]);
    }
    return taken;
  }

  /** Leaves the group: the other members take its tasks over. */
  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.wake?.();
    await consumer?.disconnect();
  }

  private async ensureTopic(): Promise<void> {
    const metadata = await withAdmin(this.kafka, async (admin) => {
      await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: this.parallelism }], waitForLeaders: true });
      return admin.fetchTopicMetadata({ topics: [this.topic] });
    });
    const partitions = metadata.topics[0]?.partitions.length ?? 0;
    if (partitions !== this.parallelism) {
      throw new Error(
        `the exchange topic '${this.topic}' has ${partitions} partitions, one per task of the members running: run this member with --parallelism ${partitions} too (or, with every member stopped, delete the topic)`,
      );
    }
  }

  private async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: membersGroup(this.app),
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    // Called before the first fetch after a join: the partitions are sought to where their tasks resume, so no batch
    // fetched from elsewhere can reach the queue. A plan that fails (an unreadable checkpoint) ends the run.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const tasks = [...(payload.memberAssignment[this.topic] ?? [])].sort((a, b) => a - b);
      this.queue = [];
      this.buffered = 0;
      this.paused = false;
      try {
        const plan = this.planRestore(tasks);
        this.reading = new Map(tasks.map((task) => [task, plan.exchangeOffsets.get(task) ?? 0]));
        for (const [task, offset] of this.reading) consumer.seek({ topic: this.topic, partition: task, offset: String(offset) });
        if (tasks.length > 0) consumer.resume([{ topic: this.topic, partitions: tasks }]);
        this.assignment = { generation: ++this.generation, tasks, plan };
      } catch (error) {
        this.crashed = error as Error;
      }
      this.wake?.();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.crashed = payload.error;
      this.wake?.();
    });
    // A fetch of only transaction markers reaches no eachBatch; its end still moves the partition's offset.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) this.enqueue(payload.partition, [], Number(payload.lastOffset) + 1);
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => this.enqueue(batch.partition, batch.messages, Number(batch.lastOffset()) + 1),
    });
  }

  /** Queues a fetched batch of a partition being read, from the offset it has reached on (a refetch repeats nothing). */
  private enqueue(task: number, fetched: readonly KafkaMessage[], endOffset: number): void {
    const reached = this.reading.get(task);
    if (reached === undefined || endOffset <= reached) return;
    const messages = fetched.filter((message) => Number(message.offset) >= reached);
    this.reading.set(task, endOffset);
    this.queue.push({ task, messages, endOffset });
    this.buffered += messages.length;
    if (!this.paused && this.buffered >= MAX_BUFFERED) {
      this.paused = true;
      this.consumer?.pause([{ topic: this.topic, partitions: [...this.reading.keys()] }]);
    }
  }
}
