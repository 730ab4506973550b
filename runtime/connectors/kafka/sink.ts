// The `kafka` sink connector (kafkajs): each record as a JSON message, with its key and headers from the spec's
// expressions; under exactly_once in Kafka transactions committed with the checkpoint.

import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { SinkConnector, SinkContext, SinkDefinition } from '../../api.ts';
import { kafkaClient, parseKafkaSinkOptions, type KafkaSinkOptions } from './options.ts';
import { AlternatingTransactions, commitPreparedSlot, TRANSACTION_TIMEOUT_MS, type PartitionerFunction, type PreparedSlot } from './transactions.ts';

/**
 * Bytes of keys and values per produce request, at most: kafkajs sends a partition's messages as one record batch,
 * and the broker refuses a batch over its `message.max.bytes` (1 MiB by default).
 */
const REQUEST_BYTES = 256 * 1024;

/** The messages in runs of at most REQUEST_BYTES (by the UTF-16 length of their text: about their bytes). */
export function* produceRequests(messages: Message[]): Generator<Message[]> {
  let start = 0;
  let bytes = 0;
  for (let index = 0; index < messages.length; index++) {
    const { key, value } = messages[index];
    const size = (typeof key === 'string' ? key.length : 0) + (typeof value === 'string' ? value.length : 0);
    if (bytes + size > REQUEST_BYTES && index > start) {
      yield messages.slice(start, index);
      start = index;
      bytes = 0;
    }
    bytes += size;
  }
  yield start === 0 ? messages : messages.slice(start);
}

/** What the transactional ids of a Kafka sink start with (AlternatingTransactions adds the slot). */
export function kafkaSinkTransactionalBase(appName: string, sinkId: string): string {
  return `pipec-${appName}-${sinkId}`;
}

/**
 * The Kafka sink in the delivery of `context.delivery`:
 * - `none` and `at_least_once`: an idempotent producer, acks from all in-sync replicas, each flush awaited; after a
 *   restore the output since the checkpoint is written again.
 * - `exactly_once`: the output between two checkpoints is one Kafka transaction. prepareCommit waits for its sends
 *   and returns its producer id and epoch (the checkpoint keeps them); commit ends it once the checkpoint is
 *   complete. A crash between the two leaves it open: a restore commits it with the stored id and epoch (Flink's
 *   resumeTransaction) before anything else, so a `read_committed` consumer sees every record exactly once. The
 *   transactions take turns on two ids, `pipec-<app>-<sink>-0` and `-1` (AlternatingTransactions).
 */
export function createKafkaSink(definition: SinkDefinition, context: SinkContext): SinkConnector {
  return new KafkaSink(definition, parseKafkaSinkOptions(definition.options, context), context);
}

class KafkaSink implements SinkConnector {
  written = 0;
  private readonly options: KafkaSinkOptions;
  private readonly kafka: Kafka;
  /** `pipec-<app>-<sink>`: stable per pipeline and sink, so a restarted run fences the producers of the one before. */
  private readonly transactionalIdBase: string;
  private readonly key: SinkDefinition['key'];
  private readonly headers: SinkDefinition['headers'];
  private pending: Message[] = [];
  /** none / at_least_once. */
  private producer: Producer | undefined;
  /** exactly_once. */
  private transactions: AlternatingTransactions | undefined;

  constructor(
    definition: SinkDefinition,
    options: KafkaSinkOptions,
    private readonly context: SinkContext,
  ) {
    this.options = options;
    this.key = definition.key;
    this.headers = definition.headers;
    this.transactionalIdBase = kafkaSinkTransactionalBase(context.appName ?? 'pipec', definition.id);
    this.kafka = kafkaClient(options.servers, this.transactionalIdBase);
  }

  async open(): Promise<void> {
    try {
      if (this.context.delivery !== 'exactly_once') {
        this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: this.partitionerFactory() });
        await this.producer.connect();
        return;
      }
      const partitioner = this.partitionerFactory()() as PartitionerFunction;
      const timeoutMs = this.context.transactionTimeoutMs ?? TRANSACTION_TIMEOUT_MS;
      this.transactions = new AlternatingTransactions(this.kafka, this.transactionalIdBase, partitioner, timeoutMs);
      await this.transactions.open(this.context.restore?.prepared as PreparedSlot | undefined);
    } catch (error) {
      await this.close();
      throw new Error(`kafka sink '${this.options.topic}' at ${this.options.servers.join(',')}: ${(error as Error).message}`);
    }
  }

  write(record: unknown): void {
    const key = this.key?.(record);
    const message: Message = { key: key === null || key === undefined ? null : String(key), value: JSON.stringify(record) };
    if (this.headers !== undefined) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(this.headers(record))) if (value !== null && value !== undefined) headers[name] = String(value);
      message.headers = headers;
    }
    this.pending.push(message);
    this.written++;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const messages of produceRequests(pending)) {
      if (this.producer !== undefined) await this.producer.send({ topic: this.options.topic, acks: -1, messages });
      else await this.transactions!.send(this.options.topic, messages);
    }
  }

  async prepareCommit(): Promise<PreparedSlot | undefined> {
    await this.flush();
    return this.transactions?.prepare();
  }

  async commit(prepared: unknown): Promise<void> {
    await this.transactions?.commit(prepared as PreparedSlot);
  }

  async recover(prepared: unknown): Promise<void> {
    await commitPreparedSlot(this.kafka, prepared as PreparedSlot);
  }

  /** Output no checkpoint covers stays in an open transaction, which the next run's open aborts. */
  async close(): Promise<void> {
    const { producer, transactions } = this;
    this.producer = undefined;
    this.transactions = undefined;
    await producer?.disconnect();
    await transactions?.close();
  }

  private partitionerFactory(): () => PartitionerFunction {
    if (this.options.partitioner !== 'round_robin') return Partitioners.DefaultPartitioner as () => PartitionerFunction;
    return () => {
      let next = 0;
      return ({ partitionMetadata }) => next++ % partitionMetadata.length;
    };
  }
}
