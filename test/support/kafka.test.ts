// The test broker: a real Kafka that keeps keys, headers and partitions, hides aborted transactions from read_committed, stops cleanly, and says why when it cannot start.
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../scripts/kafka/broker.ts';
import { consumeAll, createTopic, kafkaClient, produce, type KafkaBroker } from './kafka.ts';

describe('test Kafka broker', () => {
  let broker: KafkaBroker;
  let dataDir: string;
  beforeAll(async () => {
    // startKafka() with a data dir of the test's choosing, so the last test can see stop() remove it.
    dataDir = await mkdtemp(join(tmpdir(), 'pipec-kafka-test-'));
    broker = await startBroker({ dataDir });
  });
  afterAll(async () => {
    // Stopping twice is harmless: the last test stops it already, this covers a failure before it.
    await broker?.stop();
  });

  it('listens on a loopback port of its own', () => {
    expect(broker.bootstrapServers).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(broker.bootstrapServers).not.toBe('127.0.0.1:9092');
  });

  it('returns produced messages with their keys, headers and partitions', async () => {
    await createTopic(broker, 'plain', 3);
    await produce(broker, 'plain', [
      { key: 'a', value: '{"n":1}', partition: 2, headers: { source: 'test' } },
      { key: 'b', value: '{"n":2}', partition: 0 },
      { key: null, value: '{"n":3}', partition: 2 },
    ]);
    const messages = await consumeAll(broker, 'plain', { count: 3 });
    expect(messages.map(({ partition, offset, key, value, headers }) => ({ partition, offset, key, value, headers }))).toEqual([
      { partition: 0, offset: 0, key: 'b', value: '{"n":2}', headers: {} },
      { partition: 2, offset: 0, key: 'a', value: '{"n":1}', headers: { source: 'test' } },
      { partition: 2, offset: 1, key: null, value: '{"n":3}', headers: {} },
    ]);
    expect(messages[0].valueBytes).toEqual(Buffer.from('{"n":2}'));
  });

  it('shows read_committed consumers only the committed transaction', async () => {
    await createTopic(broker, 'transactional', 2);
    const producer = kafkaClient(broker).producer({ transactionalId: 'kafka-test', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic: 'transactional', messages: [{ key: 'k1', value: 'committed-1', partition: 0 }, { key: 'k2', value: 'committed-2', partition: 1 }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'transactional', messages: [{ key: 'k3', value: 'aborted-1', partition: 0 }] });
    await aborted.abort();
    await producer.disconnect();

    const readCommitted = await consumeAll(broker, 'transactional', { readCommitted: true, idleMs: 1500 });
    expect(readCommitted.map(({ partition, value }) => ({ partition, value }))).toEqual([
      { partition: 0, value: 'committed-1' },
      { partition: 1, value: 'committed-2' },
    ]);
    // read_uncommitted sees the aborted message too: the broker really wrote it, and only the isolation level hides it.
    const readUncommitted = await consumeAll(broker, 'transactional', { idleMs: 1500 });
    expect(readUncommitted.map(({ partition, value }) => ({ partition, value }))).toEqual([
      { partition: 0, value: 'committed-1' },
      { partition: 0, value: 'aborted-1' },
      { partition: 1, value: 'committed-2' },
    ]);
  });

  it('stops: the port refuses connections and the data dir is gone', async () => {
    const port = Number(broker.bootstrapServers.split(':')[1]);
    await broker.stop();
    const refused = await new Promise<boolean>((resolveRefused) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolveRefused(false)));
      socket.once('error', () => resolveRefused(true));
    });
    expect(refused).toBe(true);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('a broker that cannot start', () => {
  it('fails with the reason from its log', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((resolveListening) => taken.once('listening', resolveListening));
    const port = (taken.address() as { port: number }).port;
    const dataDir = await mkdtemp(join(tmpdir(), 'pipec-kafka-test-'));
    try {
      await expect(startBroker({ port, dataDir })).rejects.toThrow(
        new RegExp(`exited \\(1\\) before it was ready; from ${dataDir}/broker\\.log:\\n(.*\\n)*.*Socket server failed to bind to 127\\.0\\.0\\.1:${port}: Address already in use`),
      );
    } finally {
      taken.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
