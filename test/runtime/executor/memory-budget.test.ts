// The executor under a state memory budget: operators evict after checkpoints, records wait for their rows, loads
// come between rounds and before watermarks, and the committed output is that of a run without a budget (also
// through a stop and a restore at another parallelism).

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobDefinition } from '../../../runtime/api.ts';
import { readFloat, readString, readInt } from '../../../runtime/decode.ts';
import { runJob, type RunOptions, type RunSummary } from '../../../runtime/executor.ts';
import type { WindowAggregation } from '../../../runtime/windows/aggregation.ts';
import { generatedOrders } from '../../support/jobs.ts';
import { SessionWindowOperator } from '../../../runtime/windows/session.ts';
import { TumblingWindowOperator } from '../../../runtime/windows/tumbling.ts';

interface Order {
  user_id: string;
  price: number;
  ts: number;
}

/** A row of either window: the key, the window, and what went into it. */
interface Activity {
  user_id: string;
  window_start: number;
  window_end: number;
  count: number;
  total: number;
}

interface Totals {
  key: string;
  count: number;
  total: number;
}

/** Counts and sums records (orders, or sessions' rows by their totals). */
function totals<In>(amount: (record: In) => number): WindowAggregation<string, In, Totals, Activity> {
  return {
    create: (key) => ({ key, count: 0, total: 0 }),
    add(acc, record) {
      acc.count += 1;
      acc.total += amount(record);
    },
    merge(into, from) {
      into.count += from.count;
      into.total += from.total;
    },
    result: (acc, windowStart, windowEnd) => ({ user_id: acc.key, window_start: windowStart, window_end: windowEnd, count: acc.count, total: acc.total }),
    save: (acc) => ({ count: acc.count, total: acc.total }),
    load: (key, saved) => ({ key, ...(saved as Omit<Totals, 'key'>) }),
  };
}

/**
 * Orders → sessions per user (gap 20 s) → sessions per user and minute (tumbling): two operators that spill, the
 * second fed by the first's firing. 5000 users recur, so records often find their key's state evicted.
 */
function sessionsJob(): JobDefinition {
  return {
    name: 'budgeted',
    spec: 'budgeted.yaml',
    pipecVersion: 'test',
    sources: [
      generatedOrders(3, 30_000, (raw, decoder) => ({ user_id: readString(raw, 'user_id', decoder), price: readFloat(raw, 'price', decoder), ts: readInt(raw, 'ts', decoder) })),
    ],
    sinks: [
      { id: 'sessions', connector: 'file', options: { path: 'sessions.jsonl' } },
      { id: 'minutes', connector: 'file', options: { path: 'minutes.jsonl' } },
    ],
    state: { backend: 'rocksdb' },
    stateSchema: {
      sessions: { step: 'sessions', operator: 'session', key: 'string', fields: { count: 'count()', total: 'sum(float)' } },
      minutes: { step: 'minutes', operator: 'tumbling', key: 'string', fields: { count: 'count()', total: 'sum(float)' } },
    },
    build(task) {
      const sessionsOut = task.sink<Activity>('sessions');
      const minutesOut = task.sink<Activity>('minutes');
      const sessions = task.register(
        new SessionWindowOperator<string, Order, Totals, Activity>({
          id: 'sessions', gapMs: 20_000, allowedLatenessMs: 3_000, aggregation: totals((order) => order.price),
          emit: (key, row, time) => {
            sessionsOut.write(row);
            toMinutes.send(key, row, time);
          },
          metrics: task.metrics,
        }),
      );
      // Registered after sessions, which fire into it: the task delivers watermarks in registration order.
      const minutes = task.register(
        new TumblingWindowOperator<string, Activity, Totals, Activity>({
          id: 'minutes', sizeMs: 60_000, offsetMs: 0, allowedLatenessMs: 5_000, aggregation: totals((row) => row.count),
          emit: (_key, row) => minutesOut.write(row), metrics: task.metrics,
        }),
      );
      const toMinutes = task.exchange<string, Activity>('minutes', (key, row, time) => minutes.process(key, row, time));
      const byUser = task.exchange<string, Order>('sessions', (key, order, time) => sessions.process(key, order, time));
      return { orders: { record: (order: Order, time: number) => byUser.send(order.user_id, order, time) } };
    },
  };
}

function options(directory: string, settings: { parallelism: number; budget?: number; maxRecords?: number; restore?: boolean }): RunOptions {
  return {
    parallelism: settings.parallelism,
    maxParallelism: 128,
    maxRecords: settings.maxRecords ?? 0,
    durationMs: 0,
    cwd: directory,
    outputPath: directory,
    log: () => {},
    batchSize: 100,
    restore: settings.restore ? 'latest' : undefined,
    checkpoints: {
      directory: join(directory, 'checkpoints'), intervalMs: 50, mode: 'exactly_once', retain: 2, backend: 'rocksdb', memoryBudgetBytes: settings.budget,
    },
  };
}

/** The committed output: each file's rows, sorted. */
function committed(directory: string): Record<string, string[]> {
  const read = (file: string) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean).sort();
  return { sessions: read('sessions.jsonl'), minutes: read('minutes.jsonl') };
}

const temporary = () => mkdtempSync(join(tmpdir(), 'pipec-budget-'));

describe('a run under a state memory budget', () => {
  it('commits the output of a run without one, holding far fewer rows in memory than it has', async () => {
    const reference = temporary();
    const unlimited = await runJob(sessionsJob(), options(reference, { parallelism: 2 }));
    const expected = committed(reference);
    expect(expected.sessions.length).toBeGreaterThan(5000);
    expect(expected.minutes.length).toBeGreaterThan(5000);
    expect(unlimited.state).toMatchObject({ memoryBudgetBytes: undefined, evictedRows: 0, loadedRows: 0 });
    expect(unlimited.state.peakResidentRows).toBe(unlimited.state.peakRows);

    const directory = temporary();
    // About 100 rows of these sizes: a small share of the thousands of sessions and windows open at once.
    const budgeted = await runJob(sessionsJob(), options(directory, { parallelism: 2, budget: 40_000 }));
    expect(committed(directory)).toEqual(expected);
    expectBudgetHeld(budgeted, unlimited);
  });

  it('restores a stopped run under the budget at another parallelism and commits the same', async () => {
    const reference = temporary();
    await runJob(sessionsJob(), options(reference, { parallelism: 2 }));

    const directory = temporary();
    const stopped = await runJob(sessionsJob(), options(directory, { parallelism: 2, budget: 40_000, maxRecords: 12_000 }));
    expect(stopped.stoppedBy).toBe('record limit');
    expect(stopped.state.rows).toBeGreaterThan(1000);
    const restored = await runJob(sessionsJob(), options(directory, { parallelism: 3, budget: 40_000, restore: true }));
    expect(restored.restoredFrom?.stateRows).toBe(stopped.state.rows);
    expect(committed(directory)).toEqual(committed(reference));
    expect(restored.state.loadedRows).toBeGreaterThan(0);
  });
});

function expectBudgetHeld(budgeted: RunSummary, unlimited: RunSummary): void {
  // Records that wait for their rows make rows a little later: the state is as large, give or take.
  expect(budgeted.state.peakRows).toBeGreaterThan(unlimited.state.peakRows * 0.9);
  expect(budgeted.state.evictedRows).toBeGreaterThan(10_000);
  expect(budgeted.state.loadedRows).toBeGreaterThan(10_000);
  expect(budgeted.state.peakResidentRows).toBeLessThan(unlimited.state.peakRows / 4);
}
