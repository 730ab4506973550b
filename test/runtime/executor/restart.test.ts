// The executor's `restart:`: a job whose sink fails restarts from its newest checkpoint and commits exactly the
// output of a run that never failed; one that keeps failing gives up after its attempts, with the cause.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Connectors, JobDefinition, RestartSettings, SinkConnector } from '../../../runtime/api.ts';
import { createSinkConnector, createSourceReader } from '../../../runtime/connectors/index.ts';
import { readFloat, readInt, readString } from '../../../runtime/decode.ts';
import { runJob, type RunOptions } from '../../../runtime/executor.ts';
import { TumblingWindowOperator } from '../../../runtime/windows/tumbling.ts';
import type { WindowAggregation } from '../../../runtime/windows/aggregation.ts';
import { generatedOrders } from '../../support/jobs.ts';

interface Order {
  category: string;
  price: number;
  ts: number;
}

interface Revenue {
  category: string;
  window_start: number;
  orders: number;
  revenue: number;
}

interface RevenueAccumulator {
  key: string;
  orders: number;
  revenue: number;
}

const revenueAggregation: WindowAggregation<string, Order, RevenueAccumulator, Revenue> = {
  create: (key) => ({ key, orders: 0, revenue: 0 }),
  add(acc, order) {
    acc.orders += 1;
    acc.revenue += order.price;
  },
  merge(into, from) {
    into.orders += from.orders;
    into.revenue += from.revenue;
  },
  result: (acc, windowStart) => ({ category: acc.key, window_start: windowStart, orders: acc.orders, revenue: acc.revenue }),
  save: (acc) => ({ orders: acc.orders, revenue: acc.revenue }),
  load: (key, saved) => ({ key, ...(saved as Omit<RevenueAccumulator, 'key'>) }),
};

/** Generated orders → revenue per category in 10 s windows → a file; with `restart` as given. */
function revenueJob(restart: RestartSettings | undefined): JobDefinition {
  return {
    name: 'restarting',
    spec: 'restarting.yaml',
    pipecVersion: 'test',
    sources: [
      generatedOrders(5, 20_000, (raw, decoder) => ({ category: readString(raw, 'category', decoder), price: readFloat(raw, 'price', decoder), ts: readInt(raw, 'ts', decoder) })),
    ],
    sinks: [{ id: 'out', connector: 'file', options: { path: 'revenue.jsonl' } }],
    state: { backend: 'rocksdb' },
    restart,
    stateSchema: { revenue: { step: 'revenue', operator: 'tumbling', key: 'string', fields: { orders: 'count()', revenue: 'sum(float)' } } },
    build(task) {
      const out = task.sink<Revenue>('out');
      const revenue = task.register(
        new TumblingWindowOperator<string, Order, RevenueAccumulator, Revenue>({
          id: 'revenue',
          sizeMs: 10_000,
          offsetMs: 0,
          allowedLatenessMs: 0,
          aggregation: revenueAggregation,
          emit: (_key, row) => out.write(row),
          metrics: task.metrics,
        }),
      );
      const byCategory = task.exchange<string, Order>('by_category', (key, order, time) => revenue.process(key, order, time));
      return { orders: { record: (order: Order, time: number) => byCategory.send(order.category, order, time) } };
    },
  };
}

/** The spec's connectors, but the sink fails at its `failAt`-th record for the first `failures` runs. */
function failingConnectors(failAt: number, failures: number): Connectors {
  let failed = 0;
  return {
    source: createSourceReader,
    sink(definition, context) {
      const sink = createSinkConnector(definition, context);
      let written = 0;
      const failing: SinkConnector = {
        open: () => sink.open(),
        flush: () => sink.flush(),
        close: () => sink.close(),
        prepareCommit: sink.prepareCommit?.bind(sink),
        commit: sink.commit?.bind(sink),
        get written() {
          return sink.written;
        },
        write(record) {
          if (++written === failAt && failed < failures) {
            failed++;
            throw new Error(`disk full (test failure ${failed})`);
          }
          sink.write(record);
        },
      };
      return failing;
    },
  };
}

function options(directory: string, connectors: Connectors | undefined, log: string[]): RunOptions {
  return {
    parallelism: 2,
    maxParallelism: 128,
    maxRecords: 0,
    durationMs: 0,
    cwd: directory,
    outputPath: directory,
    log: (line) => log.push(line),
    batchSize: 500,
    connectors,
    checkpoints: { directory: join(directory, 'checkpoints'), intervalMs: 0, mode: 'exactly_once', retain: 2, backend: 'rocksdb' },
  };
}

const rows = (directory: string) => readFileSync(join(directory, 'revenue.jsonl'), 'utf8').split('\n').filter(Boolean).sort();

describe('restart', () => {
  it('restarts a failed job from its newest checkpoint; the committed output equals a run without failures', async () => {
    const reference = mkdtempSync(join(tmpdir(), 'pipec-restart-'));
    await runJob(revenueJob(undefined), options(reference, undefined, []));
    const expected = rows(reference);
    expect(expected.length).toBeGreaterThan(100);

    const directory = mkdtempSync(join(tmpdir(), 'pipec-restart-'));
    const log: string[] = [];
    const summary = await runJob(revenueJob({ attempts: 3, delayMs: 10 }), options(directory, failingConnectors(60, 2), log));
    expect(summary.restarts).toBe(2);
    expect(summary.restoredFrom).toBeDefined();
    expect(log.filter((line) => line.startsWith('failed: disk full'))).toEqual([
      expect.stringContaining('restart 1 of 3 from the newest checkpoint'),
      expect.stringContaining('restart 2 of 3 from the newest checkpoint'),
    ]);
    expect(rows(directory)).toEqual(expected);
  });

  it('gives up after its attempts with the cause', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'pipec-restart-'));
    const log: string[] = [];
    await expect(runJob(revenueJob({ attempts: 2, delayMs: 1 }), options(directory, failingConnectors(10, Infinity), log))).rejects.toThrow('disk full (test failure 3)');
    expect(log).toHaveLength(2);
  });

  it('fails at once without `restart:`', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'pipec-restart-'));
    await expect(runJob(revenueJob(undefined), options(directory, failingConnectors(10, 1), []))).rejects.toThrow('disk full (test failure 1)');
  });
});
