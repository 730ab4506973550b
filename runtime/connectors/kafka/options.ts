// The `kafka` connector's options, as the spec gives them (checked again here: a bundle may be run without the
// compiler), and the kafkajs client they make.

import { Kafka, logLevel, type Admin } from 'kafkajs';

export type StartOffset = 'earliest' | 'latest' | 'committed' | 'timestamp';
export type KafkaFormat = 'json' | 'debezium-json';
export type Partitioner = 'default' | 'murmur2' | 'round_robin';

export interface KafkaSourceOptions {
  readonly topics: readonly string[];
  /** The consumer group whose committed offsets `start_offset: committed` reads and checkpoints commit. */
  readonly group: string;
  readonly startOffset: StartOffset;
  /** Epoch ms, with `start_offset: timestamp`. */
  readonly startTimestamp: number | undefined;
  readonly format: KafkaFormat;
  /** Record field → `key`, `topic`, `partition`, `offset`, `timestamp`, `headers` or `headers.NAME`. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly deadLetterTopic: string | undefined;
  readonly bounded: boolean;
  readonly servers: readonly string[];
}

export interface KafkaSinkOptions {
  readonly topic: string;
  readonly partitioner: Partitioner;
  readonly servers: readonly string[];
}

const DEFAULT_SERVERS = ['localhost:9092'];
const START_OFFSETS: readonly string[] = ['earliest', 'latest', 'committed', 'timestamp'];
const METADATA = /^(key|topic|partition|offset|timestamp|operation|headers|headers\..+)$/;

/** `--kafka-servers` overrides the spec's `servers`, which override localhost:9092. */
function serversOf(options: Readonly<Record<string, unknown>>, cliServers: readonly string[] | undefined, what: string): readonly string[] {
  if (cliServers !== undefined && cliServers.length > 0) return cliServers;
  const { servers } = options;
  if (servers === undefined) return DEFAULT_SERVERS;
  const list = typeof servers === 'string' ? [servers] : servers;
  if (!Array.isArray(list) || list.length === 0 || !list.every((server) => typeof server === 'string' && server !== '')) {
    throw new Error(`${what}: option 'servers' must be host:port or a list of them, got ${JSON.stringify(servers)}`);
  }
  return list as string[];
}

export function parseKafkaSourceOptions(
  options: Readonly<Record<string, unknown>>,
  context: { readonly kafkaServers?: readonly string[]; readonly appName?: string },
): KafkaSourceOptions {
  const { topics, group = context.appName, start_offset = 'committed', start_timestamp, format = 'json', metadata = {}, dead_letter_topic, bounded = false } = options;
  const list = typeof topics === 'string' ? [topics] : topics;
  if (!Array.isArray(list) || list.length === 0 || !list.every((topic) => typeof topic === 'string' && topic !== '')) {
    throw new Error(`kafka source: option 'topics' must be a topic or a list of topics, got ${JSON.stringify(topics)}`);
  }
  const what = `kafka source '${list.join(',')}'`;
  if (typeof group !== 'string' || group === '') throw new Error(`${what}: option 'group' must be a consumer group id, got ${JSON.stringify(group)}`);
  if (typeof start_offset !== 'string' || !START_OFFSETS.includes(start_offset)) {
    throw new Error(`${what}: option 'start_offset' must be earliest, latest, committed or timestamp, got ${JSON.stringify(start_offset)}`);
  }
  const timestamp = typeof start_timestamp === 'string' ? Date.parse(start_timestamp) : start_timestamp;
  if (start_offset === 'timestamp' && !(typeof timestamp === 'number' && Number.isFinite(timestamp))) {
    throw new Error(`${what}: start_offset timestamp needs 'start_timestamp', an ISO-8601 instant or epoch milliseconds, got ${JSON.stringify(start_timestamp)}`);
  }
  if (format !== 'json' && format !== 'debezium-json') throw new Error(`${what}: option 'format' must be json or debezium-json, got ${JSON.stringify(format)}`);
  const entries = typeof metadata === 'object' && metadata !== null ? Object.entries(metadata) : undefined;
  if (entries === undefined || !entries.every(([, value]) => typeof value === 'string' && METADATA.test(value))) {
    throw new Error(`${what}: option 'metadata' maps fields to key, topic, partition, offset, timestamp, operation, headers or headers.NAME, got ${JSON.stringify(metadata)}`);
  }
  if (dead_letter_topic !== undefined && (typeof dead_letter_topic !== 'string' || dead_letter_topic === '')) {
    throw new Error(`${what}: option 'dead_letter_topic' must be a topic, got ${JSON.stringify(dead_letter_topic)}`);
  }
  if (typeof bounded !== 'boolean') throw new Error(`${what}: option 'bounded' must be true or false, got ${JSON.stringify(bounded)}`);
  return {
    topics: list as string[],
    group,
    startOffset: start_offset as StartOffset,
    startTimestamp: start_offset === 'timestamp' ? (timestamp as number) : undefined,
    format,
    metadata: Object.fromEntries(entries as [string, string][]),
    deadLetterTopic: dead_letter_topic as string | undefined,
    bounded,
    servers: serversOf(options, context.kafkaServers, what),
  };
}

export function parseKafkaSinkOptions(options: Readonly<Record<string, unknown>>, context: { readonly kafkaServers?: readonly string[] }): KafkaSinkOptions {
  const { topic, partitioner = 'default' } = options;
  if (typeof topic !== 'string' || topic === '') throw new Error(`kafka sink: option 'topic' must be a topic, got ${JSON.stringify(topic)}`);
  const what = `kafka sink '${topic}'`;
  if (partitioner !== 'default' && partitioner !== 'murmur2' && partitioner !== 'round_robin') {
    throw new Error(`${what}: option 'partitioner' must be default, murmur2 or round_robin, got ${JSON.stringify(partitioner)}`);
  }
  return { topic, partitioner, servers: serversOf(options, context.kafkaServers, what) };
}

/**
 * A kafkajs client that logs nothing: kafkajs logs every retried request as an error; what fails for good reaches
 * pipec as an exception (a crashed consumer as the next poll's), and the run reports it. Retries start after 50 ms,
 * not kafkajs's 300: the first send after a transaction's commit is refused while the broker writes its markers.
 */
export function kafkaClient(servers: readonly string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [...servers], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
}

/** Runs `use` with a connected admin client of `kafka`, disconnected after whatever happens. */
export async function withAdmin<T>(kafka: Kafka, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}
