// state: the state schema of a checked pipeline, its file, and PC401 where a change breaks existing checkpoints.

import { describe, expect, it } from 'vitest';
import { formatStateSchema, stateCompatibility, stateSchema } from '../../../compiler/state/index.ts';
import type { StateSchema } from '../../../runtime/api.ts';
import { checked, render } from '../../support/compile.ts';

const HEAD = `pipeline: p
types:
  Order: { order_id: string, user_id: string, category: string, price: float, quantity: int, coupon: string?, ts: timestamp }
sources:
  orders: { connector: file, path: o.jsonl, type: Order, event_time: { field: ts } }
steps:
`;

function typedOf(steps: string, sinks: string) {
  const { typed, diagnostics } = checked(`${HEAD}${steps}sinks:\n${sinks}`);
  if (typed === undefined) throw new Error(`spec does not check:\n${render(diagnostics)}`);
  return typed;
}

const EVERY_KIND = typedOf(
  `  - id: unique
    from: orders
    dedupe: { key: [user_id, quantity], within: 1h }
  - id: revenue
    uid: revenue-v2
    from: unique
    key_by: category
    window: { tumbling: 1m }
    aggregate:
      total: sum(price * quantity)
      units: sum(quantity)
      orders: count()
      users: count_distinct(user_id)
      average: avg(price)
      cheapest: min(price)
      first_coupon: first(coupon)
      last_user: last(lower(user_id))
      prices: collect(price)
      spread: stddev(price)
      p95: percentile(price, 95)
    migrate: { reset: [total, average] }
  - { id: sliding, from: unique, window: { sliding: { size: 1h, slide: 5m } }, aggregate: { n: count() } }
  - { id: sessions, from: unique, window: { session: { gap: 30m } }, aggregate: { n: count() } }
  - { id: every, from: unique, window: { global: { trigger: { count: 10 } } }, aggregate: { n: count() } }
  - { id: whole, from: orders, window: { tumbling: 1m }, aggregate: { n: count() } }
`,
  `  a: { from: revenue, connector: stdout }
  b: { from: sliding, connector: stdout }
  c: { from: sessions, connector: stdout }
  d: { from: every, connector: stdout }
  e: { from: whole, connector: stdout }
`,
);

describe('stateSchema', () => {
  it('lists every window and dedupe step by uid, with its operator, key type and aggregate signatures', () => {
    expect(stateSchema(EVERY_KIND)).toEqual({
      every: { step: 'every', operator: 'global', key: '[string,int]', fields: { n: 'count()' } },
      'revenue-v2': {
        step: 'revenue',
        operator: 'tumbling',
        key: 'string',
        fields: {
          average: 'avg(float)',
          cheapest: 'min(float)',
          first_coupon: 'first(string)',
          last_user: 'last(string)',
          orders: 'count()',
          p95: 'percentile(float, 0.95)',
          prices: 'collect(float)',
          spread: 'stddev(float)',
          total: 'sum(float)',
          units: 'sum(int)',
          users: 'count_distinct(string)',
        },
        reset: ['total', 'average'],
      },
      sessions: { step: 'sessions', operator: 'session', key: '[string,int]', fields: { n: 'count()' } },
      sliding: { step: 'sliding', operator: 'sliding', key: '[string,int]', fields: { n: 'count()' } },
      unique: { step: 'unique', operator: 'dedupe', key: '[string,int]', fields: {} },
      whole: { step: 'whole', operator: 'tumbling', key: '[]', fields: { n: 'count()' } },
    });
  });

  it('orders uids and fields, so the same pipeline always gives the same schema', () => {
    const schema = stateSchema(EVERY_KIND);
    expect(Object.keys(schema)).toEqual(['every', 'revenue-v2', 'sessions', 'sliding', 'unique', 'whole']);
    expect(Object.keys(schema['revenue-v2'].fields)).toEqual([...Object.keys(schema['revenue-v2'].fields)].sort());
  });
});

describe('formatStateSchema', () => {
  it('writes pretty JSON with every key sorted and a trailing newline', () => {
    const schema: StateSchema = { b: { step: 'b', operator: 'dedupe', key: 'int', fields: {} }, a: { step: 'a', operator: 'tumbling', key: 'string', fields: { y: 'count()', x: 'sum(int)' }, reset: ['y'] } };
    expect(formatStateSchema(schema)).toBe(`{
  "a": {
    "fields": {
      "x": "sum(int)",
      "y": "count()"
    },
    "key": "string",
    "operator": "tumbling",
    "reset": [
      "y"
    ],
    "step": "a"
  },
  "b": {
    "fields": {},
    "key": "int",
    "operator": "dedupe",
    "step": "b"
  }
}
`);
  });
});

describe('stateCompatibility', () => {
  const spec = (window: string, keyBy: string, aggregate: string, extra = '') =>
    typedOf(
      `  - id: revenue
    from: orders
    key_by: ${keyBy}
    window: ${window}
    aggregate:
      orders: count()
      total: ${aggregate}
${extra}`,
      '  out: { from: revenue, connector: stdout }\n',
    );
  const before = stateSchema(spec('{ tumbling: 1m }', 'category', 'sum(price)'));

  it('has nothing to say when the state stayed the same or only gained fields', () => {
    expect(stateCompatibility(spec('{ tumbling: 5m }', 'category', 'sum(price)'), before)).toEqual([]);
    expect(stateCompatibility(spec('{ tumbling: 1m }', 'category', 'sum(price)', '      biggest: max(price)\n'), before)).toEqual([]);
  });

  it('reports an aggregate whose function changed at its value, offering a new uid or a reset of the field', () => {
    expect(render(stateCompatibility(spec('{ tumbling: 1m }', 'category', 'max(price)'), before))).toBe(
      '13:14 PC401 step `revenue` (state uid `revenue`): aggregate `total` changed from `sum(float)` to `max(float)`, so checkpoints taken before cannot be restored; give the step a new `uid` to start its state afresh, or declare `migrate: { reset: [total] }`',
    );
  });

  it('accepts the change once the field is reset or the step has a new uid', () => {
    expect(stateCompatibility(spec('{ tumbling: 1m }', 'category', 'max(price)', '    migrate: { reset: [total] }\n'), before)).toEqual([]);
    expect(stateCompatibility(spec('{ tumbling: 1m }', 'category', 'max(price)', '    uid: revenue-v2\n'), before)).toEqual([]);
  });

  it('suggests the reset fields the step already has, plus the changed one', () => {
    const earlier = stateSchema(spec('{ tumbling: 1m }', 'category', 'sum(price)', '      biggest: max(price)\n'));
    const changed = spec('{ tumbling: 1m }', 'category', 'avg(price)', '      biggest: min(price)\n    migrate: { reset: [biggest] }\n');
    expect(stateCompatibility(changed, earlier)[0].message).toMatch(/declare `migrate: \{ reset: \[biggest, total\] \}`$/);
  });

  it('reports another window kind at the window and another key type at the key, with a new uid as the only way', () => {
    expect(render(stateCompatibility(spec('{ session: { gap: 5m } }', 'category', 'sum(price)'), before))).toBe(
      '10:5 PC401 step `revenue` (state uid `revenue`): its operator changed from a `tumbling` window to a `session` window, so checkpoints taken before cannot be restored; give the step a new `uid` to start its state afresh',
    );
    expect(render(stateCompatibility(spec('{ tumbling: 1m }', '[category, quantity]', 'max(price)'), before))).toBe(
      '9:14 PC401 step `revenue` (state uid `revenue`): its key changed from `string` to `[string,int]`, so checkpoints taken before cannot be restored; give the step a new `uid` to start its state afresh',
    );
  });
});
