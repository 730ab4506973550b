// Tests of the generator source: determinism, sharding, event time, pacing, checkpoints and resume, and the
// datasets' shapes and mixes.

import { describe, expect, it } from 'vitest';
import type { SourceBatch, SourceReader } from '../../../runtime/api.ts';
import { type Dataset, datasetNames, datasetTypes } from '../../../runtime/connectors/generator/datasets.ts';
import { mix32 } from '../../../runtime/hash.ts';
import { Random } from '../../../runtime/connectors/generator/random.ts';
import { createGeneratorReader } from '../../../runtime/connectors/generator/source.ts';
import { type ReaderFactory, readAcrossCheckpoint, readWhole, type Resume } from './resume.ts';

type Row = Record<string, unknown>;

const START = Date.UTC(2026, 0, 1);

function reader(options: Record<string, unknown>, taskIndex = 0, parallelism = 1, resume?: Resume): SourceReader {
  return createGeneratorReader(options, { taskIndex, parallelism, cwd: '/', resume });
}

/** The readers of every task, resumed from `resume` when given. */
function readers(options: Record<string, unknown>, parallelism: number): ReaderFactory {
  return (resume) => Array.from({ length: parallelism }, (_, taskIndex) => reader(options, taskIndex, parallelism, resume));
}

interface Read {
  readonly records: Row[];
  readonly positions: number[];
  readonly splits: number[];
  readonly batches: SourceBatch[];
}

async function readAll(source: SourceReader, maxRecords = 1000): Promise<Read> {
  await source.open();
  const read: Read = { records: [], positions: [], splits: [], batches: [] };
  for (let batch = await source.poll(maxRecords); batch !== null; batch = await source.poll(maxRecords)) {
    expect(batch.encoding).toBe('values');
    expect(batch.lenient).toBe(false);
    expect(batch.values.length).toBeLessThanOrEqual(maxRecords);
    read.batches.push(batch);
    for (let index = 0; index < batch.values.length; index++) {
      read.records.push(batch.values[index] as Row);
      read.positions.push(batch.positions[index]);
      read.splits.push(batch.split);
    }
  }
  await source.close();
  return read;
}

/** Reference implementations with BigInt arithmetic, written from the published algorithms. */
function referenceMix32(value: number): number {
  const mask = 0xffffffffn;
  let h = BigInt(value >>> 0);
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & mask;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & mask;
  h ^= h >> 16n;
  return Number(h);
}

function referenceMulberry32(seed: number, count: number): number[] {
  const mask = 0xffffffffn;
  let state = BigInt(seed >>> 0);
  const words: number[] = [];
  for (let index = 0; index < count; index++) {
    state = (state + 0x6d2b79f5n) & mask;
    let t = ((state ^ (state >> 15n)) * (state | 1n)) & mask;
    t = (t + (((t ^ (t >> 7n)) * (t | 61n)) & mask)) & mask ^ t;
    words.push(Number((t ^ (t >> 14n)) & mask));
  }
  return words;
}

/** Reads `source` to its end, checking that it never gets ahead of `rate` from its open; returns how many records it gave. */
async function readPaced(source: SourceReader, rate: number): Promise<number> {
  const opened = performance.now();
  await source.open();
  let emitted = 0;
  for (let batch = await source.poll(1000); batch !== null; batch = await source.poll(1000)) {
    emitted += batch.values.length;
    // The reader measured its elapsed time before this point, so the test's elapsed time is at least as long.
    expect(emitted).toBeLessThanOrEqual(((performance.now() - opened) * rate) / 1000);
  }
  return emitted;
}

describe('random numbers', () => {
  it('mix32 is murmur3 fmix32', () => {
    for (const value of [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 123456789, 0xdeadbeef]) {
      expect(mix32(value)).toBe(referenceMix32(value));
    }
  });

  it('Random draws mulberry32 words', () => {
    const random = new Random();
    // The state is private; set it directly to compare with the reference from the same state.
    (random as unknown as { state: number }).state = 42;
    expect(Array.from({ length: 8 }, () => random.nextWord())).toEqual(referenceMulberry32(42, 8));
  });

  it('below() stays in range', () => {
    const random = new Random();
    random.seek(7, 0);
    for (let index = 0; index < 10_000; index++) {
      const value = random.below(6);
      expect(value >= 0 && value < 6 && Number.isInteger(value)).toBe(true);
    }
  });
});

describe('generator source: determinism', () => {
  for (const dataset of datasetNames) {
    it(`${dataset}: the same seed gives the same records`, async () => {
      const first = await readAll(reader({ dataset, seed: 42, count: 3000 }));
      const second = await readAll(reader({ dataset, seed: 42, count: 3000 }), 77);
      expect(first.records).toHaveLength(3000);
      expect(second.records).toEqual(first.records);
      expect(second.positions).toEqual(first.positions);
    });

    it(`${dataset}: different seeds give different records`, async () => {
      const first = await readAll(reader({ dataset, seed: 1, count: 500 }));
      const second = await readAll(reader({ dataset, seed: 2, count: 500 }));
      const differing = first.records.filter((record, index) => JSON.stringify(record) !== JSON.stringify(second.records[index]));
      expect(differing.length).toBeGreaterThan(400);
    });
  }

  it('pins the first orders of seed 1 (the data users see must not change by accident)', async () => {
    // Pinned output, not an oracle: update deliberately, and say so in the changelog, if the generator changes.
    const { records } = await readAll(reader({ dataset: 'orders', count: 3 }));
    expect(records.map((record) => JSON.stringify(record))).toMatchInlineSnapshot(`
      [
        "{"order_id":"o-0","user_id":"u-2599","product_id":"p-0109","category":"electronics","price":131.99,"quantity":4,"event_type":"purchase","ts":1767225600000,"coupon":null}",
        "{"order_id":"o-1","user_id":"u-2186","product_id":"p-0484","category":"beauty","price":14.5,"quantity":2,"event_type":"add_to_cart","ts":1767225600010,"coupon":null}",
        "{"order_id":"o-2","user_id":"u-0398","product_id":"p-0009","category":"books","price":13.97,"quantity":1,"event_type":"purchase","ts":1767225600020,"coupon":null}",
      ]
    `);
  });

  it('positions are the sequence numbers of the records', async () => {
    const { positions, splits } = await readAll(reader({ dataset: 'orders', count: 2500 }), 300);
    expect(positions).toEqual(Array.from({ length: 2500 }, (_, index) => index));
    expect(new Set(splits)).toEqual(new Set([0]));
  });

  it('describes a position by shard and sequence number', () => {
    expect(reader({ dataset: 'clicks' }).describePosition(3, 17)).toBe('generator shard 3 #17');
  });
});

describe('generator source: shards', () => {
  it('shards partition the stream exactly: their union is the unsharded stream', async () => {
    const whole = await readAll(reader({ dataset: 'payments', seed: 9, count: 4001 }));
    const byPosition = new Map<number, Row>();
    const parallelism = 2;
    for (let task = 0; task < parallelism; task++) {
      const source = reader({ dataset: 'payments', seed: 9, count: 4001, shards: 5 }, task, parallelism);
      expect(source.splits).toEqual(task === 0 ? [0, 2, 4] : [1, 3]);
      const part = await readAll(source, 128);
      expect(part.positions.filter((position, index) => byPosition.has(position) || part.splits[index] !== position % 5)).toEqual([]);
      part.positions.forEach((position, index) => byPosition.set(position, part.records[index]));
    }
    expect(byPosition.size).toBe(4001);
    expect(whole.positions.map((position) => byPosition.get(position))).toEqual(whole.records);
  });

  it('a shard reads its records in order, every `shards`-th record of the stream', async () => {
    const { positions } = await readAll(reader({ dataset: 'users', count: 100, shards: 4 }, 3, 4));
    expect(positions).toEqual(Array.from({ length: 25 }, (_, index) => 3 + index * 4));
  });

  it('a task without shards ends at once', async () => {
    const source = reader({ dataset: 'orders', shards: 2 }, 2, 3);
    expect(source.splits).toEqual([]);
    await source.open();
    expect(await source.poll(100)).toBeNull();
  });

  it('shards beyond the count have no records', async () => {
    const source = reader({ dataset: 'orders', count: 2, shards: 4 });
    expect(source.splits).toEqual([0, 1]);
    expect((await readAll(source)).positions.sort()).toEqual([0, 1]);
  });
});

describe('generator source: checkpoints and resume', () => {
  it('a shard\'s position is the sequence number of its next record', async () => {
    const source = reader({ dataset: 'orders', shards: 3 }, 1, 2);
    expect(source.splits).toEqual([1]);
    expect(source.checkpointPosition(1)).toBe(1);
    await source.open();
    expect((await source.poll(4))?.positions).toEqual([1, 4, 7, 10]);
    expect(source.checkpointPosition(1)).toBe(13);
    expect(() => source.checkpointPosition(0)).toThrow(/shard 0 is not read by this reader, which reads shards 1/);
  });

  it('resumed readers give the records an uninterrupted read gives, per shard, wherever the checkpoint falls', async () => {
    const options = { dataset: 'clicks', seed: 3, count: 1003, shards: 5, out_of_order: 0.2 };
    const whole = await readWhole(readers(options, 2), 7);
    expect([...whole.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const pollsBefore of [0, 1, 2, 9, 50, 144, 1000]) {
      const { read } = await readAcrossCheckpoint(readers(options, 2), 7, pollsBefore);
      expect(read, `checkpoint after ${pollsBefore} polls`).toEqual(whole);
    }
  });

  it('positions do not depend on parallelism: a checkpoint taken with 2 tasks resumes with 3', async () => {
    const options = { dataset: 'payments', count: 500, shards: 4 };
    const whole = await readWhole(readers(options, 1), 10);
    for (const pollsBefore of [1, 3, 7]) {
      const { read } = await readAcrossCheckpoint(readers(options, 2), 10, pollsBefore, readers(options, 3));
      expect(read, `checkpoint after ${pollsBefore} polls`).toEqual(whole);
    }
  });

  it('with a rate, a resumed reader paces itself from its own start', async () => {
    const rate = 4000;
    const options = { dataset: 'orders', count: 400, rate };
    const { checkpoint } = await readAcrossCheckpoint(readers(options, 1), 1000, 2);
    expect(await readPaced(reader(options, 0, 1, checkpoint), rate)).toBe(400 - (checkpoint.get(0) as number));
  });

  it('rejects a position that is not a record of its shard, saying what to do', () => {
    const resume = new Map([[1, 6]]);
    expect(() => reader({ dataset: 'orders', shards: 4 }, 1, 2, resume)).toThrow(
      /gives shard 1 the position 6, which is not a record of that shard with 4 shards; restore a checkpoint taken with the same 'shards'/,
    );
    // Task 0 reads shards 0 and 2, so it ignores the position of shard 1.
    expect(reader({ dataset: 'orders', shards: 4 }, 0, 2, resume).splits).toEqual([0, 2]);
  });
});

describe('generator source: event time', () => {
  it('record i has the nominal time start + i * interval', async () => {
    const { records } = await readAll(reader({ dataset: 'clicks', count: 1000, start: '2026-03-01T12:00:00Z', interval: 250 }));
    const start = Date.UTC(2026, 2, 1, 12);
    expect(records.map((record) => record.ts)).toEqual(records.map((_, index) => start + index * 250));
  });

  it('defaults: start 2026-01-01T00:00:00Z, 10 ms apart, in order', async () => {
    const { records } = await readAll(reader({ dataset: 'orders', count: 100 }));
    expect(records.map((record) => record.ts)).toEqual(records.map((_, index) => START + index * 10));
  });

  it('start: now makes a live feed: with a rate, each record is read about when its event time comes', async () => {
    const before = Date.now();
    const { records } = await readAll(reader({ dataset: 'orders', count: 40, rate: 200, start: 'now' }));
    const after = Date.now();
    const times = records.map((record) => record.ts as number);
    // 200 records/s: 5 ms apart in event time, starting when the reader was created.
    expect(times[0]).toBeGreaterThanOrEqual(before);
    expect(times[0]).toBeLessThanOrEqual(after);
    expect(times.map((time) => time - times[0])).toEqual(times.map((_, index) => index * 5));
    // Paced: the 40 records took about 200 ms of wall time, so the last one's event time has come by the end.
    expect(times[39]).toBeLessThanOrEqual(after);
  });

  it('accepts the start as epoch milliseconds', async () => {
    const { records } = await readAll(reader({ dataset: 'inventory', count: 2, start: 1_000, interval: 5 }));
    expect(records.map((record) => record.ts)).toEqual([1_000, 1_005]);
  });

  it('moves about the out_of_order fraction back, by at most max_lateness', async () => {
    const count = 20_000;
    const interval = 10;
    const { records } = await readAll(reader({ dataset: 'orders', count, interval, out_of_order: 0.2, max_lateness: 3000 }));
    const latenesses = records.map((record, index) => START + index * interval - (record.ts as number));
    expect(latenesses.filter((lateness) => !(Number.isInteger(lateness) && lateness >= 0 && lateness <= 3000))).toEqual([]);
    const late = latenesses.filter((lateness) => lateness > 0).length;
    const latest = Math.max(...latenesses);
    expect(late / count).toBeGreaterThan(0.18);
    expect(late / count).toBeLessThan(0.22);
    // Uniform in [0, 3000]: the largest of ~4000 draws is close to the bound.
    expect(latest).toBeGreaterThan(2900);
  });

  it('out-of-order settings change event times only', async () => {
    const ordered = await readAll(reader({ dataset: 'payments', count: 2000 }));
    const shuffled = await readAll(reader({ dataset: 'payments', count: 2000, out_of_order: 0.5 }));
    const withoutTime = (record: Row) => ({ ...record, ts: 0 });
    expect(shuffled.records.map(withoutTime)).toEqual(ordered.records.map(withoutTime));
    expect(shuffled.records.some((record, index) => record.ts !== ordered.records[index].ts)).toBe(true);
  });
});

describe('generator source: reading', () => {
  it('unbounded: never ends, and lets the event loop run between polls', async () => {
    const source = reader({ dataset: 'orders' });
    await source.open();
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    let polls = 0;
    while (!immediateRan && polls < 1000) {
      const batch = await source.poll(10);
      expect(batch).not.toBeNull();
      expect(batch!.values).toHaveLength(10);
      polls++;
    }
    expect(immediateRan).toBe(true);
    await source.close();
  });

  it('with a rate, never gets ahead of it', async () => {
    const rate = 2000;
    expect(await readPaced(reader({ dataset: 'orders', count: 300, rate }), rate)).toBe(300);
  });

  it('with a rate, event time follows the rate unless an interval is given', async () => {
    const { records } = await readAll(reader({ dataset: 'orders', count: 3, rate: 4000 }));
    expect(records.map((record) => record.ts)).toEqual([START, START + 0.25, START + 0.5].map(Math.floor));
    const spaced = await readAll(reader({ dataset: 'orders', count: 3, rate: 4000, interval: 1000 }));
    expect(spaced.records.map((record) => record.ts)).toEqual([START, START + 1000, START + 2000]);
  });

  it('rejects bad options with the option named', () => {
    expect(() => reader({ dataset: 'sales' })).toThrow(/'dataset' must be one of orders, clicks, payments, users, inventory, got "sales"/);
    expect(() => reader({ dataset: 'orders', out_of_order: 1.5 })).toThrow(/'out_of_order'/);
    expect(() => reader({ dataset: 'orders', count: -1 })).toThrow(/'count'/);
    expect(() => reader({ dataset: 'orders', shards: 0 })).toThrow(/'shards'/);
    expect(() => reader({ dataset: 'orders', interval: '5s' })).toThrow(/'interval' must be milliseconds/);
    expect(() => reader({ dataset: 'orders', start: 'soon' })).toThrow(/'start'/);
  });
});

/** Whether a value has the JavaScript representation of a spec type. */
function hasSpecType(value: unknown, specType: string): boolean {
  if (specType.endsWith('?')) return value === null || hasSpecType(value, specType.slice(0, -1));
  switch (specType) {
    case 'string':
      return typeof value === 'string' && value !== '';
    case 'int':
    case 'timestamp':
      return Number.isSafeInteger(value);
    case 'float':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      throw new Error(`no check for ${specType}`);
  }
}

describe('datasets: types', () => {
  for (const dataset of datasetNames) {
    it(`${dataset}: records have exactly the fields of datasetTypes, in order, with matching values`, async () => {
      const types = datasetTypes[dataset];
      const { records } = await readAll(reader({ dataset, count: 5000, out_of_order: 0.1 }));
      for (const record of records) {
        expect(Object.keys(record)).toEqual(Object.keys(types));
        for (const [field, specType] of Object.entries(types)) {
          if (!hasSpecType(record[field], specType)) throw new Error(`${dataset}.${field} = ${JSON.stringify(record[field])} is not a ${specType}`);
        }
      }
      // Optional fields are sometimes null and sometimes not.
      for (const [field, specType] of Object.entries(types)) {
        if (!specType.endsWith('?')) continue;
        expect(records.some((record) => record[field] === null)).toBe(true);
        expect(records.some((record) => record[field] !== null)).toBe(true);
      }
    });
  }

  it('orders have the field list the pipelines rely on', () => {
    expect(datasetTypes.orders).toEqual({
      order_id: 'string', user_id: 'string', product_id: 'string', category: 'string', price: 'float',
      quantity: 'int', event_type: 'string', ts: 'timestamp', coupon: 'string?',
    });
  });
});

function shares(values: readonly unknown[]): Map<unknown, number> {
  const counts = new Map<unknown, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  for (const [value, count] of counts) counts.set(value, count / values.length);
  return counts;
}

async function sample(dataset: Dataset, count: number, seed = 1): Promise<Row[]> {
  return (await readAll(reader({ dataset, count, seed }), 4096)).records;
}

describe('datasets: orders', () => {
  it('has the documented mix of values', async () => {
    const orders = await sample('orders', 50_000);
    const eventTypes = shares(orders.map((order) => order.event_type));
    expect([...eventTypes.keys()].sort()).toEqual(['add_to_cart', 'purchase', 'refund', 'view']);
    expect(eventTypes.get('purchase')).toBeCloseTo(0.6, 1);
    expect(eventTypes.get('view')).toBeCloseTo(0.25, 1);
    expect(eventTypes.get('add_to_cart')).toBeCloseTo(0.1, 1);
    expect(eventTypes.get('refund')).toBeCloseTo(0.05, 1);

    const quantities = shares(orders.map((order) => order.quantity));
    expect([...quantities.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(quantities.get(0)).toBeGreaterThan(0.015);
    expect(quantities.get(0)).toBeLessThan(0.025);

    const coupons = orders.map((order) => order.coupon);
    const withoutCoupon = coupons.filter((coupon) => coupon === null).length / coupons.length;
    expect(withoutCoupon).toBeGreaterThan(0.77);
    expect(withoutCoupon).toBeLessThan(0.83);
    expect(coupons.filter((coupon) => coupon !== null && !/^[A-Z]+\d*$/.test(coupon as string))).toEqual([]);
  });

  it('order ids are unique; user and product ids follow their patterns', async () => {
    const orders = await sample('orders', 20_000);
    expect(new Set(orders.map((order) => order.order_id)).size).toBe(orders.length);
    expect(orders.filter((order) => !/^u-\d{4}$/.test(order.user_id as string) || !/^p-\d{4}$/.test(order.product_id as string))).toEqual([]);
  });

  it('each product has one category and one price, 1.00 to 1999.99 with two decimals', async () => {
    const orders = await sample('orders', 50_000);
    const categories = ['electronics', 'books', 'clothing', 'home', 'sports', 'toys', 'beauty', 'grocery'];
    const products = new Map<unknown, string>();
    const wrong: Row[] = [];
    for (const order of orders) {
      const price = order.price as number;
      const twoDecimals = Number((price * 100).toFixed(0)) / 100 === price;
      const identity = `${order.category} ${price}`;
      if (!categories.includes(order.category as string) || price < 1 || price > 1999.99 || !twoDecimals) wrong.push(order);
      if ((products.get(order.product_id) ?? identity) !== identity) wrong.push(order);
      products.set(order.product_id, identity);
    }
    expect(wrong).toEqual([]);
    expect(products.size).toBeGreaterThan(400);
    expect(products.size).toBeLessThanOrEqual(500);
    expect(new Set(orders.map((order) => order.category)).size).toBe(8);
  });

  it('users and products are skewed: the busiest are far busier than the typical', async () => {
    const orders = await sample('orders', 50_000);
    for (const field of ['user_id', 'product_id']) {
      const counts = [...shares(orders.map((order) => order[field])).values()].sort((a, b) => b - a);
      const median = counts[Math.floor(counts.length / 2)];
      expect(counts[0] / median).toBeGreaterThan(10);
    }
    const users = new Set(orders.map((order) => order.user_id));
    expect(users.size).toBeGreaterThan(3000);
    expect(users.size).toBeLessThanOrEqual(5000);
  });
});

describe('datasets: the others', () => {
  it('clicks come in sessions of one user, device and referrer', async () => {
    const clicks = await sample('clicks', 20_000);
    const sessions = new Map<unknown, Row[]>();
    for (const click of clicks) {
      const session = sessions.get(click.session_id) ?? [];
      session.push(click);
      sessions.set(click.session_id, session);
    }
    const sessionList = [...sessions.values()];
    expect(sessionList.filter((session) => new Set(session.map((click) => `${click.user_id} ${click.device} ${click.referrer}`)).size !== 1)).toEqual([]);
    expect(sessionList.filter((session) => session.length >= 5).length / sessions.size).toBeGreaterThan(0.8);
    const wrong = clicks.filter((click) =>
      (click.product_id !== null ? click.page !== `/product/${click.product_id}` : (click.page as string).startsWith('/product/')) ||
      !['mobile', 'desktop', 'tablet'].includes(click.device as string));
    expect(wrong).toEqual([]);
  });

  it('payments hold fraud-like bursts: one card used abroad many times within a few records', async () => {
    const payments = await sample('payments', 20_000);
    let bursts = 0;
    for (let start = 0; start + 60 <= payments.length; start += 60) {
      const abroad = new Map<unknown, number>();
      for (const payment of payments.slice(start, start + 60)) {
        if (payment.card_country !== payment.ip_country) abroad.set(payment.user_id, (abroad.get(payment.user_id) ?? 0) + 1);
      }
      if ([...abroad.values()].some((count) => count >= 8)) bursts++;
    }
    expect(bursts).toBeGreaterThan(0);
    const abroadShare = payments.filter((payment) => payment.card_country !== payment.ip_country).length / payments.length;
    expect(abroadShare).toBeLessThan(0.15);
    const wrong = payments.filter((payment) =>
      !/^pay-\d+$/.test(payment.payment_id as string) || !['approved', 'declined', 'pending'].includes(payment.status as string) ||
      !((payment.amount as number) > 0) || !/^[A-Z]{3}$/.test(payment.currency as string));
    expect(wrong).toEqual([]);
  });

  it('users keep their name and sign-up time; signed up before the stream starts', async () => {
    const users = await sample('users', 20_000);
    const known = new Map<unknown, string>();
    const wrong: Row[] = [];
    for (const user of users) {
      const identity = `${user.name} ${user.signup_ts}`;
      if ((user.signup_ts as number) >= START || !['free', 'silver', 'gold', 'platinum'].includes(user.tier as string)) wrong.push(user);
      if ((known.get(user.user_id) ?? identity) !== identity) wrong.push(user);
      known.set(user.user_id, identity);
    }
    expect(wrong).toEqual([]);
  });

  it('inventory changes: sales take stock away, restocks add it', async () => {
    const changes = await sample('inventory', 20_000);
    const sales = changes.filter((change) => (change.delta as number) < 0).length / changes.length;
    expect(sales).toBeGreaterThan(0.8);
    expect(changes.some((change) => change.stock === 0)).toBe(true);
    const wrong = changes.filter((change) => (change.stock as number) < 0 || ((change.delta as number) > 10 && (change.stock as number) < (change.delta as number)));
    expect(wrong).toEqual([]);
  });
});
