// End to end: an idle partition no longer holds the watermark back. Two generator sources feed one window: `busy`
// (two shards, 2000 orders/s, a fifth of them up to 3 s out of order) and `quiet`, whose first record would come
// after 100 s. The runs are bounded by --duration; what they assert does not depend on how many records come.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipec } from '../support/cli.ts';

interface Order {
  order_id: string;
  category: string;
  ts: number;
}

interface Row {
  category: string;
  window_start: number;
  window_end: number;
  orders: number;
}

const WINDOW_MS = 1000;

/** `quietIdleTimeout`: the quiet source's idle_timeout, or none (then it never counts as idle). */
function spec(quietIdleTimeout: string | undefined): string {
  const idle = quietIdleTimeout === undefined ? '' : `, idle_timeout: ${quietIdleTimeout}`;
  return `
pipeline: idle_e2e
types:
  Order: { order_id: string, user_id: string, product_id: string, category: string, price: float, quantity: int, event_type: string, ts: timestamp, coupon: string? }
sources:
  busy:
    connector: generator
    type: Order
    generator: { dataset: orders, seed: 3, shards: 2, rate: 2000, out_of_order: 0.2, max_lateness: 3s }
    event_time: { field: ts, max_out_of_orderness: 0s }
  quiet:
    connector: generator
    type: Order
    generator: { dataset: orders, seed: 4, rate: 0.01 }
    event_time: { field: ts, max_out_of_orderness: 0s${idle} }
steps:
  - id: all_orders
    union: [busy, quiet]
  - id: per_second
    from: all_orders
    key_by: category
    window: { tumbling: 1s, late_output: late }
    aggregate: { orders: count() }
sinks:
  rows_out: { from: per_second, connector: file, path: rows.jsonl }
  late_out: { from: late, connector: file, path: late.jsonl }
  all_out: { from: all_orders, connector: file, path: all.jsonl }
`;
}

function readLines<T>(file: string): T[] {
  const text = readFileSync(file, 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as T);
}

interface Outcome {
  readonly status: number | null;
  readonly stderr: string;
  readonly rows: Row[];
  readonly late: Order[];
  readonly all: Order[];
}

function run(quietIdleTimeout: string | undefined): Outcome {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-e2e-idle-'));
  writeFileSync(join(directory, 'idle.yaml'), spec(quietIdleTimeout));
  const { status, stderr } = pipec(['run', 'idle.yaml', '--duration', '2.5', '--output-path', directory], { cwd: directory });
  return {
    status,
    stderr,
    rows: readLines<Row>(join(directory, 'rows.jsonl')),
    late: readLines<Order>(join(directory, 'late.jsonl')),
    all: readLines<Order>(join(directory, 'all.jsonl')),
  };
}

const windowStartOf = (ts: number) => ts - (((ts % WINDOW_MS) + WINDOW_MS) % WINDOW_MS);

/** Every record read is counted in exactly one window row or is in the late output: nothing lost, nothing twice. */
function expectRowsAndLateCoverEveryRecord(outcome: Outcome): void {
  const lateIds = new Set(outcome.late.map((order) => order.order_id));
  expect(lateIds.size).toBe(outcome.late.length);
  const expected = new Map<string, number>();
  for (const order of outcome.all) {
    if (lateIds.has(order.order_id)) continue;
    const key = `${order.category}@${windowStartOf(order.ts)}`;
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
  const actual = new Map(outcome.rows.map((row) => [`${row.category}@${row.window_start}`, row.orders]));
  expect(actual.size).toBe(outcome.rows.length);
  expect(actual).toEqual(expected);
  const readIds = new Set(outcome.all.map((order) => order.order_id));
  expect(outcome.late.filter((order) => !readIds.has(order.order_id))).toEqual([]);
}

describe('pipec run: an idle source partition', () => {
  let idle: Outcome;
  let neverIdle: Outcome;

  beforeAll(() => {
    idle = run('300ms');
    neverIdle = run(undefined);
  });

  it('reads only from the busy source', () => {
    for (const outcome of [idle, neverIdle]) {
      expect(outcome.status).toBe(0);
      expect(outcome.stderr).toContain('source quiet: 0 records');
      expect(outcome.all.length).toBeGreaterThan(1000);
    }
  });

  it('without an idle timeout the quiet source holds the watermark until the end: nothing is late', () => {
    expect(neverIdle.late).toEqual([]);
    expectRowsAndLateCoverEveryRecord(neverIdle);
  });

  it('once the quiet source is idle the busy one alone moves the watermark: records behind it are late', () => {
    expect(idle.late.length).toBeGreaterThan(0);
    expectRowsAndLateCoverEveryRecord(idle);
    // A record can only be late when the watermark passed its window's end - 1, and the watermark never passes
    // the latest event time read before the record (max_out_of_orderness 0: watermark = latest - 1).
    const position = new Map(idle.all.map((order, index) => [order.order_id, index]));
    const latestBefore: number[] = [];
    let latest = -Infinity;
    for (const order of idle.all) {
      latestBefore.push(latest);
      latest = Math.max(latest, order.ts);
    }
    for (const order of idle.late) {
      expect(windowStartOf(order.ts) + WINDOW_MS - 1).toBeLessThanOrEqual(latestBefore[position.get(order.order_id)!] - 1);
    }
  });
});
