// resolve: the graph IR from a validated spec — names, edges, connectors, windows, and the PC2xx diagnostics.

import { describe, expect, it } from 'vitest';
import { render, resolved } from '../../support/compile.ts';

const HEAD = `pipeline: p
types:
  Order: { order_id: string, user_id: string, category: string, price: float, ts: timestamp }
`;

/** A spec up to its steps: the Order type and a file source `orders`. */
const WITH_ORDERS = `${HEAD}sources:
  orders: { connector: file, path: o.jsonl, type: Order }
`;

describe('resolve', () => {
  it('orders steps after their inputs whatever the spec order', () => {
    const { pipeline, diagnostics } = resolved(`${HEAD}sources:
  orders: { connector: file, path: o.jsonl, type: Order }
steps:
  - { id: c, from: b, filter: price > 3 }
  - { id: b, from: a, filter: price > 2 }
  - { id: a, from: orders, filter: price > 1 }
sinks:
  out: { from: c, connector: stdout }
`);
    expect(render(diagnostics)).toBe('');
    expect(pipeline.steps.map((step) => step.id)).toEqual(['a', 'b', 'c']);
  });

  it('merges the chosen connector block into the options and drops the others', () => {
    const spec = (source: string) => `${HEAD}params:
  source: { type: string, default: ${source} }
sources:
  orders:
    connector: \${params.source}
    type: Order
    generator: { dataset: orders, count: 10 }
    file: { path: orders.jsonl, format: csv }
sinks:
  out: { from: orders, connector: stdout }
`;
    expect(resolved(spec('generator')).pipeline.sources[0]).toMatchObject({ connector: 'generator', options: { dataset: 'orders', count: 10 } });
    const file = resolved(spec('file')).pipeline.sources[0];
    expect(file.connector).toBe('file');
    expect(file.options).toEqual({ path: 'orders.jsonl', format: 'csv' });
  });

  it('reports an option given both flat and in the block (PC212)', () => {
    const { diagnostics } = resolved(`${HEAD}sources:
  orders:
    connector: file
    type: Order
    path: a.jsonl
    file: { path: b.jsonl }
sinks:
  out: { from: orders, connector: stdout }
`);
    expect(render(diagnostics)).toBe('9:13 PC212 `path` is given both beside `connector` and in the `file:` block; keep one');
  });

  it('gives a generator source without a type its dataset type', () => {
    const { pipeline } = resolved(`pipeline: p
sources:
  clicks: { connector: generator, dataset: clicks }
sinks:
  out: { from: clicks, connector: stdout }
`);
    expect(pipeline.sources[0].typeName).toBe('Click');
    expect(pipeline.types.get('Click')?.fields.map((field) => field.name)).toContain('session_id');
  });

  it('reads key_by beside a window as the window key, and converts durations', () => {
    const { pipeline } = resolved(`${HEAD}sources:
  orders: { connector: file, path: o.jsonl, type: Order, event_time: { field: ts, max_out_of_orderness: 1m30s } }
steps:
  - id: revenue
    from: orders
    key_by: [category, user_id]
    window: { sliding: { size: 1h, slide: 5m }, offset: 1m, allowed_lateness: 30s, late_output: late }
    aggregate:
      total: sum(price)
      p90: percentile(price, 0.9)
sinks:
  out: { from: revenue, connector: stdout }
  late_out: { from: late, connector: stdout }
`);
    const step = pipeline.steps[0];
    expect(pipeline.sources[0].eventTime?.maxOutOfOrdernessMs).toBe(90_000);
    expect(step.kind).toBe('window');
    if (step.kind !== 'window') return;
    expect(step.window).toEqual({ kind: 'sliding', sizeMs: 3_600_000, slideMs: 300_000, offsetMs: 60_000 });
    expect(step.keyBy?.fields.map((field) => field.name)).toEqual(['category', 'user_id']);
    expect(step.allowedLatenessMs).toBe(30_000);
    expect(step.lateOutput).toBe('late');
    expect(step.aggregates.map((a) => [a.name, a.fn, a.percentile])).toEqual([['total', 'sum', undefined], ['p90', 'percentile', 0.9]]);
  });

  it('reports operators this version does not run (PC208) at the operator', () => {
    const { diagnostics } = resolved(`${HEAD}sources:
  orders: { connector: file, path: o.jsonl, type: Order }
steps:
  - id: running
    from: orders
    key_by: category
    aggregate: { total: sum(price) }
sinks:
  out: { from: running, connector: stdout }
`);
    expect(render(diagnostics)).toBe('10:5 PC208 a running `aggregate` without `window` is not supported by this version of pipec yet');
  });

  it('warns about outputs no sink reads, including named outputs (PC204)', () => {
    const { diagnostics } = resolved(`${HEAD}sources:
  orders: { connector: file, path: o.jsonl, type: Order, dead_letter: bad }
steps:
  - { id: checked, from: orders, validate: { rules: { positive: price > 0 }, invalid_output: invalid } }
sinks:
  out: { from: checked, connector: stdout }
`);
    expect(diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([
      ['PC204', 'warning', 'the output of `bad` reaches no sink; add a sink with `from: bad` or remove the step'],
      ['PC204', 'warning', 'the output of `invalid` reaches no sink; add a sink with `from: invalid` or remove the step'],
    ]);
  });

  it('files the state of windows and dedupe under their uid, else their id, with the fields a migration resets', () => {
    const { pipeline, diagnostics } = resolved(`${WITH_ORDERS}steps:
  - { id: unique, from: orders, dedupe: { key: order_id, within: 1h } }
  - id: revenue
    from: unique
    uid: revenue-v2
    key_by: category
    window: { tumbling: 1m }
    aggregate: { total: sum(price), orders: count() }
    migrate: { reset: [total] }
sinks:
  out: { from: revenue, connector: stdout }
`);
    expect(render(diagnostics)).toBe('');
    const [unique, revenue] = pipeline.steps;
    expect(unique.kind === 'dedupe' && unique.state).toMatchObject({ uid: 'unique', reset: [] });
    expect(revenue.kind === 'window' && revenue.state).toMatchObject({ uid: 'revenue-v2', reset: ['total'] });
  });

  it('reports a reset field that is not an aggregate field of the step (PC301), and two steps under one uid (PC213)', () => {
    const { diagnostics } = resolved(`${WITH_ORDERS}steps:
  - id: revenue
    from: orders
    uid: hourly
    key_by: category
    window: { tumbling: 1m }
    aggregate: { total: sum(price) }
    migrate: { reset: [totl] }
  - { id: unique, uid: hourly, from: orders, dedupe: { key: order_id, within: 1h } }
  - { id: hourly, from: revenue, window: { tumbling: 1h }, aggregate: { total: sum(total) } }
sinks:
  out: { from: hourly, connector: stdout }
  unique_out: { from: unique, connector: stdout }
`);
    expect(render(diagnostics)).toBe([
      '13:24 PC301 unknown field `totl` in the aggregate fields of step `revenue`; did you mean `total`?',
      '14:24 PC213 step `unique` files its state under uid `hourly`, as step `revenue` does; give one of them another `uid`',
      '15:11 PC213 step `hourly` files its state under uid `hourly`, as step `revenue` does; give one of them another `uid`',
    ].join('\n'));
  });

  it('keeps the checkpoint defaults and says whether the spec declared them; resolves restart with its defaults', () => {
    const spec = (settings: string) => `${WITH_ORDERS}sinks:
  out: { from: orders, connector: stdout }
${settings}`;
    const bare = resolved(spec('')).pipeline;
    expect(bare.checkpoints).toEqual({ declared: false, intervalMs: 10_000, mode: 'exactly_once', retain: 3 });
    expect(bare.restart).toBeUndefined();
    const declared = resolved(spec('checkpoints: { mode: at_least_once }\nrestart: { attempts: 5 }\n')).pipeline;
    expect(declared.checkpoints).toEqual({ declared: true, intervalMs: 10_000, mode: 'at_least_once', retain: 3 });
    expect(declared.restart).toEqual({ attempts: 5, delayMs: 10_000 });
    expect(resolved(spec('restart: { delay: 1m30s }\n')).pipeline.restart).toEqual({ attempts: 3, delayMs: 90_000 });
  });
});
