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

/**
 * Longer than a restore usually takes: a transaction still open after it is aborted by the broker (and lost). A
 * distributed run uses a shorter one (SinkContext.transactionTimeoutMs): the transaction a killed member left open
 * holds back every read_committed consumer of its partitions until then.
 */
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

  constructor(kafka: Kafka, readonly transactionalId: string, partitioner: PartitionerFunction, transactionTimeoutMs: number) {
    this.cluster = createCluster(kafka);
    const logger = kafka.logger();
    this.eos = createEosManager({ logger, cluster: this.cluster, transactionTimeout: transactionTimeoutMs, transactional: true, transactionalId });
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

/** What AlternatingTransactions.prepare returns: the checkpoint's transaction (null when it sent nothing) and its id's slot. */
export interface PreparedSlot {
  readonly slot: number;
  readonly transaction: PreparedTransaction | null;
}

/**
 * The output between two checkpoints as one transaction, on two transactional ids, `<base>-0` and `-1`, that take
 * turns: the transaction after a checkpoint is on the other id, so committing the checkpoint's transaction on restore
 * can never commit output no checkpoint covers. Opening first commits the prepared transaction of the checkpoint
 * restored (Flink's resumeTransaction), then initializes both ids, which fences producers of an earlier run and
 * aborts what they left open.
 */
export class AlternatingTransactions {
  private producers: TransactionalProducer[] = [];
  private slot = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly base: string,
    private readonly partitioner: PartitionerFunction,
    private readonly timeoutMs: number,
  ) {}

  async open(restored: PreparedSlot | undefined): Promise<void> {
    if (restored !== undefined) await commitPreparedSlot(this.kafka, restored);
    this.slot = restored === undefined ? 0 : 1 - restored.slot;
    this.producers = alternatingIds(this.base).map((id) => new TransactionalProducer(this.kafka, id, this.partitioner, this.timeoutMs));
    for (const producer of this.producers) await producer.open();
  }

  send(topic: string, messages: Message[]): Promise<void> {
    return this.producers[this.slot].send(topic, messages);
  }

  /** The checkpoint cuts here: the open transaction, every send acknowledged; later sends go to the other id. */
  prepare(): PreparedSlot {
    const prepared = { slot: this.slot, transaction: this.producers[this.slot].prepare() };
    this.slot = 1 - this.slot;
    return prepared;
  }

  commit(prepared: PreparedSlot): Promise<void> {
    return this.producers[prepared.slot].commit();
  }

  async close(): Promise<void> {
    const producers = this.producers;
    this.producers = [];
    for (const producer of producers) await producer.close();
  }
}

/** The two transactional ids AlternatingTransactions takes turns on, slot 0 and 1. */
export function alternatingIds(base: string): [string, string] {
  return [`${base}-0`, `${base}-1`];
}

/** Commits the transaction AlternatingTransactions.prepare returned, if it sent anything (commitPrepared). */
export async function commitPreparedSlot(kafka: Kafka, prepared: PreparedSlot): Promise<void> {
  if (prepared.transaction !== null) await commitPrepared(kafka, prepared.transaction);
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
            `${(error as Error).message}; its output is lost if the broker aborted it (it stayed open longer than the transaction timeout)`,
          { cause: error },
        );
      }
    }
  } finally {
    await cluster.disconnect();
  }
}

/**
 * Whether commitPrepared failed because a producer of the id was created after the prepare (the epoch moved on). In a
 * distributed run that is a member fencing a dead member's ids, which it does only after committing what the dead
 * member's newest checkpoint prepared: the transaction is committed.
 */
export function committedThenFenced(error: unknown): boolean {
  const type = ((error as Error).cause as { type?: string } | undefined)?.type;
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED';
}

/**
 * Initializes a producer of each transactional id, and closes it: every earlier producer of the id is fenced (its
 * sends and commits fail from then on) and the transaction it left open is aborted now, rather than at its timeout.
 */
export async function fenceTransactionalIds(kafka: Kafka, transactionalIds: readonly string[], transactionTimeoutMs: number): Promise<void> {
  for (const transactionalId of transactionalIds) {
    const producer = new TransactionalProducer(kafka, transactionalId, () => 0, transactionTimeoutMs);
    try {
      await producer.open();
    } finally {
      await producer.close();
    }
  }
}
