// Orders for the Kafka end-to-end tests: generated in event-time order, produced round robin over partitions, the
// spec that windows them per category, and the rows it must write, computed here from the orders themselves.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { produce, type KafkaBroker, type OutgoingMessage } from './kafka.ts';

const CATEGORIES = ['books', 'games', 'music', 'garden'];
export const START = Date.UTC(2024, 4, 1, 10, 0, 0);

export interface Order {
  order_id: string;
  category: string;
  price: number;
  quantity: number;
  event_type: string;
  ts: number;
}

/** Orders in event-time order, `perSecond` a second from 10:00:00 on; every fifth a view. Fields in the type's order. */
export function orders(count: number, perSecond: number): Order[] {
  return Array.from({ length: count }, (_, i) => ({
    order_id: `o${i}`,
    category: CATEGORIES[(i * 7) % CATEGORIES.length],
    price: (i % 13) + 0.5,
    quantity: (i % 4) + 1,
    event_type: i % 5 === 4 ? 'view' : 'purchase',
    ts: START + Math.floor((i * 1000) / perSecond),
  }));
}

/** Produces the orders round robin over `partitions`, keyed by order id, in requests of at most 5000. */
export async function produceOrders(broker: KafkaBroker, topic: string, list: readonly Order[], partitions: number): Promise<void> {
  const messages: OutgoingMessage[] = list.map((order, i) => ({ key: order.order_id, value: JSON.stringify(order), partition: i % partitions }));
  for (let i = 0; i < messages.length; i += 5000) await produce(broker, topic, messages.slice(i, i + 5000));
}

/** Per category and minute of purchases: orders, units, revenue and the partitions they came from. */
export function expectedWindows(list: readonly Order[], partitions: number): string[] {
  const rows = new Map<string, { category: string; window_start: number; orders: number; units: number; revenue: number; partitions: Set<number> }>();
  list.forEach((order, i) => {
    if (order.event_type !== 'purchase') return;
    const windowStart = order.ts - (order.ts % 60_000);
    const key = `${order.category}@${windowStart}`;
    let row = rows.get(key);
    if (row === undefined) rows.set(key, (row = { category: order.category, window_start: windowStart, orders: 0, units: 0, revenue: 0, partitions: new Set() }));
    row.orders++;
    row.units += order.quantity;
    row.revenue += order.price * order.quantity;
    row.partitions.add(i % partitions);
  });
  return [...rows.values()].map((row) =>
    JSON.stringify({
      category: row.category,
      window_start: row.window_start,
      window_end: row.window_start + 60_000,
      orders: row.orders,
      units: row.units,
      revenue: row.revenue,
      partitions: row.partitions.size,
    }),
  ).sort();
}

/**
 * A pipeline `name` reading the topic `input` (bounded unless `unbounded`), windowing purchases per category and
 * minute into the topic `<name>-windows`, with more source options, sinks and checkpoints as given.
 */
export function spec(name: string, input: string, extraSource = '', sinks = '', checkpoints = '', unbounded = false): string {
  return `pipeline: ${name}
types:
  Order: { order_id: string, category: string, price: float, quantity: int, event_type: string, ts: timestamp, source_partition: int, order_key: string? }
sources:
  orders:
    connector: kafka
    type: Order
    event_time: { field: ts, max_out_of_orderness: 2s }
    kafka:
      topics: ${input}
      group: ${name}
      start_offset: earliest
      bounded: ${!unbounded}
      metadata: { source_partition: partition, order_key: key }
${extraSource}steps:
  - id: purchases
    from: orders
    filter: event_type == 'purchase' && order_key == order_id
  - id: per_category
    from: purchases
    key_by: category
    window: { tumbling: 1m }
    aggregate: { orders: count(), units: sum(quantity), revenue: sum(price * quantity), partitions: count_distinct(source_partition) }
sinks:
  windows_out:
    from: per_category
    connector: kafka
    kafka: { topic: ${name}-windows, key: category, headers: { window: 'to_string(window_start)', pipeline: "'${name}'" } }
${sinks}${checkpoints}`;
}

export function workspace(name: string, text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-kafka-'));
  writeFileSync(join(directory, `${name}.yaml`), text);
  return directory;
}

export const values = (messages: readonly { value: string | null }[]) => messages.map((message) => message.value!).sort();
