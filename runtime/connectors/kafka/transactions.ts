// A Kafka transactional producer whose open transaction can be committed by another process: Flink's
// FlinkKafkaInternalProducer, from the parts kafkajs's own producer is made of.

import type { Kafka, Message } from 'kafkajs';
import createEosManager, { type EosManager } from 'kafkajs/src/producer/eosManager/index.js';
import createMessageProducer from 'kafkajs/src/producer/messageProducer.js';
import createRetry from 'kafkajs/src/retry/index.js';
import { createCluster, type Cluster } from './cluster.ts';

/** What committing a prepared transaction needs, also in another process: the checkpoint keeps it. */
export interface PreparedTransaction {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** Longer than a restore usually takes: a transaction still open after it is aborted by the broker (and lost). */
export const TRANSACTION_TIMEOUT_MS = 15 * 60_000;
/** kafkajs's coordinator type of transaction coordinators (its protocol/coordinatorTypes). */
const TRANSACTION_COORDINATOR = 1;

export type PartitionerFunction = (args: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;

/**
 * One transactional id's producer: `begin`, `send` any number of times, `prepare` (everything sent is acknowledged;
 * returns what `commitPrepared` needs), `commit`. Creating it (`open`) fences every earlier producer of the id and
 * aborts the transaction such a producer left open.
 */
export class TransactionalProducer {
  private readonly cluster: Cluster;
  private readonly eos: EosManager;
  private readonly producer: ReturnType<typeof createMessageProducer>;
  private sent = false;

  constructor(kafka: Kafka, readonly transactionalId: string, partitioner: PartitionerFunction) {
    this.cluster = createCluster(kafka);
    const logger = kafka.logger();
    this.eos = createEosManager({ logger, cluster: this.cluster, transactionTimeout: TRANSACTION_TIMEOUT_MS, transactional: true, transactionalId });
    this.producer = createMessageProducer({
      logger,
      cluster: this.cluster,
      partitioner,
      eosManager: this.eos,
      idempotent: true,
      retrier: createRetry({ retries: 10, initialRetryTime: 50 }),
      getConnectionStatus: () => 'connected',
    });
  }

  async open(): Promise<void> {
    await this.cluster.connect();
    await this.eos.initProducerId();
  }

  /** Sends in the open transaction (one is begun if none is), acknowledged by all in-sync replicas. */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (!this.eos.isInTransaction()) this.eos.beginTransaction();
    this.sent = true;
    await this.producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
  }

  /** The open transaction, once every send is acknowledged; null when nothing was sent in it. */
  prepare(): PreparedTransaction | null {
    if (!this.sent) return null;
    return { transactionalId: this.transactionalId, producerId: this.eos.getProducerId(), producerEpoch: this.eos.getProducerEpoch() };
  }

  async commit(): Promise<void> {
    if (!this.eos.isInTransaction()) return;
    await this.eos.commit();
    this.sent = false;
  }

  async close(): Promise<void> {
    await this.cluster.disconnect();
  }
}

/**
 * Commits a transaction that a producer (perhaps of a process that died since) prepared: EndTxn with its producer
 * id and epoch, as FlinkKafkaInternalProducer.resumeTransaction does. Committing it again is harmless (the
 * coordinator answers a commit of a committed transaction with success); a transaction aborted meanwhile (its
 * timeout passed, or a producer of the id was created first) cannot be committed, and that is an error.
 */
export async function commitPrepared(kafka: Kafka, prepared: PreparedTransaction): Promise<void> {
  const cluster = createCluster(kafka);
  await cluster.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const coordinator = await cluster.findGroupCoordinator({ groupId: prepared.transactionalId, coordinatorType: TRANSACTION_COORDINATOR });
        await coordinator.endTxn({ ...prepared, transactionResult: true });
        return;
      } catch (error) {
        // The coordinator is still writing the markers of an earlier EndTxn of this transaction: ask again.
        const type = (error as { type?: string }).type;
        if ((type === 'CONCURRENT_TRANSACTIONS' || type === 'COORDINATOR_LOAD_IN_PROGRESS' || type === 'NOT_COORDINATOR') && attempt < 50) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        throw new Error(
          `cannot commit transaction '${prepared.transactionalId}' (producer ${prepared.producerId}, epoch ${prepared.producerEpoch}) of the restored checkpoint: ` +
            `${(error as Error).message}; its output is lost if the broker aborted it (it stayed open longer than ${TRANSACTION_TIMEOUT_MS / 60_000} min)`,
        );
      }
    }
  } finally {
    await cluster.disconnect();
  }
}
