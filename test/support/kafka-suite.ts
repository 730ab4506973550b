// A private Kafka broker for the tests of one file: started before them (about 10 s), stopped after.

import { afterAll, beforeAll } from 'vitest';
import { startKafka, type KafkaBroker } from './kafka.ts';

/** Call at the top of a test file; the returned function gives the broker inside tests. */
export function useKafkaBroker(): () => KafkaBroker {
  let broker: KafkaBroker | undefined;
  beforeAll(async () => {
    broker = await startKafka();
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
  });
  return () => broker!;
}
