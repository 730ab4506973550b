// End to end: `pipec run` on a file of 120k out-of-order orders; every window row is compared with an answer
// computed here by plain grouping, not by pipec's code.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipec } from '../support/cli.ts';
import { seededRandom } from '../support/random.ts';

interface Order {
  order_id: string;
  user_id: string;
  category: string;
  price: number;
  quantity: number;
  event_type: string;
  ts: number;
}

const RECORDS = 120_000;
const START = Date.UTC(2026, 2, 1);
/** Records are at most this far out of order, less than the spec's max_out_of_orderness: none is late. */
const MAX_DISORDER_MS = 4_000;

function makeOrders(): Order[] {
  const random = seededRandom(7);
  const categories = ['books', 'games', 'garden', 'music', 'tools', 'toys'];
  const types = ['purchase', 'purchase', 'purchase', 'view', 'refund'];
  const orders: Order[] = [];
  for (let i = 0; i < RECORDS; i++) {
    orders.push({
      order_id: `o${i}`,
      user_id: `u${Math.floor(random() * 2000)}`,
      category: categories[Math.floor(random() * categories.length)],
      price: Math.round(random() * 50000) / 100,
      quantity: Math.floor(random() * 5),
      event_type: types[Math.floor(random() * types.length)],
      // 20 ms apart on average, each moved back by up to MAX_DISORDER_MS: out of order, never beyond the bound.
      ts: START + i * 20 - Math.floor(random() * MAX_DISORDER_MS),
    });
  }
  return orders;
}

const SPEC = `
pipeline: revenue_e2e
types:
  Order: { order_id: string, user_id: string, category: string, price: float, quantity: int, event_type: string, ts: timestamp }
sources:
  orders:
    connector: file
    path: \${params.input}
    type: Order
    event_time: { field: ts, max_out_of_orderness: 5s }
    dead_letter: bad_orders
params:
  input: { type: string, default: orders.jsonl }
steps:
  - id: purchases
    from: orders
    filter: event_type == 'purchase' && quantity > 0
  - id: by_category
    from: purchases
    key_by: category
  - id: revenue
    from: by_category
    window: { tumbling: 1m }
    aggregate:
      total_revenue: sum(price * quantity)
      order_count: count()
      unique_users: count_distinct(user_id)
      avg_order_value: avg(price * quantity)
      max_order_value: max(price * quantity)
sinks:
  revenue_out: { from: revenue, connector: file, path: revenue.jsonl }
  bad_out: { from: bad_orders, connector: file, path: bad.jsonl }
`;

interface RevenueRow {
  category: string;
  window_start: number;
  window_end: number;
  total_revenue: number;
  order_count: number;
  unique_users: number;
  avg_order_value: number;
  max_order_value: number;
}

/** The expected rows, by plain grouping on (category, minute). */
function expectedRows(orders: readonly Order[]): Map<string, RevenueRow> {
  const groups = new Map<string, { category: string; start: number; values: number[]; users: Set<string> }>();
  for (const order of orders) {
    if (order.event_type !== 'purchase' || order.quantity <= 0) continue;
    const start = Math.floor(order.ts / 60_000) * 60_000;
    const key = `${order.category}@${start}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { category: order.category, start, values: [], users: new Set() }));
    group.values.push(order.price * order.quantity);
    group.users.add(order.user_id);
  }
  const rows = new Map<string, RevenueRow>();
  for (const [key, group] of groups) {
    const total = group.values.reduce((a, b) => a + b, 0);
    rows.set(key, {
      category: group.category,
      window_start: group.start,
      window_end: group.start + 60_000,
      total_revenue: total,
      order_count: group.values.length,
      unique_users: group.users.size,
      avg_order_value: total / group.values.length,
      max_order_value: Math.max(...group.values),
    });
  }
  return rows;
}

describe('pipec run on 120k out-of-order orders from a file', () => {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-e2e-revenue-'));
  const orders = makeOrders();
  let result: ReturnType<typeof pipec>;

  beforeAll(() => {
    const lines = orders.map((order) => JSON.stringify(order));
    // Three bad records among the good ones: unparsable, a wrong type, a missing field.
    lines.splice(1000, 0, '{"order_id": "broken"');
    lines.splice(2000, 0, JSON.stringify({ ...orders[5], quantity: 'two' }));
    const { category: _dropped, ...missingCategory } = orders[6];
    lines.splice(3000, 0, JSON.stringify(missingCategory));
    writeFileSync(join(directory, 'orders.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(directory, 'revenue.yaml'), SPEC);
    result = pipec(['run', 'revenue.yaml', '--output-path', directory], { cwd: directory });
  });

  it('exits 0 and summarises the run', () => {
    expect(result.stderr).toContain(`source orders: ${RECORDS + 3} records`);
    expect(result.stderr).toContain('3 bad');
    expect(result.status).toBe(0);
  });

  it('writes every window row that plain grouping computes, and no other', () => {
    const expected = expectedRows(orders);
    const actual = readFileSync(join(directory, 'revenue.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as RevenueRow);
    expect(actual.length).toBe(expected.size);
    for (const row of actual) {
      const want = expected.get(`${row.category}@${row.window_start}`);
      expect(want, `unexpected row ${JSON.stringify(row)}`).toBeDefined();
      expect(row.window_end).toBe(want!.window_end);
      expect(row.order_count).toBe(want!.order_count);
      expect(row.unique_users).toBe(want!.unique_users);
      expect(row.max_order_value).toBe(want!.max_order_value);
      // Sums of floats depend on the order of addition; they agree to many digits.
      expect(row.total_revenue).toBeCloseTo(want!.total_revenue, 6);
      expect(row.avg_order_value).toBeCloseTo(want!.avg_order_value, 6);
    }
    expect(Object.keys(actual[0])).toEqual([
      'category', 'window_start', 'window_end', 'total_revenue', 'order_count', 'unique_users', 'avg_order_value', 'max_order_value',
    ]);
  });

  it('sends the bad records to the dead-letter output with their line numbers', () => {
    const bad = readFileSync(join(directory, 'bad.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
    expect(bad.map((record) => record.position)).toEqual(['orders.jsonl:1001', 'orders.jsonl:2001', 'orders.jsonl:3001']);
    expect(bad[0].error).toMatch(/unparsable JSON/);
    expect(bad[1].error).toBe(`field 'quantity': expected int, got "two"`);
    expect(bad[2].error).toBe(`missing field 'category'`);
    expect(bad[0].raw).toBe('{"order_id": "broken"');
  });
});
