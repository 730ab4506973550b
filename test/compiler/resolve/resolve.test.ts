// resolve: the graph IR from a validated spec — names, edges, connectors, windows, and the PC2xx diagnostics.

import { describe, expect, it } from 'vitest';
import { render, resolved } from '../../support/compile.ts';

const HEAD = `pipeline: p
types:
  Order: { order_id: string, user_id: string, category: string, price: float, ts: timestamp }
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
});
