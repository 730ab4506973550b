// State compatibility: which changes between two state schemas leave earlier checkpoints readable.
import { describe, expect, it } from 'vitest';
import type { StateSchema, StepStateSchema } from '../../../runtime/api.ts';
import { compareStateSchemas, fieldsToReset } from '../../../runtime/state/schema.ts';

const revenue: StepStateSchema = {
  step: 'revenue',
  operator: 'tumbling',
  key: 'string',
  fields: { total: 'sum(float)', orders: 'count()', users: 'count_distinct(string)', p95: 'percentile(float, 0.95)' },
};

const dedupe: StepStateSchema = { step: 'unique', operator: 'dedupe', key: '[string,int]', fields: {} };

const recorded: StateSchema = { revenue, unique: dedupe };

/** The recorded schema with the `revenue` step changed. */
function withRevenue(change: Partial<StepStateSchema>): StateSchema {
  return { ...recorded, revenue: { ...revenue, ...change } };
}

/** `uid: what changed` for each incompatibility. */
function changes(current: StateSchema): string[] {
  return compareStateSchemas(recorded, current).map((incompatibility) => `${incompatibility.uid}: ${incompatibility.description}`);
}

describe('compareStateSchemas', () => {
  it('accepts the same schema', () => {
    expect(changes(recorded)).toEqual([]);
  });

  it('accepts a step removed, a uid changed and a step added: their state is left behind or starts empty', () => {
    expect(changes({ unique: dedupe })).toEqual([]);
    expect(changes({ 'revenue-v2': { ...revenue, fields: { total: 'max(float)' } }, unique: dedupe })).toEqual([]);
    expect(changes({ ...recorded, sessions: { step: 'sessions', operator: 'session', key: 'string', fields: { events: 'count()' } } })).toEqual([]);
  });

  it('accepts aggregate fields added and removed', () => {
    expect(changes(withRevenue({ fields: { total: 'sum(float)', orders: 'count()', biggest: 'max(float)' } }))).toEqual([]);
  });

  it('accepts a step renamed under the same uid, and a percentile at another P (the values kept are the same)', () => {
    expect(changes(withRevenue({ step: 'revenue_by_category', fields: { ...revenue.fields, p95: 'percentile(float, 0.5)' } }))).toEqual([]);
  });

  it('rejects an aggregate field with another function or argument type, naming the field and both signatures', () => {
    expect(changes(withRevenue({ fields: { ...revenue.fields, total: 'max(float)', users: 'count_distinct(int)' } }))).toEqual([
      'revenue: aggregate `total` changed from `sum(float)` to `max(float)`',
      'revenue: aggregate `users` changed from `count_distinct(string)` to `count_distinct(int)`',
    ]);
    const [incompatibility] = compareStateSchemas(recorded, withRevenue({ fields: { ...revenue.fields, orders: 'count(string)' } }));
    expect(incompatibility).toEqual({
      uid: 'revenue', step: 'revenue', change: 'field', field: 'orders', recorded: 'count()', current: 'count(string)',
      description: 'aggregate `orders` changed from `count()` to `count(string)`',
    });
  });

  it('accepts a changed field that the step resets, and only that one', () => {
    const fields = { ...revenue.fields, total: 'max(float)', orders: 'sum(int)' };
    expect(changes(withRevenue({ fields, reset: ['total', 'orders'] }))).toEqual([]);
    expect(changes(withRevenue({ fields, reset: ['total'] }))).toEqual(['revenue: aggregate `orders` changed from `count()` to `sum(int)`']);
  });

  it('rejects another operator kind or key type, once for the step rather than per field', () => {
    expect(changes(withRevenue({ operator: 'sliding', fields: { total: 'max(float)' } }))).toEqual([
      'revenue: its operator changed from a `tumbling` window to a `sliding` window',
    ]);
    expect(changes(withRevenue({ key: '[string,string]', fields: { total: 'max(float)' } }))).toEqual(['revenue: its key changed from `string` to `[string,string]`']);
    expect(changes({ ...recorded, unique: { ...dedupe, operator: 'global', key: 'string' } })).toEqual([
      'unique: its operator changed from `dedupe` to a `global` window',
      'unique: its key changed from `[string,int]` to `string`',
    ]);
  });

  it('reports in the order of uids, whatever the order of the schemas', () => {
    const current: StateSchema = { zeta: { ...dedupe, step: 'zeta', key: 'int' }, alpha: { ...dedupe, step: 'alpha', key: 'int' } };
    const before: StateSchema = { alpha: { ...dedupe, step: 'alpha' }, zeta: { ...dedupe, step: 'zeta' } };
    expect(compareStateSchemas(before, current).map((incompatibility) => incompatibility.step)).toEqual(['alpha', 'zeta']);
  });
});

describe('fieldsToReset', () => {
  it('resets a field the step resets only where the checkpoint kept it another way', () => {
    const migrated = withRevenue({ fields: { ...revenue.fields, total: 'max(float)', orders: 'count()' }, reset: ['total', 'orders'] });
    // Restoring a checkpoint of the old version: total was a sum, so it starts empty; orders was kept alike.
    expect(fieldsToReset(recorded, migrated)).toEqual(new Map([['revenue', new Set(['total'])]]));
    // Restoring a checkpoint the new version took (after a crash): nothing to reset, nothing lost.
    expect(fieldsToReset(migrated, migrated)).toEqual(new Map());
  });

  it('leaves alone fields new to the step and percentiles at another P', () => {
    const current = withRevenue({ fields: { ...revenue.fields, p95: 'percentile(float, 0.5)', extra: 'sum(int)' }, reset: ['p95', 'extra'] });
    expect(fieldsToReset(recorded, current)).toEqual(new Map());
  });
});
