// Which exchanges the generated module hands a window step to (Task.exchange's third argument), so that records for a
// task on another worker thread cross folded into that window's accumulators: only a tumbling window that is the one
// consumer of the exchange's records.

import { describe, expect, it } from 'vitest';
import { generatedCode, SHOP_ORDERS } from '../../support/compile.ts';

function generated(steps: string, sinks = ''): string {
  return generatedCode(`${SHOP_ORDERS}steps:
${steps}sinks:
  out: { from: revenue, connector: stdout }
${sinks}`);
}

const REVENUE = 'window: { tumbling: 1m }, aggregate: { total: sum(price) } }';

describe('pre-aggregating exchanges', () => {
  it('hand a key_by step\'s exchange the tumbling window that is its one consumer', () => {
    const code = generated(`  - { id: by_category, from: orders, key_by: category }\n  - { id: revenue, from: by_category, ${REVENUE}\n`);
    expect(code).toContain("const byCategory = task.exchange<string, Order>('by_category', onByCategory, revenue);");
  });

  it('hand a tumbling window that keys its input (or reads the whole stream) its own exchange\'s records', () => {
    expect(generated(`  - { id: revenue, from: orders, key_by: category, ${REVENUE}\n`)).toContain(
      "const revenueInput = task.exchange<string, Order>('revenue', (key, record, time) => revenue.process(key, record, time), revenue);",
    );
    expect(generated(`  - { id: revenue, from: orders, ${REVENUE}\n`)).toContain(
      "task.exchange<string, Order>('revenue', (key, record, time) => revenue.process(key, record, time), revenue);",
    );
  });

  it('hand none where the keyed records go elsewhere too, or to a window that needs them whole', () => {
    const shared = generated(
      `  - { id: by_category, from: orders, key_by: category }\n  - { id: revenue, from: by_category, ${REVENUE}\n`,
      '  keyed: { from: by_category, connector: stdout }\n',
    );
    expect(shared).toContain("const byCategory = task.exchange<string, Order>('by_category', onByCategory);");
    const sliding = generated(`  - { id: revenue, from: orders, key_by: category, window: { sliding: { size: 1m, slide: 10s } }, aggregate: { total: sum(price) } }\n`);
    expect(sliding).toContain("const revenueInput = task.exchange<string, Order>('revenue', (key, record, time) => revenue.process(key, record, time));");
  });
});
