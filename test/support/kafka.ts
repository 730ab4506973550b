// A real Kafka broker for tests (one per test file) and small kafkajs helpers to create topics, produce and consume.
import { Kafka, logLevel, Partitioners, type IHeaders } from 'kafkajs';
import { startBroker, type KafkaBroker } from '../../scripts/kafka/broker.ts';

export type { KafkaBroker };

/** A message to produce; a string value is written as UTF-8. Without a partition, kafkajs's default partitioner picks one by key. */
export interface OutgoingMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

/** A consumed message; key, value and headers decoded as UTF-8, the value's bytes kept as they were. */
export interface ConsumedMessage {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  valueBytes: Buffer | null;
  headers: Record<string, string>;
}

export interface ConsumeOptions {
  /** read_committed: only messages of committed transactions (and non-transactional ones). Default false (read_uncommitted). */
  readCommitted?: boolean;
  /** Stop once this many messages arrived. */
  count?: number;
  /** Stop when no message arrived for this long after the consumer joined its group; default 1000 ms when no count is given. */
  idleMs?: number;
  /** Give up waiting for `count` messages after this long and return those received; default 30 s. */
  timeoutMs?: number;
}

/** Starts a private broker on free loopback ports: call it in beforeAll and stop() it in afterAll (startup takes ~10 s). */
export function startKafka(): Promise<KafkaBroker> {
  return startBroker();
}

/** A kafkajs client of the broker that logs only errors. */
export function kafkaClient(broker: KafkaBroker, clientId = 'pipec-test'): Kafka {
  return new Kafka({ clientId, brokers: [broker.bootstrapServers], logLevel: logLevel.ERROR });
}

export async function createTopic(broker: KafkaBroker, topic: string, partitions: number): Promise<void> {
  const admin = kafkaClient(broker).admin();
  await admin.connect();
  try {
    // kafkajs's createTopics gives up when the broker's metadata does not list the new topic yet (a broker just
    // started): then ask again, and until every partition has a leader.
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt === 0) await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        if (topics[0]?.partitions.length === partitions && topics[0].partitions.every(({ leader }) => leader >= 0)) return;
      } catch (error) {
        if (attempt >= 50) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Produces the messages in one request, acknowledged by every replica (acks=all), outside any transaction. */
export async function produce(broker: KafkaBroker, topic: string, messages: OutgoingMessage[]): Promise<void> {
  const producer = kafkaClient(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads the topic from its earliest offset with a consumer group of its own, until `count` messages arrived or, without a
 * count, until the topic is idle for `idleMs`. Returns the messages ordered by partition, then offset. With a count, a
 * message beyond it is not read: to check that nothing more is there, consume with idleMs instead.
 */
export async function consumeAll(broker: KafkaBroker, topic: string, options: ConsumeOptions = {}): Promise<ConsumedMessage[]> {
  const { readCommitted = false, count, idleMs = count === undefined ? 1000 : undefined, timeoutMs = 30_000 } = options;
  const consumer = kafkaClient(broker).consumer({
    groupId: `pipec-test-${topic}-${process.hrtime.bigint()}`,
    readUncommitted: !readCommitted,
    // A short long-poll: disconnect() waits for the fetch in flight, which would hold an idle topic for 5 s.
    maxWaitTimeInMs: 100,
  });
  const messages: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    await new Promise<void>((resolveDone, reject) => {
      let idleTimer: NodeJS.Timeout | undefined;
      const restartIdleTimer = () => {
        if (idleMs === undefined) return;
        clearTimeout(idleTimer);
        idleTimer = setTimeout(done, idleMs);
      };
      const timeout = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(idleTimer);
        clearTimeout(timeout);
        resolveDone();
      }
      consumer.on(consumer.events.GROUP_JOIN, restartIdleTimer);
      // kafkajs restarts a consumer after a retriable error by itself; any other ends the read with its cause.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) {
          reject(payload.error);
          done(); // clears the timers; the promise stays rejected
        }
      });
      consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            eachMessage: async ({ partition, message }) => {
              if (count !== undefined && messages.length >= count) return;
              messages.push({
                partition,
                offset: Number(message.offset),
                key: message.key?.toString('utf8') ?? null,
                value: message.value?.toString('utf8') ?? null,
                valueBytes: message.value,
                headers: decodeHeaders(message.headers),
              });
              if (messages.length === count) done();
              else restartIdleTimer();
            },
          }),
        )
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) decoded[name] = String(Array.isArray(value) ? value.join(',') : value);
  return decoded;
}
