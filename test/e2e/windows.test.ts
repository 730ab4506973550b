// End to end: `pipec run` with every window kind on 60k out-of-order events from a file, and the shipped
// pipelines/windowing.yaml on orders written here; every output row is compared with an answer computed here by
// plain grouping, windows assigned by arithmetic, not by pipec's code.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipec, REPO_ROOT } from '../support/cli.ts';
import { seededRandom } from '../support/random.ts';
import { roundedFractions } from '../../bench/report.ts';

interface Event {
  id: string;
  user: string;
  category: string;
  channel: string;
  amount: number;
  ts: number;
}

const RECORDS = 60_000;
/** 12:50 UTC: the 20 minutes of events span two hours, so the hour rollup has rows in both. */
const START = Date.UTC(2026, 2, 1, 12, 50);
const SPACING_MS = 20;
/**
 * Each event is moved back by an even amount below this, less than the spec's max_out_of_orderness (5 s), so no
 * record is ever late and plain grouping over all records is the whole answer. Event times are all even.
 */
const MAX_DISORDER_MS = 4000;
const USERS = 400;

/** Session gap 8001 ms: odd, so two (even) event times are never exactly a gap apart (see `expectedSessions`). */
const SESSION_GAP_MS = 8001;
const TUMBLING_MS = 60_000;
const TUMBLING_OFFSET_MS = 15_000;
const SLIDING_SIZE_MS = 50_000;
const SLIDING_SLIDE_MS = 20_000;
const SLIDING_OFFSET_MS = 5_000;
const GLOBAL_TRIGGER = 3;
const GLOBAL_KEEP = 5;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * Three events of user `bridge`: the first two are 8004 ms apart, more than the gap, so they open two sessions;
 * the third arrives after both, 4002 ms after the first and before the second, and merges them into one.
 */
const BRIDGE_INDEX = 30_000;
const BRIDGE_FIRST = START + BRIDGE_INDEX * SPACING_MS + 8_500;

function makeEvents(): Event[] {
  const random = seededRandom(11);
  const categories = ['books', 'games', 'garden', 'music', 'tools'];
  const channels = ['web', 'app'];
  const events: Event[] = [];
  for (let i = 0; i < RECORDS; i++) {
    events.push({
      id: `e${i}`,
      user: `u${Math.floor(random() * USERS)}`,
      category: categories[Math.floor(random() * categories.length)],
      channel: channels[Math.floor(random() * channels.length)],
      amount: Math.round(random() * 20000) / 100,
      ts: START + i * SPACING_MS - 2 * Math.floor(random() * (MAX_DISORDER_MS / 2)),
    });
  }
  const bridge = (id: string, ts: number): Event => ({ id, user: 'bridge', category: 'books', channel: 'web', amount: 1, ts });
  // In the file: the first where its time falls, then the second, then right after it the bridging third.
  const first = BRIDGE_INDEX + 425;
  const second = first + 400;
  events.splice(second + 1, 0, bridge('bridge-2', BRIDGE_FIRST + 8004), bridge('bridge-3', BRIDGE_FIRST + 4002));
  events.splice(first + 1, 0, bridge('bridge-1', BRIDGE_FIRST));
  return events;
}

const SPEC = `
pipeline: windows_e2e
params:
  input: { type: string, default: events.jsonl }
types:
  Event: { id: string, user: string, category: string, channel: string, amount: float, ts: timestamp }
sources:
  events:
    connector: file
    path: '\${params.input}'
    type: Event
    event_time: { field: ts, max_out_of_orderness: 5s }
steps:
  - id: tumbling
    from: events
    key_by: category
    window: { tumbling: 1m, offset: 15s }
    aggregate:
      count: count()
      total: sum(amount)
      users: count_distinct(user)
      smallest: min(amount)
      first_id: first(id)
      last_id: last(id)
  - id: sliding
    from: events
    key_by: category
    window: { sliding: { size: 50s, slide: 20s }, offset: 5s }
    aggregate:
      count: count()
      total: sum(amount)
      largest: max(amount)
  - id: sessions
    from: events
    key_by: user
    window: { session: { gap: 8s1ms } }
    aggregate:
      count: count()
      ids: collect(id)
  - id: rolling
    from: events
    key_by: user
    window: { global: { trigger: { count: ${GLOBAL_TRIGGER} }, evictor: { count: ${GLOBAL_KEEP} } } }
    aggregate:
      count: count()
      total: sum(amount)
      ids: collect(id)
  - id: per_minute
    from: events
    key_by: [category, channel]
    window: { tumbling: 1m }
    aggregate:
      count: count()
      total: sum(amount)
  - id: per_hour
    from: per_minute
    key_by: category
    window: { tumbling: 1h }
    aggregate:
      count: sum(count)
      total: sum(total)
      minute_rows: count()
      first_minute: min(window_start)
      last_minute: max(window_start)
sinks:
  tumbling_out: { from: tumbling, connector: file, path: tumbling.jsonl }
  sliding_out: { from: sliding, connector: file, path: sliding.jsonl }
  sessions_out: { from: sessions, connector: file, path: sessions.jsonl }
  rolling_out: { from: rolling, connector: file, path: rolling.jsonl }
  minute_out: { from: per_minute, connector: file, path: minute.jsonl }
  hour_out: { from: per_hour, connector: file, path: hour.jsonl }
`;

type Row = Record<string, number | string | string[]>;

/** The non-negative remainder, so windows before the offset are aligned too. */
function modulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

/** Groups events by a string key, keeping file order within a group. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(item);
  }
  return groups;
}

const total = (events: readonly Event[]) => events.reduce((sum, event) => sum + event.amount, 0);

/** Ids in event-time order, equal times in file order (a stable sort). */
const idsByTime = (events: readonly Event[]) => [...events].sort((a, b) => a.ts - b.ts).map((event) => event.id);

function expectedTumbling(events: readonly Event[]): Map<string, Row> {
  const rows = new Map<string, Row>();
  const groups = groupBy(events, (event) => `${event.category}@${event.ts - modulo(event.ts - TUMBLING_OFFSET_MS, TUMBLING_MS)}`);
  for (const [key, group] of groups) {
    const start = Number(key.split('@')[1]);
    // first: the earliest time, the earliest in the file on a tie; last: the latest time, the latest in the file.
    let first = group[0];
    let last = group[0];
    for (const event of group) {
      if (event.ts < first.ts) first = event;
      if (event.ts >= last.ts) last = event;
    }
    rows.set(key, {
      category: group[0].category,
      window_start: start,
      window_end: start + TUMBLING_MS,
      count: group.length,
      total: total(group),
      users: new Set(group.map((event) => event.user)).size,
      smallest: Math.min(...group.map((event) => event.amount)),
      first_id: first.id,
      last_id: last.id,
    });
  }
  return rows;
}

/** Every window start offset + k·slide with start <= ts < start + size, by solving for k. */
function slidingStarts(ts: number): number[] {
  const lowest = Math.ceil((ts - SLIDING_OFFSET_MS - SLIDING_SIZE_MS + 1) / SLIDING_SLIDE_MS);
  const highest = Math.floor((ts - SLIDING_OFFSET_MS) / SLIDING_SLIDE_MS);
  const starts: number[] = [];
  for (let k = lowest; k <= highest; k++) starts.push(SLIDING_OFFSET_MS + k * SLIDING_SLIDE_MS);
  return starts;
}

function expectedSliding(events: readonly Event[]): Map<string, Row> {
  const byWindow = new Map<string, Event[]>();
  for (const event of events) {
    for (const start of slidingStarts(event.ts)) {
      const key = `${event.category}@${start}`;
      let group = byWindow.get(key);
      if (!group) byWindow.set(key, (group = []));
      group.push(event);
    }
  }
  const rows = new Map<string, Row>();
  for (const [key, group] of byWindow) {
    const start = Number(key.split('@')[1]);
    rows.set(key, {
      category: group[0].category,
      window_start: start,
      window_end: start + SLIDING_SIZE_MS,
      count: group.length,
      total: total(group),
      largest: Math.max(...group.map((event) => event.amount)),
    });
  }
  return rows;
}

/**
 * Per user, the events sorted by time split wherever two neighbours are more than the gap apart: windows
 * [t, t + gap) that overlap or touch merge, as Flink's TimeWindow.intersects. With even times and an odd gap no two
 * are exactly a gap apart, where "touch" would depend on whether the first session already fired.
 */
function expectedSessions(events: readonly Event[]): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const [user, group] of groupBy(events, (event) => event.user)) {
    const sorted = [...group].sort((a, b) => a.ts - b.ts);
    let session: Event[] = [];
    const close = () => {
      const start = session[0].ts;
      rows.set(`${user}@${start}`, {
        user,
        window_start: start,
        window_end: session[session.length - 1].ts + SESSION_GAP_MS,
        count: session.length,
        ids: session.map((event) => event.id),
      });
    };
    for (const event of sorted) {
      if (session.length > 0 && event.ts - session[session.length - 1].ts > SESSION_GAP_MS) {
        close();
        session = [];
      }
      session.push(event);
    }
    close();
  }
  return rows;
}

/** Per user in file order: at every GLOBAL_TRIGGER-th event, a row of the last GLOBAL_KEEP events. */
function expectedRolling(events: readonly Event[]): Map<string, Row[]> {
  const rows = new Map<string, Row[]>();
  for (const [user, group] of groupBy(events, (event) => event.user)) {
    const userRows: Row[] = [];
    for (let arrived = GLOBAL_TRIGGER; arrived <= group.length; arrived += GLOBAL_TRIGGER) {
      const kept = group.slice(Math.max(0, arrived - GLOBAL_KEEP), arrived);
      const times = kept.map((event) => event.ts);
      userRows.push({
        user,
        window_start: Math.min(...times),
        window_end: Math.max(...times) + 1,
        count: kept.length,
        total: total(kept),
        ids: idsByTime(kept),
      });
    }
    if (userRows.length > 0) rows.set(user, userRows);
  }
  return rows;
}

function expectedMinutes(events: readonly Event[]): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const [key, group] of groupBy(events, (event) => `${event.category}/${event.channel}@${event.ts - modulo(event.ts, MINUTE_MS)}`)) {
    const start = Number(key.split('@')[1]);
    rows.set(key, {
      category: group[0].category,
      channel: group[0].channel,
      window_start: start,
      window_end: start + MINUTE_MS,
      count: group.length,
      total: total(group),
    });
  }
  return rows;
}

/** Hour rows straight from the events: a minute row's time (its end - 1) lies in the hour of its events. */
function expectedHours(events: readonly Event[]): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const [key, group] of groupBy(events, (event) => `${event.category}@${event.ts - modulo(event.ts, HOUR_MS)}`)) {
    const start = Number(key.split('@')[1]);
    const minuteStarts = group.map((event) => event.ts - modulo(event.ts, MINUTE_MS));
    rows.set(key, {
      category: group[0].category,
      window_start: start,
      window_end: start + HOUR_MS,
      count: group.length,
      total: total(group),
      minute_rows: new Set(group.map((event, index) => `${event.channel}@${minuteStarts[index]}`)).size,
      first_minute: Math.min(...minuteStarts),
      last_minute: Math.max(...minuteStarts),
    });
  }
  return rows;
}

/** Compares one row field by field: floats to many digits (their sums depend on the order of addition). */
function expectRow(actual: Row, expected: Row, floats: readonly string[]): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [field, value] of Object.entries(expected)) {
    if (floats.includes(field)) expect(actual[field] as number, field).toBeCloseTo(value as number, 6);
    else expect(actual[field], `${field} of ${JSON.stringify(actual)}`).toEqual(value);
  }
}

function expectRows(actual: readonly Row[], expected: ReadonlyMap<string, Row>, keyOf: (row: Row) => string, floats: readonly string[]): void {
  expect(actual.length).toBe(expected.size);
  const seen = new Set<string>();
  for (const row of actual) {
    const key = keyOf(row);
    expect(seen.has(key), `row ${key} twice`).toBe(false);
    seen.add(key);
    const want = expected.get(key);
    expect(want, `unexpected row ${JSON.stringify(row)}`).toBeDefined();
    expectRow(row, want!, floats);
  }
}

/** Parallelism and worker threads of each run of the spec: the answers are the same at every one. */
const RUNS = [
  { parallelism: 1, workers: 1 },
  { parallelism: 2, workers: 2 },
  { parallelism: 16, workers: 4 },
] as const;

const events = makeEvents();
const outputs = new Map<number, string>();

describe.each(RUNS)('pipec run: every window kind on 60k out-of-order events, parallelism $parallelism on $workers worker threads', ({ parallelism, workers }) => {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-e2e-windows-'));
  outputs.set(parallelism, directory);
  let status: number | null;
  let stderr = '';
  const read = (file: string): Row[] =>
    readFileSync(join(directory, file), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Row);

  beforeAll(() => {
    writeFileSync(join(directory, 'events.jsonl'), events.map((event) => JSON.stringify(event)).join('\n') + '\n');
    writeFileSync(join(directory, 'windows.yaml'), SPEC);
    const run = ['--parallelism', String(parallelism), '--workers', String(workers)];
    ({ status, stderr } = pipec(['run', 'windows.yaml', ...run, '--output-path', directory], { cwd: directory }));
  });

  it('reads every event, none late or dropped', () => {
    expect(stderr).toContain(`source events: ${RECORDS + 3} records`);
    expect(stderr).not.toMatch(/late|dropped/);
    expect(status).toBe(0);
  });

  it('on worker threads, events for a task on another thread cross the tumbling windows folded into accumulators', () => {
    const folded = new Map([...stderr.matchAll(/step (\w+): (\d+) records crossed to other worker threads folded into (\d+) window accumulators/g)].map(([, step, records, accumulators]) => [step, { records: Number(records), accumulators: Number(accumulators) }]));
    if (workers === 1) {
      expect(folded.size).toBe(0);
      return;
    }
    // Only tumbling windows fold; sliding, session and global windows receive every record.
    for (const step of folded.keys()) expect(['tumbling', 'per_minute', 'per_hour']).toContain(step);
    for (const step of ['tumbling', 'per_minute']) {
      const { records, accumulators } = folded.get(step)!;
      expect(records, step).toBeGreaterThan(RECORDS / 4);
      expect(accumulators, step).toBeLessThan(records / 10);
    }
  });

  it('the data is out of order', () => {
    let behind = 0;
    let max = -Infinity;
    for (const event of events) {
      if (event.ts < max) behind++;
      max = Math.max(max, event.ts);
    }
    expect(behind).toBeGreaterThan(RECORDS / 2);
  });

  it('tumbling with an offset: one row per category and [t - (t - 15s) mod 1m, +1m)', () => {
    const expected = expectedTumbling(events);
    const rows = read('tumbling.jsonl');
    expectRows(rows, expected, (row) => `${row.category}@${row.window_start}`, ['total']);
    // The offset shows: every window starts 15 s past a minute.
    for (const row of rows) expect(modulo(row.window_start as number, TUMBLING_MS)).toBe(TUMBLING_OFFSET_MS);
  });

  it('sliding 50s every 20s with a 5s offset: overlapping windows with the bounds of SlidingEventTimeWindows', () => {
    const expected = expectedSliding(events);
    const rows = read('sliding.jsonl');
    expectRows(rows, expected, (row) => `${row.category}@${row.window_start}`, ['total']);
    for (const row of rows) {
      expect((row.window_end as number) - (row.window_start as number)).toBe(SLIDING_SIZE_MS);
      expect(modulo((row.window_start as number) - SLIDING_OFFSET_MS, SLIDING_SLIDE_MS)).toBe(0);
    }
    // Flink's assigner: from the last start (ts aligned to the slide) back by the slide while start > ts - size.
    // 50/20 is not whole, so an event is in 2 or 3 windows; every row's count adds up to that.
    const windowsPerEvent = events.map((event) => {
      let count = 0;
      const last = event.ts - modulo(event.ts - SLIDING_OFFSET_MS, SLIDING_SLIDE_MS);
      for (let start = last; start > event.ts - SLIDING_SIZE_MS; start -= SLIDING_SLIDE_MS) count++;
      return count;
    });
    expect(new Set(windowsPerEvent)).toEqual(new Set([2, 3]));
    expect(rows.reduce((sum, row) => sum + (row.count as number), 0)).toBe(windowsPerEvent.reduce((a, b) => a + b, 0));
  });

  it('sessions: per user, events closer than the gap in one session; a late bridging event merges two', () => {
    const expected = expectedSessions(events);
    const rows = read('sessions.jsonl');
    expectRows(rows, expected, (row) => `${row.user}@${row.window_start}`, []);
    expect(rows.filter((row) => row.user === 'bridge')).toEqual([
      {
        user: 'bridge',
        window_start: BRIDGE_FIRST,
        window_end: BRIDGE_FIRST + 8004 + SESSION_GAP_MS,
        count: 3,
        ids: ['bridge-1', 'bridge-3', 'bridge-2'],
      },
    ]);
    // Sessions of several events, and users with several sessions.
    expect(rows.length).toBeGreaterThan(USERS * 2);
    expect(rows.length).toBeLessThan(RECORDS / 2);
  });

  it('global window with a count trigger of 3 and a count evictor of 5: per user, the last 5 at every 3rd event', () => {
    const expected = expectedRolling(events);
    const byUser = groupBy(read('rolling.jsonl'), (row) => row.user as string);
    expect(byUser.size).toBe(expected.size);
    for (const [user, want] of expected) {
      const rows = byUser.get(user) ?? [];
      expect(rows.length, user).toBe(want.length);
      // A user's rows come in the order they fired.
      rows.forEach((row, index) => expectRow(row, want[index], ['total']));
    }
  });

  it('a key of two fields: rows per category, channel and minute, both key fields first', () => {
    const expected = expectedMinutes(events);
    expectRows(read('minute.jsonl'), expected, (row) => `${row.category}/${row.channel}@${row.window_start}`, ['total']);
  });

  it('multi-level: hour rows rolled up from the minute rows, re-keyed by category', () => {
    const expected = expectedHours(events);
    const rows = read('hour.jsonl');
    expectRows(rows, expected, (row) => `${row.category}@${row.window_start}`, ['total']);
    expect(new Set(rows.map((row) => row.window_start)).size).toBe(2);
  });
});

describe('pipec run: every window kind at parallelism 1, 2 and 16', () => {
  it('writes the same rows at every parallelism (a global window\'s rows of a key in the same order)', () => {
    for (const file of ['tumbling.jsonl', 'sliding.jsonl', 'sessions.jsonl', 'rolling.jsonl', 'minute.jsonl', 'hour.jsonl']) {
      // Float sums and averages may differ in the last bits, so fractions are compared to 12 significant digits: on
      // worker threads a tumbling window's records for another thread's task cross folded into accumulators, which
      // the receiving task merges, (a + b) + (c + d) instead of ((a + b) + c) + d; and the hour rollup adds the
      // minute rows of several tasks in the order they arrive. Everything else is equal to the bit: each key's
      // events come from one file split, in its order, at every parallelism.
      const rows = (parallelism: number) => readFileSync(join(outputs.get(parallelism)!, file), 'utf8').trim().split('\n').map(roundedFractions);
      const one = rows(1);
      expect(one.length, file).toBeGreaterThan(0);
      for (const { parallelism } of RUNS) {
        expect([...rows(parallelism)].sort(), `${file} at parallelism ${parallelism}`).toEqual([...one].sort());
        // Rows of one key keep their order: the global window's rolling rows per user, in firing order.
        if (file === 'rolling.jsonl') expect(groupBy(rows(parallelism).map((line) => JSON.parse(line) as Row), (row) => row.user as string)).toEqual(groupBy(one.map((line) => JSON.parse(line) as Row), (row) => row.user as string));
      }
    }
  });
});

/** The shipped pipeline's record type (pipelines/windowing.yaml). */
interface Order {
  order_id: string;
  user_id: string;
  product_id: string;
  category: string;
  price: number;
  quantity: number;
  event_type: string;
  ts: number;
  coupon: string | null;
}

const ORDERS = 20_000;
/** 12:55 UTC: ten minutes of orders, across an hour boundary. */
const ORDERS_START = Date.UTC(2026, 2, 2, 12, 55);
/**
 * Event times on a 7 ms grid, so no two are exactly the 5-minute session gap apart; each moved back by less than
 * the spec's 5 s max_out_of_orderness, so none is late.
 */
const ORDER_GRID_MS = 7;
const ORDER_SPACING_STEPS = 4;
const ORDER_DISORDER_STEPS = 500;

function makeOrders(): Order[] {
  const random = seededRandom(23);
  const categories = ['books', 'games', 'garden', 'music', 'tools', 'toys'];
  const types = ['purchase', 'purchase', 'view', 'add_to_cart'];
  const orders: Order[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const steps = i * ORDER_SPACING_STEPS - Math.floor(random() * ORDER_DISORDER_STEPS);
    orders.push({
      order_id: `o${i}`,
      user_id: `u${Math.floor(random() * 5000)}`,
      product_id: `p${Math.floor(random() * 50)}`,
      category: categories[Math.floor(random() * categories.length)],
      price: Math.round(random() * 30000) / 100,
      quantity: Math.floor(random() * 4),
      event_type: types[Math.floor(random() * types.length)],
      ts: ORDERS_START + steps * ORDER_GRID_MS,
      coupon: random() < 0.1 ? 'SPRING' : null,
    });
  }
  return orders;
}

describe('pipec run pipelines/windowing.yaml on a file of out-of-order orders', () => {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-e2e-windowing-'));
  const orders = makeOrders();
  const purchases = orders.filter((order) => order.event_type === 'purchase' && order.quantity > 0);
  const value = (order: Order) => order.price * order.quantity;
  const TUMBLING_MINUTES = 2;
  const SLIDING_MINUTES = 3;
  let status: number | null;
  let stderr = '';
  const read = (file: string): Row[] => {
    const text = readFileSync(join(directory, file), 'utf8').trim();
    return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as Row);
  };

  beforeAll(() => {
    writeFileSync(join(directory, 'orders.jsonl'), orders.map((order) => JSON.stringify(order)).join('\n') + '\n');
    const params = ['source=file', `input=${join(directory, 'orders.jsonl')}`, `tumbling_minutes=${TUMBLING_MINUTES}`, `sliding_minutes=${SLIDING_MINUTES}`];
    ({ status, stderr } = pipec(['run', 'pipelines/windowing.yaml', ...params.flatMap((param) => ['--param', param]), '--output-path', directory], { cwd: REPO_ROOT }));
  });

  it('runs to the end of the file with nothing bad, late or dropped', () => {
    expect(stderr).toContain(`source orders: ${ORDERS} records`);
    expect(stderr).toContain('0 bad');
    expect(stderr).not.toMatch(/late records|dropped/);
    expect(status).toBe(0);
    expect(read('windowing_late_orders.jsonl')).toEqual([]);
  });

  it('tumbling_minutes sets the tumbling windows', () => {
    const size = TUMBLING_MINUTES * MINUTE_MS;
    const expected = new Map<string, Row>();
    for (const [key, group] of groupBy(purchases, (order) => `${order.category}@${order.ts - modulo(order.ts, size)}`)) {
      const start = Number(key.split('@')[1]);
      expected.set(key, {
        category: group[0].category,
        window_start: start,
        window_end: start + size,
        revenue: group.reduce((sum, order) => sum + value(order), 0),
        orders: group.length,
        buyers: new Set(group.map((order) => order.user_id)).size,
      });
    }
    expectRows(read('windowing_tumbling.jsonl'), expected, (row) => `${row.category}@${row.window_start}`, ['revenue']);
  });

  it('sliding_minutes sets the sliding windows, one starting every minute', () => {
    const size = SLIDING_MINUTES * MINUTE_MS;
    const byWindow = new Map<string, Order[]>();
    for (const order of purchases) {
      const last = order.ts - modulo(order.ts, MINUTE_MS);
      for (let start = last - size + MINUTE_MS; start <= last; start += MINUTE_MS) {
        const key = `${order.category}@${start}`;
        let group = byWindow.get(key);
        if (!group) byWindow.set(key, (group = []));
        group.push(order);
      }
    }
    const expected = new Map<string, Row>();
    for (const [key, group] of byWindow) {
      const start = Number(key.split('@')[1]);
      const revenue = group.reduce((sum, order) => sum + value(order), 0);
      expected.set(key, {
        category: group[0].category,
        window_start: start,
        window_end: start + size,
        revenue,
        orders: group.length,
        avg_order_value: revenue / group.length,
      });
    }
    expectRows(read('windowing_sliding.jsonl'), expected, (row) => `${row.category}@${row.window_start}`, ['revenue', 'avg_order_value']);
  });

  it('sessions: per user, orders of any kind until 5 minutes pass without one', () => {
    const gap = 5 * MINUTE_MS;
    const expected = new Map<string, Row>();
    for (const [user, group] of groupBy(orders, (order) => order.user_id)) {
      const sorted = [...group].sort((a, b) => a.ts - b.ts);
      let session: Order[] = [];
      const close = () => {
        expected.set(`${user}@${session[0].ts}`, {
          user_id: user,
          window_start: session[0].ts,
          window_end: session[session.length - 1].ts + gap,
          events: session.length,
          purchases: session.filter((order) => order.event_type === 'purchase').length,
          first_seen: session[0].ts,
          last_seen: session[session.length - 1].ts,
        });
      };
      for (const order of sorted) {
        if (session.length > 0 && order.ts - session[session.length - 1].ts > gap) {
          close();
          session = [];
        }
        session.push(order);
      }
      close();
    }
    const rows = read('windowing_sessions.jsonl');
    expectRows(rows, expected, (row) => `${row.user_id}@${row.window_start}`, []);
    expect(rows.some((row) => (row.events as number) > 1)).toBe(true);
  });

  it('global window: every 5th purchase of a user, the last 10', () => {
    const byUser = groupBy(read('windowing_global.jsonl'), (row) => row.user_id as string);
    let fired = 0;
    for (const [user, group] of groupBy(purchases, (order) => order.user_id)) {
      const want: Row[] = [];
      for (let arrived = 5; arrived <= group.length; arrived += 5) {
        const kept = group.slice(Math.max(0, arrived - 10), arrived);
        const times = kept.map((order) => order.ts);
        want.push({
          user_id: user,
          window_start: Math.min(...times),
          window_end: Math.max(...times) + 1,
          purchases: kept.length,
          spend: kept.reduce((sum, order) => sum + value(order), 0),
          products: [...kept].sort((a, b) => a.ts - b.ts).map((order) => order.product_id),
        });
      }
      const rows = byUser.get(user) ?? [];
      expect(rows.length, user).toBe(want.length);
      rows.forEach((row, index) => expectRow(row, want[index], ['spend']));
      fired += want.length;
    }
    expect(fired).toBeGreaterThan(0);
    expect([...byUser.values()].reduce((sum, rows) => sum + rows.length, 0)).toBe(fired);
  });

  it('hour rows rolled up from minute rows', () => {
    const expected = new Map<string, Row>();
    for (const [key, group] of groupBy(purchases, (order) => `${order.category}@${order.ts - modulo(order.ts, HOUR_MS)}`)) {
      const start = Number(key.split('@')[1]);
      const perMinute = groupBy(group, (order) => String(order.ts - modulo(order.ts, MINUTE_MS)));
      expected.set(key, {
        category: group[0].category,
        window_start: start,
        window_end: start + HOUR_MS,
        revenue: group.reduce((sum, order) => sum + value(order), 0),
        orders: group.length,
        busiest_minute_orders: Math.max(...[...perMinute.values()].map((minute) => minute.length)),
        minutes: perMinute.size,
      });
    }
    const rows = read('windowing_hourly.jsonl');
    expectRows(rows, expected, (row) => `${row.category}@${row.window_start}`, ['revenue']);
    expect(new Set(rows.map((row) => row.window_start)).size).toBe(2);
  });
});
