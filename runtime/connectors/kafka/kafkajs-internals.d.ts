// Types for the parts of kafkajs that its producer is made of (it exports no transactional producer whose producer
// id and epoch can be read or resumed): runtime/connectors/kafka/transactions.ts builds one from them.

declare module 'kafkajs/src/producer/eosManager/index.js' {
  import type { Logger } from 'kafkajs';
  export interface EosManager {
    getProducerId(): number;
    getProducerEpoch(): number;
    initProducerId(): Promise<void>;
    beginTransaction(): void;
    isInTransaction(): boolean;
    commit(): Promise<void>;
    abort(): Promise<void>;
  }
  export default function createEosManager(options: {
    logger: Logger;
    cluster: unknown;
    transactionTimeout: number;
    transactional: boolean;
    transactionalId: string;
  }): EosManager;
}

declare module 'kafkajs/src/producer/messageProducer.js' {
  import type { Logger, Message, RecordMetadata } from 'kafkajs';
  export default function createMessageProducer(options: {
    logger: Logger;
    cluster: unknown;
    partitioner: unknown;
    eosManager: unknown;
    idempotent: boolean;
    retrier: unknown;
    getConnectionStatus: () => string;
  }): { sendBatch(request: { acks: number; topicMessages: { topic: string; messages: Message[] }[] }): Promise<RecordMetadata[]> };
}

declare module 'kafkajs/src/retry/index.js' {
  import type { RetryOptions } from 'kafkajs';
  export default function createRetry(options: RetryOptions): unknown;
}
