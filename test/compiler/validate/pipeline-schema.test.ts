// validateSpec against the repository's schemas/pipeline.schema.json: the documented example passes, common mistakes read well.

import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../../compiler/load/index.ts';
import { validateSpec } from '../../../compiler/validate/index.ts';
import { renderDiagnostic } from '../../support/compile.ts';

/** The example of the design brief (§4), parameters inside flow maps included. */
const example = [
  'pipeline: revenue', //                                                                            1
  'description: Revenue per product category in 1-minute tumbling event-time windows.', //           2
  'params:', //                                                                                      3
  '  window: { type: duration, default: 1m }', //                                                    4
  '  input: { type: string, default: pipelines/data/orders.jsonl }', //                              5
  '  output: { type: string, default: output }', //                                                  6
  'types:', //                                                                                       7
  '  Order:', //                                                                                     8
  '    order_id: string', //                                                                         9
  '    user_id: string', //                                                                          10
  '    category: string', //                                                                         11
  '    price: float', //                                                                             12
  '    quantity: int', //                                                                            13
  '    event_type: string', //                                                                       14
  '    ts: timestamp', //                                                                            15
  '    coupon: string?', //                                                                          16
  'sources:', //                                                                                     17
  '  orders:', //                                                                                    18
  '    connector: file', //                                                                          19
  '    path: ${params.input}', //                                                                    20
  '    format: json', //                                                                             21
  '    type: Order', //                                                                              22
  '    event_time: { field: ts, max_out_of_orderness: 5s, idle_timeout: 30s }', //                  23
  'steps:', //                                                                                       24
  '  - id: purchases', //                                                                            25
  '    from: orders', //                                                                             26
  "    filter: event_type == 'purchase' && quantity > 0", //                                         27
  '  - id: revenue', //                                                                              28
  '    from: purchases', //                                                                          29
  '    key_by: category', //                                                                         30
  '    window: { tumbling: ${params.window}, allowed_lateness: 30s, late_output: late_orders }', //  31
  '    aggregate:', //                                                                               32
  '      total_revenue: sum(price * quantity)', //                                                   33
  '      order_count: count()', //                                                                   34
  'sinks:', //                                                                                       35
  '  revenue_out: { from: revenue, connector: file, path: ${params.output}/revenue.jsonl }', //     36
  '  late:        { from: late_orders, connector: file, path: ${params.output}/late.jsonl }', //    37
  'checkpoints: { interval: 10s, mode: exactly_once, retain: 3 }', //                                38
  'state: { backend: rocksdb }', //                                                                  39
  '',
].join('\n');

function validate(text: string): string[] {
  const spec = loadSpec(text, 'pipelines/revenue.yaml');
  expect(spec.diagnostics).toEqual([]);
  return validateSpec(spec).map(renderDiagnostic);
}

function edited(from: string, to: string): string {
  expect(example).toContain(from);
  return example.replace(from, to);
}

describe('the repository schema', () => {
  it('accepts the documented example', () => {
    expect(validate(example)).toEqual([]);
  });

  it('reports a malformed duration', () => {
    expect(validate(edited('tumbling: ${params.window}', 'tumbling: 5 minutes'))).toEqual([
      '31:25 PC105 steps[1].window.tumbling: expected a duration like "5m", got "5 minutes"',
    ]);
  });

  it('reports a misspelt operator with a suggestion', () => {
    expect(validate(edited('    filter: event', '    filtr: event'))).toEqual(['27:5 PC103 steps[0]: unknown property `filtr`; did you mean `filter`?']);
  });

  it('reports a misspelt connector with a suggestion', () => {
    expect(validate(edited('    connector: file', '    connector: fil'))).toEqual([
      '19:16 PC102 sources.orders.connector: expected one of file, generator, kafka, postgres-cdc, got "fil"; did you mean `file`?',
    ]);
  });

  it('reports a missing `from` at the step', () => {
    expect(validate(edited('    from: purchases\n', ''))).toEqual(['28:5 PC104 steps[1]: missing required property `from`']);
  });
});
