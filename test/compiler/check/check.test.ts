// check: the record type and key of every stream, derived from the steps.

import { describe, expect, it } from 'vitest';
import { checked, render } from '../../support/compile.ts';
import { typeToString } from '../../../compiler/ir/types.ts';

const SPEC = `pipeline: p
types:
  Order: { order_id: string, user_id: string, category: string, price: float, quantity: int, tags: list<string>, coupon: string?, ts: timestamp }
sources:
  orders: { connector: file, path: o.jsonl, type: Order, event_time: { field: ts } }
steps:
  - { id: priced, from: orders, set: { total: price * quantity, quantity: quantity + 1 } }
  - { id: slim, from: priced, map: { id: order_id, total: total, cheap: total < 10, code: coupon } }
  - { id: tagged, from: orders, explode: tags }
  - { id: by_user, from: orders, key_by: user_id }
  - { id: cheap_only, from: by_user, filter: price < 10 }
  - id: per_user
    from: cheap_only
    window: { tumbling: 1m }
    aggregate: { n: count(), spend: sum(price * quantity), units: sum(quantity), avg_price: avg(price), first_coupon: first(coupon), prices: collect(price), spread: stddev(price) }
  - { id: both, union: [orders, by_user] }
  - { id: checked, from: orders, validate: { rules: { positive: price > 0 }, invalid_output: invalid } }
sinks:
  a: { from: slim, connector: stdout }
  b: { from: tagged, connector: stdout }
  c: { from: per_user, connector: stdout }
  d: { from: both, connector: stdout }
  e: { from: checked, connector: stdout }
  f: { from: invalid, connector: stdout }
`;

function fields(name: string) {
  const result = checked(SPEC);
  expect(render(result.diagnostics)).toBe('');
  const stream = result.typed!.streams.get(name)!;
  return { fields: stream.type.fields.map((f) => `${f.name}: ${typeToString(f.type)}${f.optional ? '?' : ''}`), key: stream.key, type: stream.type };
}

describe('check', () => {
  it('set replaces fields in place and adds new ones at the end', () => {
    expect(fields('priced').fields).toEqual([
      'order_id: string', 'user_id: string', 'category: string', 'price: float', 'quantity: int', 'tags: list<string>', 'coupon: string?', 'ts: timestamp', 'total: float',
    ]);
  });

  it('map makes a record of exactly its fields, typed by their expressions', () => {
    const slim = fields('slim');
    expect(slim.fields).toEqual(['id: string', 'total: float', 'cheap: bool', 'code: string?']);
    expect(slim.type.name).toBe('Slim');
  });

  it('explode replaces a list field by its element type', () => {
    expect(fields('tagged').fields).toContain('tags: string');
  });

  it('a key set by key_by carries through filters into the window, whose row starts with the key fields', () => {
    expect(fields('cheap_only').key?.spec.fields.map((f) => f.name)).toEqual(['user_id']);
    expect(fields('per_user').fields).toEqual([
      'user_id: string', 'window_start: timestamp', 'window_end: timestamp', 'n: int', 'spend: float', 'units: int', 'avg_price: float',
      'first_coupon: string?', 'prices: list<float>', 'spread: float?',
    ]);
  });

  it('a union is not keyed', () => {
    expect(fields('both').key).toBeUndefined();
  });

  it('an invalid output has the failed rules', () => {
    expect(fields('invalid').fields.at(-1)).toBe('failed_rules: list<string>');
  });

  it('reports a non-numeric aggregate and an event-time field that is not a timestamp', () => {
    expect(() => checked(SPEC.replace('sum(quantity)', 'sum(category)'))).not.toThrow();
    const result = checked(SPEC.replace('sum(quantity)', 'sum(category)'));
    expect(render(result.diagnostics)).toMatch(/PC305 `sum` needs a number, got string/);
  });
});
