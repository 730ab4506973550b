// The Kafka end-to-end cases' broker side: fill the input topic from a dataset file, and count what the pipeline's
// transactions committed to the output topics, read `read_committed`.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Kafka, logLevel, type Message } from 'kafkajs';

/** The topics of bench/specs/revenue-kafka.yaml. */
export const INPUT_TOPIC = 'user-events';
export const OUTPUT_TOPICS: readonly string[] = ['revenue-metrics', 'analytics-results'];
/** More partitions than tasks, so that each task of a parallel run reads several (as Flink's KafkaSource splits them). */
export const INPUT_PARTITIONS = 4;

/** Each Kafka sink of the spec: its topic and the `kind` header that tells it apart from the topic's other sink. */
export const KAFKA_SINKS: Readonly<Record<string, { readonly topic: string; readonly kind?: string }>> = {
  revenue_out: { topic: 'revenue-metrics' },
  high_value_out: { topic: 'analytics-results', kind: 'high_value' },
  popularity_out: { topic: 'analytics-results', kind: 'popularity' },
};

/** Messages per send; with a line of ~170 bytes, ~210 KiB per partition's record batch, under the broker's 1 MB limit. */
const SEND_MESSAGES = 5000;
/** Sends in flight: one awaited send at a time leaves the broker idle while the next batch is prepared. */
const SENDS_IN_FLIGHT = 4;

export interface Produced {
  readonly records: number;
  readonly elapsedMs: number;
}

function client(servers: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [servers], logLevel: logLevel.ERROR });
}

/** Creates the input topic and the output topics (so the first transaction does not wait for auto-creation). */
export async function createTopics(servers: string): Promise<void> {
  const admin = client(servers, 'pipec-bench-admin').admin();
  await admin.connect();
  try {
    const topics = [
      { topic: INPUT_TOPIC, numPartitions: INPUT_PARTITIONS, replicationFactor: 1 },
      ...OUTPUT_TOPICS.map((topic) => ({ topic, numPartitions: INPUT_PARTITIONS, replicationFactor: 1 })),
    ];
    await admin.createTopics({ topics, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces every line of the file as one message, round robin over the input topic's partitions (so each partition
 * holds the file's order, a subsequence of it), acknowledged by every replica (acks=all), outside transactions, each
 * once.
 */
export async function produceFile(servers: string, path: string): Promise<Produced> {
  // Idempotent: a send retried after a leader change on the fresh broker would otherwise write its messages twice.
  const producer = client(servers, 'pipec-bench-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = performance.now();
  let records = 0;
  try {
    // Oldest first: awaiting the oldest send before another starts keeps SENDS_IN_FLIGHT, and a failed send throws
    // when it is awaited (handled at once, so that one failing while an older one is awaited is not unhandled).
    const inFlight: Promise<unknown>[] = [];
    let messages: Message[] = [];
    const send = async () => {
      const sending = producer.send({ topic: INPUT_TOPIC, acks: -1, messages });
      sending.catch(() => {});
      inFlight.push(sending);
      messages = [];
      if (inFlight.length >= SENDS_IN_FLIGHT) await inFlight.shift();
    };
    for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
      if (line === '') continue;
      messages.push({ value: line, partition: records % INPUT_PARTITIONS });
      records++;
      if (messages.length === SEND_MESSAGES) await send();
    }
    if (messages.length > 0) await send();
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return { records, elapsedMs: performance.now() - started };
}

/**
 * Messages in the output topics per Kafka sink of the spec, read `read_committed` from the earliest offset to the end
 * offsets as they are now (every transaction of a finished run is committed or aborted by then, so the end is fixed).
 */
export async function countCommitted(servers: string): Promise<Record<string, number>> {
  const kafka = client(servers, 'pipec-bench-counter');
  const admin = kafka.admin();
  await admin.connect();
  // Partitions still to read to their end, as topic/partition.
  const remaining = new Set<string>();
  try {
    for (const topic of OUTPUT_TOPICS) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) if (high !== low) remaining.add(`${topic}/${partition}`);
    }
  } finally {
    await admin.disconnect();
  }
  const counts: Record<string, number> = Object.fromEntries(Object.keys(KAFKA_SINKS).map((sink) => [sink, 0]));
  if (remaining.size === 0) return counts;
  const sinkOf = new Map(Object.entries(KAFKA_SINKS).map(([sink, { topic, kind }]) => [`${topic} ${kind ?? ''}`, sink]));
  const consumer = kafka.consumer({ groupId: `pipec-bench-count-${process.hrtime.bigint()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await new Promise<void>((resolveDone, reject) => {
      // A batch of only the transactions' commit markers ends here too (kafkajs reports it with its offsets).
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.offsetLag !== '0') return;
        remaining.delete(`${payload.topic}/${payload.partition}`);
        if (remaining.size === 0) resolveDone();
      });
      consumer
        .subscribe({ topics: [...OUTPUT_TOPICS], fromBeginning: true })
        .then(() =>
          consumer.run({
            eachBatch: async ({ batch }) => {
              for (const message of batch.messages) {
                const kind = message.headers?.kind?.toString() ?? '';
                const sink = sinkOf.get(`${batch.topic} ${kind}`);
                if (sink === undefined) {
                  reject(new Error(`the message at ${batch.topic}/${batch.partition}@${message.offset} (kind '${kind}') belongs to no sink of the spec`));
                  return;
                }
                counts[sink]++;
              }
            },
          }),
        )
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return counts;
}
