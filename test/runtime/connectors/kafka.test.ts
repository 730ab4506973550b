// The Kafka connectors against a real broker, below the executor: which partitions a task reads, polls that do not
// block, bounded reads and resumed positions; the transactional sink's two-phase commit, and a restore that commits
// the transaction its checkpoint prepared (the crash between a checkpoint and its commit).

import { describe, expect, it } from 'vitest';
import type { JobDefinition, RawRecord, SinkConnector, SinkContext, SourceBatch, SourceReader } from '../../../runtime/api.ts';
import { runJob } from '../../../runtime/executor.ts';
import { createKafkaSink } from '../../../runtime/connectors/kafka/sink.ts';
import type { PreparedSlot } from '../../../runtime/connectors/kafka/transactions.ts';
import { createKafkaReader } from '../../../runtime/connectors/kafka/source.ts';
import { useKafkaBroker } from '../../support/kafka-suite.ts';
import { consumeAll, createTopic, kafkaClient, produce } from '../../support/kafka.ts';

const kafka = useKafkaBroker();

function reader(topics: string[], taskIndex: number, parallelism: number, extra: Record<string, unknown> = {}, resume?: Map<number, unknown>): SourceReader {
  return createKafkaReader(
    { topics, group: `test-${topics.join('-')}`, start_offset: 'earliest', ...extra },
    { taskIndex, parallelism, cwd: '.', resume, kafkaServers: [kafka().bootstrapServers], appName: 'test' },
  );
}

/** Polls until the reader ends, returning the non-empty batches. */
async function readAll(source: SourceReader): Promise<SourceBatch[]> {
  const batches: SourceBatch[] = [];
  for (let batch = await source.poll(100); batch !== null; batch = await source.poll(100)) if (batch.values.length > 0) batches.push(batch);
  return batches;
}

describe('kafka source', () => {
  it('gives partition p of the i-th topic to task (i + p) mod parallelism, and reads each to its end when bounded', async () => {
    await createTopic(kafka(), 'split-a', 3);
    await createTopic(kafka(), 'split-b', 2);
    for (const topic of ['split-a', 'split-b']) {
      await produce(kafka(), topic, Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ n: i, topic }), partition: i % (topic === 'split-a' ? 3 : 2) })));
    }
    const tasks = [reader(['split-a', 'split-b'], 0, 2, { bounded: true }), reader(['split-a', 'split-b'], 1, 2, { bounded: true })];
    for (const task of tasks) await task.open();
    try {
      // split-a partitions 0 1 2 → tasks 0 1 0; split-b (topic index 1) partitions 0 1 → tasks 1 0.
      expect(tasks[0].splits).toEqual([0, 2, 100_001]);
      expect(tasks[1].splits).toEqual([1, 100_000]);
      const read = await Promise.all(tasks.map(readAll));
      const perSplit = (batches: SourceBatch[]) => {
        const seen = new Map<number, number[]>();
        for (const batch of batches) seen.set(batch.split, [...(seen.get(batch.split) ?? []), ...batch.positions]);
        return Object.fromEntries(seen);
      };
      expect(perSplit(read[0])).toEqual({ 0: [0, 1, 2, 3], 2: [0, 1, 2, 3], 100001: [0, 1, 2, 3, 4, 5] });
      expect(perSplit(read[1])).toEqual({ 1: [0, 1, 2, 3], 100000: [0, 1, 2, 3, 4, 5] });
      expect(tasks[0].checkpointPosition(100_001)).toBe(6);
      expect(tasks[0].describePosition(100_001, 3)).toBe('split-b/1@3');
      const first = read[0].find((batch) => batch.split === 2)!;
      expect(first.values[0]).toEqual({ n: 2, topic: 'split-a' });
      expect(first.times!.every((time) => Math.abs(time - Date.now()) < 120_000)).toBe(true);
    } finally {
      for (const task of tasks) await task.close();
    }
  });

  it('resumes at the positions of a checkpoint, and answers a poll within about 100 ms when nothing comes', async () => {
    await createTopic(kafka(), 'resume', 1);
    await produce(kafka(), 'resume', Array.from({ length: 10 }, (_, i) => ({ value: JSON.stringify({ n: i }), partition: 0 })));
    const source = reader(['resume'], 0, 1, { metadata: { offset: 'offset', key: 'key' } }, new Map([[0, 7]]));
    await source.open();
    try {
      const values: unknown[] = [];
      while (values.length < 3) values.push(...(await source.poll(100))!.values);
      expect(values).toEqual([{ n: 7, offset: 7, key: null }, { n: 8, offset: 8, key: null }, { n: 9, offset: 9, key: null }]);
      const started = performance.now();
      const empty = await source.poll(100);
      expect(empty!.values).toEqual([]);
      expect(performance.now() - started).toBeLessThan(500);
      expect(source.checkpointPosition(0)).toBe(10);
    } finally {
      await source.close();
    }
  });

  it('reads a Debezium change: the after image, the before image of a delete, and the operation', async () => {
    await createTopic(kafka(), 'cdc', 1);
    const change = (op: string, before: object | null, after: object | null) => JSON.stringify({ payload: { before, after, op, ts_ms: 1 } });
    await produce(kafka(), 'cdc', [
      { value: change('c', null, { id: 1, name: 'a' }) },
      { value: change('u', { id: 1, name: 'a' }, { id: 1, name: 'b' }) },
      { value: change('d', { id: 1, name: 'b' }, null) },
      { value: null },
      { value: change('x', null, null) },
    ]);
    const source = reader(['cdc'], 0, 1, { format: 'debezium-json', bounded: true, metadata: { op: 'operation' } });
    await source.open();
    try {
      const [batch] = await readAll(source);
      expect(batch.values.slice(0, 3)).toEqual([{ id: 1, name: 'a', op: 'c' }, { id: 1, name: 'b', op: 'u' }, { id: 1, name: 'b', op: 'd' }]);
      // The tombstone after the delete carries no row; the unknown op is a bad record.
      expect(batch.positions).toEqual([0, 1, 2, 4]);
      expect(batch.errors![3]).toMatch(/expected op c, r, u or d, got "x"/);
    } finally {
      await source.close();
    }
  });
});

describe('kafka source in a run', () => {
  it('takes event time from the record timestamp when the source has no event-time field', async () => {
    await createTopic(kafka(), 'stamped', 2);
    const producer = kafkaClient(kafka()).producer();
    await producer.connect();
    const base = Date.UTC(2024, 0, 1);
    await producer.send({ topic: 'stamped', messages: Array.from({ length: 6 }, (_, n) => ({ value: JSON.stringify({ n }), partition: n % 2, timestamp: String(base + n * 1000) })) });
    await producer.disconnect();
    const seen: [number, number][] = [];
    const job: JobDefinition = {
      name: 'stamped',
      spec: 'stamped.yaml',
      pipecVersion: 'test',
      sources: [{
        id: 'events',
        connector: 'kafka',
        options: { topics: ['stamped'], start_offset: 'earliest', bounded: true },
        decode: (raw: RawRecord) => raw,
        eventTime: { maxOutOfOrdernessMs: 0, idleTimeoutMs: 0 },
      }],
      sinks: [],
      state: { backend: 'memory' },
      stateSchema: {},
      build: () => ({ events: { record: (record: { n: number }, time: number) => seen.push([record.n, time]) } }),
    };
    const summary = await runJob(job, {
      parallelism: 2, maxParallelism: 128, maxRecords: 0, durationMs: 0, cwd: '.', outputPath: '.', log: () => {}, kafkaServers: [kafka().bootstrapServers],
    });
    expect(summary.stoppedBy).toBe('end of input');
    expect(seen.sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: 6 }, (_, n) => [n, base + n * 1000]));
  });
});

describe('kafka sink, exactly once', () => {
  const context = (restore?: unknown): SinkContext => ({
    taskIndex: 0, parallelism: 1, outputPath: '.', delivery: 'exactly_once', kafkaServers: [kafka().bootstrapServers], appName: 'sink-test',
    restore: restore === undefined ? undefined : { prepared: restore },
  });
  const sink = (restore?: unknown): SinkConnector =>
    createKafkaSink({ id: 'out', connector: 'kafka', options: { topic: 'eos-out' }, key: (record: { n: number }) => record.n }, context(restore));
  const committed = async () => (await consumeAll(kafka(), 'eos-out', { readCommitted: true, idleMs: 1500 })).map((message) => `${message.key}:${message.value}`).sort();

  it('makes output visible at commit; a restore commits the transaction its checkpoint prepared and aborts what came after', async () => {
    await createTopic(kafka(), 'eos-out', 2);
    const first = sink();
    await first.open();
    for (const n of [1, 2, 3]) first.write({ n });
    const prepared = (await first.prepareCommit!(1)) as PreparedSlot;
    expect(prepared.transaction).toMatchObject({ transactionalId: 'pipec-sink-test-out-0' });
    // After checkpoint 1 was written, before its commit, the process dies; its next transaction is open too.
    first.write({ n: 4 });
    await first.flush();
    await first.close();
    expect(await committed()).toEqual([]);

    const second = sink(prepared);
    await second.open();
    expect(await committed()).toEqual(['1:{"n":1}', '2:{"n":2}', '3:{"n":3}']);
    second.write({ n: 5 });
    const next = await second.prepareCommit!(2);
    await second.commit!(next);
    await second.close();
    expect(await committed()).toEqual(['1:{"n":1}', '2:{"n":2}', '3:{"n":3}', '5:{"n":5}']);

    // Restoring checkpoint 2 again commits nothing twice.
    const third = sink(next);
    await third.open();
    await third.close();
    expect(await committed()).toEqual(['1:{"n":1}', '2:{"n":2}', '3:{"n":3}', '5:{"n":5}']);
  });
});
