// A kafkajs cluster (its connections and metadata) for the requests kafkajs's public API lacks: committing offsets
// of a group no consumer joins, and committing a transaction another process began.

import type { Kafka } from 'kafkajs';

interface Broker {
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<unknown>;
  endTxn(request: { transactionalId: string; producerId: number; producerEpoch: number; transactionResult: boolean }): Promise<unknown>;
}

export interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** coordinatorType: 0 = group (the default), 1 = transaction. */
  findGroupCoordinator(options: { groupId: string; coordinatorType?: number }): Promise<Broker>;
}

/**
 * kafkajs keeps its cluster factory behind a private symbol of the client; this finds it (kafkajs 2.2) and makes a
 * cluster from the client's configuration.
 */
export function createCluster(kafka: Kafka): Cluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((candidate) => candidate.description === 'private:Kafka:createCluster');
  if (symbol === undefined) throw new Error('this kafkajs version has no cluster factory where pipec expects it (kafkajs 2.2 does)');
  const factory = (kafka as unknown as Record<symbol, (options: object) => Cluster>)[symbol];
  return factory({ allowAutoTopicCreation: false, maxInFlightRequests: 1 });
}

/**
 * Commits offsets to a consumer group that no consumer has joined (generation -1, no member id), one request.
 * kafkajs's admin.setOffsets joins the group with a consumer to do this: seconds per call, and calls of several
 * tasks at once rebalance each other.
 */
export async function commitGroupOffsets(cluster: Cluster, groupId: string, topics: { topic: string; partitions: { partition: number; offset: string }[] }[]): Promise<void> {
  const coordinator = await cluster.findGroupCoordinator({ groupId });
  await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics });
}
