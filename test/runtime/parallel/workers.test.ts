// Tests of tasks on worker threads: a job bundled as `pipec build` bundles it, run by its own runJob on worker
// threads. Records cross between workers through a keyed exchange; the counts per key are compared with counts
// made here from the generator's records, read with its reader alone; a task that fails on one worker fails the run with its error.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../../compiler/bundle/index.ts';
import type { JobDefinition, RunOptions, RunSummary } from '../../../runtime/index.ts';
import { createSourceReader } from '../../../runtime/connectors/index.ts';

interface Bundle {
  readonly default: JobDefinition;
  readonly runJob: (job: JobDefinition, options: RunOptions) => Promise<RunSummary>;
}

const ORDERS = 20_000;

/**
 * Counts orders per user in a plain (non-window) keyed step: each task counts the users of its key groups and writes
 * its counts to the sink when its input ends. Task 3 throws at its 1000th order when the source's option says so.
 */
const JOB = `
import * as rt from 'pipec/runtime';

interface Order { user_id: string; category: string }

export default rt.defineJob({
  name: 'counts',
  spec: 'counts.yaml',
  pipecVersion: 'test',
  sources: [{
    id: 'orders',
    connector: 'generator',
    options: { dataset: 'orders', seed: 9, count: ${ORDERS}, shards: 6 },
    decode: (raw: rt.RawRecord) => ({ user_id: raw.user_id as string, category: raw.category as string }),
    eventTime: undefined,
  }],
  sinks: [{ id: 'counts_out', connector: 'file', options: { path: 'counts.jsonl' } }],
  state: { backend: 'memory' },
  stateSchema: {},
  build(task: rt.Task): rt.JobEntries {
    const out = task.sink<{ user: string; orders: number; task: number }>('counts_out');
    const counts = new Map<string, number>();
    const failAt = process.env.PIPEC_TEST_FAIL_TASK === String(task.index) ? 1000 : -1;
    let seen = 0;
    task.register({
      id: 'count',
      onWatermark(watermark: number) {
        if (watermark !== Infinity) return;
        for (const [user, orders] of counts) out.write({ user, orders, task: task.index });
        counts.clear();
      },
    });
    const byUser = task.exchange<string, Order>('by_user', (key) => {
      if (++seen === failAt) throw new Error(\`task \${task.index} fails on purpose\`);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    });
    return { orders: { record: (order: Order, time: number) => byUser.send(order.user_id, order, time) } };
  },
});
`;

let directory: string;
let loaded: Bundle;
let moduleUrl: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'pipec-workers-'));
  writeFileSync(join(directory, 'counts.ts'), JOB);
  const outFile = join(directory, 'counts.mjs');
  await bundle({ modulePath: join(directory, 'counts.ts'), outFile });
  moduleUrl = pathToFileURL(outFile).href;
  loaded = (await import(moduleUrl)) as Bundle;
});

function run(parallelism: number, workers: number, output: string): Promise<RunSummary> {
  return loaded.runJob(loaded.default, {
    parallelism,
    maxParallelism: 128,
    maxRecords: 0,
    durationMs: 0,
    cwd: directory,
    outputPath: output,
    log: () => {},
    workers: { module: moduleUrl, count: workers },
  });
}

/** Orders per user of the input: the generator's records, read here with its reader alone. */
async function inputCounts(): Promise<Map<string, number>> {
  const reader = createSourceReader(loaded.default.sources[0], { taskIndex: 0, parallelism: 1, cwd: directory });
  await reader.open();
  const counts = new Map<string, number>();
  for (let batch = await reader.poll(1000); batch !== null; batch = await reader.poll(1000)) {
    for (const raw of batch.values as { user_id: string }[]) counts.set(raw.user_id, (counts.get(raw.user_id) ?? 0) + 1);
  }
  await reader.close();
  return counts;
}

/** Orders per user as the job wrote them; no user twice. */
function countsOf(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').trim().split('\n')) {
    const { user, orders } = JSON.parse(line) as { user: string; orders: number };
    expect(counts.has(user), `${user} counted by two tasks`).toBe(false);
    counts.set(user, orders);
  }
  return counts;
}

describe('tasks on worker threads', () => {
  it('counts every key in the one task that owns it, at any number of workers', async () => {
    const expected = await inputCounts();
    expect([...expected.values()].reduce((sum, count) => sum + count, 0)).toBe(ORDERS);
    for (const [parallelism, workers] of [[1, 1], [4, 2], [7, 3], [16, 4]]) {
      const output = mkdtempSync(join(directory, `p${parallelism}-`));
      const parallel = await run(parallelism, workers, output);
      expect(parallel.recordsIn.get('orders')).toBe(ORDERS);
      expect(countsOf(join(output, 'counts.jsonl')), `parallelism ${parallelism} on ${workers} workers`).toEqual(expected);
      // Keys reached several tasks: the exchange moved records between workers.
      const tasks = new Set(readFileSync(join(output, 'counts.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { task: number }).task));
      expect(tasks.size).toBe(parallelism);
    }
  });

  it('fails the run with the error of a task on one worker, and stops the other workers', async () => {
    process.env.PIPEC_TEST_FAIL_TASK = '3';
    try {
      await expect(run(4, 2, mkdtempSync(join(directory, 'failing-')))).rejects.toThrow('task 3 fails on purpose');
    } finally {
      delete process.env.PIPEC_TEST_FAIL_TASK;
    }
  });
});
