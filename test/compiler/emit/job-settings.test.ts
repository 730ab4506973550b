// The job's settings in the generated module: checkpoints and restart as the spec declares them, the state backend,
// and the uid of each stateful operator where it is not the step id.

import { describe, expect, it } from 'vitest';
import { generatedCode, SHOP_ORDERS } from '../../support/compile.ts';

function generated(settings: string, steps = ''): string {
  return generatedCode(`${SHOP_ORDERS}steps:
  - { id: unique, from: orders, dedupe: { key: order_id, within: 1h } }
  - { id: revenue, from: unique, key_by: category, window: { tumbling: 1m }, aggregate: { total: sum(price) } }
${steps}sinks:
  out: { from: revenue, connector: stdout }
${settings}`);
}

describe('job settings', () => {
  it('leave checkpoints and restart out when the spec has none, and name the default backend', () => {
    const code = generated('');
    expect(code).not.toMatch(/checkpoints:|restart:/);
    expect(code).toContain("  state: { backend: 'rocksdb' },\n");
  });

  it('carry the declared checkpoints with their defaults filled in, the backend and restart', () => {
    const code = generated('checkpoints: { interval: 1m }\nstate: { backend: memory }\nrestart: { delay: 30s }\n');
    expect(code).toContain("  checkpoints: { intervalMs: 60000, mode: 'exactly_once', retain: 3 },\n  state: { backend: 'memory' },\n  restart: { attempts: 3, delayMs: 30000 },\n");
  });

  it('carry the state schema, by uid', () => {
    expect(generated('')).toContain(`  stateSchema: {
    revenue: {
      step: 'revenue',
      operator: 'tumbling',
      key: 'string',
      fields: {
        total: 'sum(float)',
      },
    },
    unique: {
      step: 'unique',
      operator: 'dedupe',
      key: 'string',
      fields: {},
    },
  },
`);
  });
});

describe('operator uids', () => {
  it('are given only where the spec sets a uid other than the step id', () => {
    const plain = generated('');
    expect(plain).not.toContain('uid:');
    const code = generated('', '  - { id: hourly, uid: hourly-v2, from: revenue, window: { tumbling: 1h }, aggregate: { total: sum(total) } }\n  - { id: again, uid: again, from: unique, dedupe: { key: order_id, within: 1m } }\n');
    expect(code).toContain("new rt.TumblingWindowOperator<string, Revenue, HourlyAccumulator, Hourly>({\n      id: 'hourly',\n      uid: 'hourly-v2',\n");
    expect(code).toContain("new rt.DedupeOperator({ id: 'again', withinMs: 60000 })");
    expect(code).toContain("    'hourly-v2': {\n      step: 'hourly',");
  });

  it('name the dedupe state too', () => {
    const code = generated('', '  - { id: again, uid: orders-seen, from: unique, dedupe: { key: order_id, within: 1m } }\n');
    expect(code).toContain("new rt.DedupeOperator({ id: 'again', uid: 'orders-seen', withinMs: 60000 })");
  });
});
