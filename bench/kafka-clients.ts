// Kafka clients compared on a local broker: kafkajs (pipec's) against @platformatic/kafka, records/s, median of 3 runs.
//
//   npm run bench:kafka [-- --with DIR]
//
// DIR is a directory outside the repo where `npm install @platformatic/kafka@1` was run (pipec does not depend on it, and
// its 2.x needs Node >= 22.22); without it only kafkajs is measured. The bench starts its own broker on free ports.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startBroker } from '../scripts/kafka/broker.ts';

const MESSAGES = 200_000;
const BATCH = 1000;
const BATCHES_PER_TRANSACTION = 10;
const PARTITIONS = 4;
const RUNS = 3;

interface BenchMessage {
  key: string;
  value: string;
}

/** What each client does for the bench; each resolves when the work is done (acknowledged, committed, or all read). */
interface ClientUnderTest {
  name: string;
  /** One awaited send of BATCH messages at a time, acks=all, not idempotent. */
  produce(topic: string, batches: BenchMessage[][]): Promise<void>;
  /** The same sends in transactions of BATCHES_PER_TRANSACTION batches, each committed before the next begins. */
  produceTransactional(topic: string, batches: BenchMessage[][], transactionalId: string): Promise<void>;
  /** From the earliest offset with a new consumer group (connect and group join included) until `count` records arrived, read_committed. */
  consume(topic: string, count: number, groupId: string): Promise<void>;
}

function kafkajsClient(bootstrapServers: string): ClientUnderTest {
  // kafkajs logs every retried response (the coordinator loading, a transaction's markers still being written) as an
  // error; failures that last reject the awaited call, which ends the bench.
  const kafka = new Kafka({ clientId: 'pipec-bench', brokers: [bootstrapServers], logLevel: logLevel.NOTHING });
  return {
    name: `kafkajs ${kafkajsVersion()}`,
    async produce(topic, batches) {
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      for (const messages of batches) await producer.send({ topic, acks: -1, messages });
      await producer.disconnect();
    },
    async produceTransactional(topic, batches, transactionalId) {
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, transactionalId, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let first = 0; first < batches.length; first += BATCHES_PER_TRANSACTION) {
        const transaction = await producer.transaction();
        for (const messages of batches.slice(first, first + BATCHES_PER_TRANSACTION)) await transaction.send({ topic, acks: -1, messages });
        await transaction.commit();
      }
      await producer.disconnect();
    },
    async consume(topic, count, groupId) {
      const consumer = kafka.consumer({ groupId, readUncommitted: false });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolveAll, reject) => {
        let received = 0;
        consumer
          .run({
            eachBatch: async ({ batch }) => {
              received += batch.messages.length;
              if (received >= count) resolveAll();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
    },
  };
}

/** The part of @platformatic/kafka's API the bench uses, typed here because the package is not a dependency of the repo. */
interface Platformatic {
  Producer: new (options: object) => {
    send(options: { messages: { topic: string; key: string; value: string }[]; acks: number }): Promise<unknown>;
    beginTransaction(): Promise<{ send(options: { messages: { topic: string; key: string; value: string }[]; acks: number }): Promise<unknown>; commit(): Promise<void> }>;
    close(): Promise<void>;
  };
  Consumer: new (options: object) => {
    consume(options: object): Promise<{ on(event: 'data', listener: () => void): void; close(): Promise<void> }>;
    close(force?: boolean): Promise<void>;
  };
  stringSerializers: object;
  ProduceAcks: { ALL: number };
  FetchIsolationLevels: { READ_COMMITTED: number };
}

function platformaticClient(bootstrapServers: string, kafka: Platformatic, version: string): ClientUnderTest {
  const producerOptions = { clientId: 'pipec-bench', bootstrapBrokers: [bootstrapServers], serializers: kafka.stringSerializers, autocreateTopics: false };
  const withTopic = (topic: string, messages: BenchMessage[]) => messages.map(({ key, value }) => ({ topic, key, value }));
  return {
    name: `@platformatic/kafka ${version}`,
    async produce(topic, batches) {
      const producer = new kafka.Producer({ ...producerOptions, idempotent: false });
      for (const messages of batches) await producer.send({ messages: withTopic(topic, messages), acks: kafka.ProduceAcks.ALL });
      await producer.close();
    },
    async produceTransactional(topic, batches, transactionalId) {
      const producer = new kafka.Producer({ ...producerOptions, idempotent: true, transactionalId });
      for (let first = 0; first < batches.length; first += BATCHES_PER_TRANSACTION) {
        const transaction = await producer.beginTransaction();
        for (const messages of batches.slice(first, first + BATCHES_PER_TRANSACTION)) {
          await transaction.send({ messages: withTopic(topic, messages), acks: kafka.ProduceAcks.ALL });
        }
        await transaction.commit();
      }
      await producer.close();
    },
    async consume(topic, count, groupId) {
      const consumer = new kafka.Consumer({ clientId: 'pipec-bench', groupId, bootstrapBrokers: [bootstrapServers] });
      const stream = await consumer.consume({
        topics: [topic],
        mode: 'earliest',
        autocommit: false,
        isolationLevel: kafka.FetchIsolationLevels.READ_COMMITTED,
      });
      await new Promise<void>((resolveAll) => {
        let received = 0;
        stream.on('data', () => {
          if (++received === count) resolveAll();
        });
      });
      await stream.close();
      await consumer.close(true);
    },
  };
}

/** @platformatic/kafka and its version from the directory it was installed in (its exports hide package.json). */
async function loadPlatformatic(directory: string): Promise<{ kafka: Platformatic; version: string }> {
  const entry = createRequire(join(directory, 'package.json')).resolve('@platformatic/kafka');
  const { version } = JSON.parse(readFileSync(join(directory, 'node_modules', '@platformatic', 'kafka', 'package.json'), 'utf8')) as { version: string };
  return { kafka: (await import(pathToFileURL(entry).href)) as Platformatic, version };
}

function kafkajsVersion(): string {
  return (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
}

/** ~200-byte JSON events keyed by user, in batches of BATCH. */
function benchBatches(): BenchMessage[][] {
  const batches: BenchMessage[][] = [];
  for (let first = 0; first < MESSAGES; first += BATCH) {
    const batch: BenchMessage[] = [];
    for (let index = first; index < first + BATCH; index++) {
      const user = `user-${index % 5000}`;
      const event = { event_id: `evt-${index}`, user_id: user, event_type: 'purchase', ts: 1_700_000_000_000 + index, amount: (index % 997) / 10, currency: 'EUR', page: `/products/${index % 321}`, session_id: `session-${index % 20_000}`, country: 'DE' };
      batch.push({ key: user, value: JSON.stringify(event) });
    }
    batches.push(batch);
  }
  return batches;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { with: { type: 'string' } } });
  const platformatic = values.with === undefined ? undefined : await loadPlatformatic(values.with);
  const broker = await startBroker();
  try {
    const admin = new Kafka({ clientId: 'pipec-bench', brokers: [broker.bootstrapServers], logLevel: logLevel.ERROR }).admin();
    await admin.connect();
    const clients = [kafkajsClient(broker.bootstrapServers)];
    if (platformatic !== undefined) clients.push(platformaticClient(broker.bootstrapServers, platformatic.kafka, platformatic.version));
    const batches = benchBatches();
    const bytes = batches.flat().reduce((sum, { key, value }) => sum + key.length + value.length, 0);
    console.log(`${MESSAGES} messages of ${Math.round(bytes / MESSAGES)} bytes on average, ${PARTITIONS} partitions, sends of ${BATCH}, ${BATCHES_PER_TRANSACTION} sends per transaction`);
    const rates = new Map<string, number[]>();
    const record = (row: string, seconds: number) => rates.set(row, [...(rates.get(row) ?? []), MESSAGES / seconds]);
    for (let run = 0; run < RUNS; run++) {
      // Each run gives every client fresh topics, and the clients take turns so neither always runs on a warmer JVM.
      for (const client of run % 2 === 0 ? clients : [...clients].reverse()) {
        const tag = `${client.name.replace(/\W+/g, '-')}-${run}`;
        const plain = `bench-plain-${tag}`;
        const transactional = `bench-transactional-${tag}`;
        await admin.createTopics({ topics: [plain, transactional].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })), waitForLeaders: true });
        record(`${client.name}\tproduce`, await seconds(() => client.produce(plain, batches)));
        record(`${client.name}\ttransactional produce`, await seconds(() => client.produceTransactional(transactional, batches, `bench-${tag}`)));
        record(`${client.name}\tconsume read_committed`, await seconds(() => client.consume(transactional, MESSAGES, `bench-${tag}`)));
      }
    }
    await admin.disconnect();
    console.log('client\tscenario\trecords/s (median)\truns');
    for (const [row, runs] of rates) console.log(`${row}\t${Math.round(median(runs))}\t${runs.map(Math.round).join(' ')}`);
  } finally {
    await broker.stop();
  }
}

async function seconds(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

await main();
