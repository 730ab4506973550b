// Tests of the in-memory connectors of `pipec test`: the source's batches, positions, pinned watermarks and resume,
// the capturing sink, and a job run through the executor with them, where each pinned watermark lands after its record.

import { describe, expect, it } from 'vitest';
import type { JobDefinition, Operator, RawRecord, SourceBatch, SourceReader } from '../../../runtime/api.ts';
import { runJob } from '../../../runtime/executor.ts';
import { readInt, readString } from '../../../runtime/decode.ts';
import { createMemoryReader, MemoryConnectors, MemorySink, type PinnedWatermark } from '../../../runtime/connectors/memory/index.ts';
import { readAcrossCheckpoint, readWhole } from './resume.ts';

const records: RawRecord[] = [
  { id: 'a', ts: 10 },
  { id: 'b', ts: 20 },
  { id: 'c', ts: 30 },
  { id: 'd', ts: 40 },
  { id: 'e', ts: 50 },
];

async function drain(reader: SourceReader, maxRecords: number): Promise<{ batches: SourceBatch[]; watermarks: number[] }> {
  const batches: SourceBatch[] = [];
  const watermarks: number[] = [];
  await reader.open();
  for (let batch = await reader.poll(maxRecords); batch !== null; batch = await reader.poll(maxRecords)) {
    batches.push(batch);
    watermarks.push(reader.watermark!(0));
  }
  await reader.close();
  return { batches, watermarks };
}

describe('memory source', () => {
  it('hands over every record once, in order, as values with their indexes as positions', async () => {
    const reader = createMemoryReader(records, [], { taskIndex: 0, parallelism: 1, cwd: '/' });
    await reader.open();
    const first = await reader.poll(3);
    const second = await reader.poll(3);
    expect(first).toEqual({ split: 0, encoding: 'values', values: records.slice(0, 3), positions: [0, 1, 2], lenient: false });
    expect(second?.values).toEqual(records.slice(3));
    expect(second?.positions).toEqual([3, 4]);
    expect(await reader.poll(3)).toBeNull();
    expect(reader.describePosition(0, 3)).toBe('test input #3');
  });

  it('leaves watermarks to the executor when the case pins none', () => {
    const reader = createMemoryReader(records, [], { taskIndex: 0, parallelism: 1, cwd: '/' });
    expect(reader.watermark).toBeUndefined();
  });

  it('ends a batch at each record a watermark follows, and states that watermark once the batch is handed over', async () => {
    const reader = createMemoryReader(records, [{ after: 3, watermark: 35 }, { after: 1, watermark: 15 }], { taskIndex: 0, parallelism: 1, cwd: '/' });
    expect(reader.watermark!(0)).toBe(-Infinity);
    const { batches, watermarks } = await drain(reader, 100);
    expect(batches.map((batch) => batch.positions)).toEqual([[0, 1], [2, 3], [4]]);
    expect(watermarks).toEqual([15, 35, 35]);
  });

  it('keeps the batch size limit between watermark points', async () => {
    const reader = createMemoryReader(records, [{ after: 3, watermark: 35 }], { taskIndex: 0, parallelism: 1, cwd: '/' });
    const { batches, watermarks } = await drain(reader, 2);
    expect(batches.map((batch) => batch.positions)).toEqual([[0, 1], [2, 3], [4]]);
    expect(watermarks).toEqual([-Infinity, 35, 35]);
  });

  it('never states a lower watermark than before; several at one record take the highest', async () => {
    const reader = createMemoryReader(
      records,
      [
        { after: 0, watermark: 20 },
        { after: 0, watermark: 25 },
        { after: 2, watermark: 5 },
      ],
      { taskIndex: 0, parallelism: 1, cwd: '/' },
    );
    const { batches, watermarks } = await drain(reader, 100);
    expect(batches.map((batch) => batch.positions)).toEqual([[0], [1, 2], [3, 4]]);
    expect(watermarks).toEqual([25, 25, 25]);
  });

  it('is read by task 0 only', async () => {
    const reader = createMemoryReader(records, [], { taskIndex: 1, parallelism: 2, cwd: '/' });
    expect(reader.splits).toEqual([]);
    expect(await reader.poll(10)).toBeNull();
  });

  it('rejects a watermark after a record the input does not have', () => {
    expect(() => createMemoryReader(records, [{ after: 5, watermark: 1 }], { taskIndex: 0, parallelism: 1, cwd: '/' })).toThrow(/after record 5/);
  });
});

describe('memory source: checkpoints and resume', () => {
  const pins: PinnedWatermark[] = [{ after: 1, watermark: 15 }, { after: 3, watermark: 35 }];

  it('the position is the index of the next record', async () => {
    const reader = createMemoryReader(records, [], { taskIndex: 0, parallelism: 1, cwd: '/' });
    expect(reader.checkpointPosition(0)).toBe(0);
    await reader.poll(3);
    expect(reader.checkpointPosition(0)).toBe(3);
    await reader.poll(3);
    expect(reader.checkpointPosition(0)).toBe(5);
  });

  it('a resumed reader hands over the records after the checkpoint, with the watermark the pins had reached', async () => {
    const context = { taskIndex: 0, parallelism: 1, cwd: '/' };
    for (let pollsBefore = 0; pollsBefore <= 4; pollsBefore++) {
      const uninterrupted = createMemoryReader(records, pins, context);
      for (let poll = 0; poll < pollsBefore; poll++) await uninterrupted.poll(2);
      const resumed = createMemoryReader(records, pins, { ...context, resume: new Map([[0, uninterrupted.checkpointPosition(0)]]) });
      // From here on both agree, batch by batch and watermark by watermark.
      for (;;) {
        expect(resumed.watermark!(0), `checkpoint after ${pollsBefore} polls`).toBe(uninterrupted.watermark!(0));
        const batch = await uninterrupted.poll(2);
        expect(await resumed.poll(2)).toEqual(batch);
        if (batch === null) break;
      }
    }
  });

  it('positions are passed to every task; the task reading the input takes its own', async () => {
    const create = (resume?: ReadonlyMap<number, unknown>) => [0, 1].map((taskIndex) => createMemoryReader(records, pins, { taskIndex, parallelism: 2, cwd: '/', resume }));
    const whole = await readWhole(create, 2);
    for (let pollsBefore = 0; pollsBefore <= 4; pollsBefore++) {
      expect((await readAcrossCheckpoint(create, 2, pollsBefore)).read).toEqual(whole);
    }
  });

  it('rejects a position past the input', () => {
    expect(() => createMemoryReader(records, [], { taskIndex: 0, parallelism: 1, cwd: '/', resume: new Map([[0, 6]]) })).toThrow(/resumes the test input at record 6/);
  });
});

describe('memory sink', () => {
  it('keeps each record as the JSON a file sink writes, taken when written', () => {
    const sink = new MemorySink<Record<string, unknown>>();
    const record: Record<string, unknown> = { total: 1, average: NaN, note: undefined };
    sink.write(record);
    record.total = 2;
    sink.write({ list: [1, 2] });
    expect(sink.written).toBe(2);
    expect(sink.records()).toEqual([{ total: 1, average: null }, { list: [1, 2] }]);
  });
});

/** What the job saw, in order: `record id` per record and `watermark W` per watermark its operator received. */
type Event = string;

/** A job of one event-time source (`ts`, 5 ms out of orderness) whose operator logs records and watermarks. */
function loggingJob(events: Event[]): JobDefinition {
  return {
    name: 'logging',
    spec: 'logging.yaml',
    pipecVersion: 'test',
    sources: [
      {
        id: 'readings',
        connector: 'file',
        options: { path: 'never-read.jsonl' },
        decode: (raw, decoder) => ({ id: readString(raw, 'id', decoder), ts: readInt(raw, 'ts', decoder) }),
        eventTime: { extract: (record: { ts: number }) => record.ts, maxOutOfOrdernessMs: 5, idleTimeoutMs: 0 },
      },
    ],
    sinks: [{ id: 'out', connector: 'file', options: { path: 'never-written.jsonl' } }],
    state: { backend: 'memory' },
    stateSchema: {},
    build(task) {
      const out = task.sink<{ id: string }>('out');
      const operator: Operator = { id: 'log', onWatermark: (watermark) => void events.push(`watermark ${watermark}`) };
      task.register(operator);
      return {
        readings: {
          record: (record: { id: string }) => {
            events.push(`record ${record.id}`);
            out.write(record);
          },
        },
      };
    },
  };
}

async function run(input: MemoryConnectors, events: Event[], batchSize = 4096) {
  return runJob(loggingJob(events), {
    parallelism: 1,
    maxParallelism: 128,
    maxRecords: 0,
    durationMs: 0,
    cwd: '/nonexistent',
    outputPath: '/nonexistent',
    log: (line) => events.push(`log ${line}`),
    batchSize,
    connectors: input,
  });
}

describe('a run with memory connectors', () => {
  it('applies each pinned watermark right after its record, instead of bounded out-of-orderness, and drains at the end', async () => {
    const events: Event[] = [];
    const connectors = new MemoryConnectors({
      records: { readings: records },
      watermarks: { readings: [{ after: 1, watermark: 100 }, { after: 3, watermark: 200 }] },
    });
    const summary = await run(connectors, events);
    expect(events).toEqual(['record a', 'record b', 'watermark 100', 'record c', 'record d', 'watermark 200', 'record e', 'watermark Infinity']);
    expect(connectors.sinks.get('out')?.records()).toEqual(records);
    expect(summary.recordsIn.get('readings')).toBe(5);
  });

  it('without pinned watermarks, derives them from the records as in a run: max event time − 5 ms − 1 after each batch', async () => {
    const events: Event[] = [];
    await run(new MemoryConnectors({ records: { readings: records }, watermarks: {} }), events, 2);
    expect(events).toEqual(['record a', 'record b', 'watermark 14', 'record c', 'record d', 'watermark 34', 'record e', 'watermark 44', 'watermark Infinity']);
  });

  it('decodes records as a run does: a record that does not match its type is counted and logged with its index', async () => {
    const events: Event[] = [];
    const connectors = new MemoryConnectors({ records: { readings: [{ id: 'a', ts: 1 }, { id: 'b', ts: 'soon' }] }, watermarks: {} });
    const summary = await run(connectors, events);
    expect(summary.badRecords.get('readings')).toBe(1);
    expect(events.filter((event) => event.startsWith('log'))).toEqual([expect.stringMatching(/^log bad record in source readings at test input #1: .*ts/)]);
    expect(connectors.sinks.get('out')?.records()).toEqual([{ id: 'a', ts: 1 }]);
  });

  it('reads nothing for a source the case gives no records', async () => {
    const events: Event[] = [];
    const connectors = new MemoryConnectors({ records: {}, watermarks: {} });
    const summary = await run(connectors, events);
    expect(events).toEqual(['watermark Infinity']);
    expect(summary.recordsIn.get('readings') ?? 0).toBe(0);
    expect(connectors.sinks.get('out')?.records()).toEqual([]);
  });
});
