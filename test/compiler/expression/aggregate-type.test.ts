// Tests of parseAggregateCall (aggregate calls of window steps) and parseTypeString (field types of `types:`).

import { describe, expect, it } from 'vitest';
import { parseAggregateCall, parseTypeString } from '../../../compiler/resolve/expression.ts';
import { formatMessage } from '../../../compiler/diagnostics/diagnostic.ts';

const field = (name: string, at: number) => ({ kind: 'field', name, at, end: at + name.length });

describe('parseAggregateCall', () => {
  it('reads the function and its argument, with offsets in the aggregate text', () => {
    // sum(price * quantity): the argument spans 4–20.
    expect(parseAggregateCall('sum(price * quantity)')).toEqual({
      fn: 'sum',
      argument: { kind: 'binary', operator: '*', at: 4, end: 20, left: field('price', 4), right: field('quantity', 12) },
      percentile: undefined,
      errors: [],
    });
  });

  it('reads count() without an argument, and count(x) with one', () => {
    expect(parseAggregateCall('count()')).toEqual({ fn: 'count', argument: undefined, percentile: undefined, errors: [] });
    expect(parseAggregateCall('count(coupon)')).toMatchObject({ fn: 'count', argument: field('coupon', 6), errors: [] });
  });

  it('reads every aggregate of DESIGN §4.4', () => {
    for (const fn of ['sum', 'avg', 'min', 'max', 'count_distinct', 'first', 'last', 'collect', 'stddev']) {
      expect(parseAggregateCall(`${fn}(x)`)).toMatchObject({ fn, argument: field('x', fn.length + 1), errors: [] });
    }
  });

  it('reads the percentile as a fraction, and a number above 1 as a percentage', () => {
    expect(parseAggregateCall('percentile(latency, 0.99)')).toMatchObject({ fn: 'percentile', argument: field('latency', 11), percentile: 0.99, errors: [] });
    expect(parseAggregateCall('percentile(latency, 95)')).toMatchObject({ percentile: 0.95, errors: [] });
    expect(parseAggregateCall('percentile(latency, 1)')).toMatchObject({ percentile: 1, errors: [] });
    expect(parseAggregateCall('percentile(latency, 0)')).toMatchObject({ percentile: 0, errors: [] });
  });

  it('rejects a percentile that is not a number literal in range, at the percentile', () => {
    for (const text of ['percentile(latency, 101)', 'percentile(latency, p)', "percentile(latency, '0.5')", 'percentile(latency, -0.5)']) {
      const parsed = parseAggregateCall(text);
      expect(parsed.fn).toBeUndefined();
      expect(parsed.errors).toHaveLength(1);
      expect(parsed.errors[0]).toMatchObject({ code: 'PC305', at: 20, args: { name: 'percentile' } });
    }
  });

  it('reports an unknown aggregate as PC309 with a suggestion', () => {
    const parsed = parseAggregateCall('summ(price)');
    expect(parsed).toMatchObject({ fn: undefined, argument: undefined });
    expect(parsed.errors).toEqual([{ code: 'PC309', at: 0, args: { name: 'summ', suggestion: '; did you mean `sum`?' } }]);
    expect(formatMessage('PC309', parsed.errors[0].args)).toBe(
      'unknown aggregate `summ`: aggregates are count sum avg min max count_distinct first last collect stddev percentile; did you mean `sum`?',
    );
    expect(parseAggregateCall('median(x)').errors).toEqual([{ code: 'PC309', at: 0, args: { name: 'median', suggestion: '' } }]);
  });

  it('reports a wrong number of arguments as PC305', () => {
    expect(parseAggregateCall('sum()').errors).toEqual([{ code: 'PC305', at: 0, args: { name: 'sum', detail: 'takes 1 argument, got 0' } }]);
    expect(parseAggregateCall('count(a, b)').errors).toEqual([{ code: 'PC305', at: 0, args: { name: 'count', detail: 'takes 0 or 1 arguments, got 2' } }]);
    expect(parseAggregateCall('percentile(x)').errors).toEqual([{ code: 'PC305', at: 0, args: { name: 'percentile', detail: 'takes 2 arguments, got 1' } }]);
  });

  it('rejects nested aggregates, but not the two-argument scalar min and max', () => {
    // avg(sum(x)): sum at 4.
    expect(parseAggregateCall('avg(sum(x))').errors).toEqual([
      { code: 'PC302', at: 4, args: { construct: 'an aggregate inside an aggregate (`sum` inside `avg`)' } },
    ]);
    expect(parseAggregateCall('max(count())').errors[0]).toMatchObject({ code: 'PC302', at: 4 });
    expect(parseAggregateCall('sum(max(price, 0))')).toMatchObject({ fn: 'sum', errors: [] });
  });

  it('rejects anything but one call at the top', () => {
    const parsed = parseAggregateCall('sum(price) / count()');
    expect(parsed.fn).toBeUndefined();
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toMatchObject({ code: 'PC307', at: 0 });
  });

  it('passes on errors of the expression itself', () => {
    expect(parseAggregateCall('sum(x = 1)').errors).toEqual([{ code: 'PC302', at: 6, args: { construct: 'assignment' } }]);
    expect(parseAggregateCall('sum(').errors[0]).toMatchObject({ code: 'PC307' });
  });
});

describe('parseTypeString', () => {
  it('reads primitives', () => {
    for (const name of ['string', 'int', 'float', 'bool', 'timestamp', 'json']) {
      expect(parseTypeString(name)).toEqual({ type: { kind: 'primitive', name }, optional: false });
    }
  });

  it('reads `?` as optional', () => {
    expect(parseTypeString('string?')).toEqual({ type: { kind: 'primitive', name: 'string' }, optional: true });
    expect(parseTypeString(' int ? ')).toEqual({ type: { kind: 'primitive', name: 'int' }, optional: true });
  });

  it('reads nested lists and maps', () => {
    expect(parseTypeString('list<map<int>>?')).toEqual({
      type: { kind: 'list', element: { kind: 'map', value: { kind: 'primitive', name: 'int' } } },
      optional: true,
    });
    expect(parseTypeString('map< list< string > >')).toEqual({
      type: { kind: 'map', value: { kind: 'list', element: { kind: 'primitive', name: 'string' } } },
      optional: false,
    });
  });

  it('leaves named types as record placeholders for the resolver', () => {
    expect(parseTypeString('Address?')).toEqual({ type: { kind: 'record', name: 'Address', fields: [] }, optional: true });
    expect(parseTypeString('list<LineItem>')).toEqual({ type: { kind: 'list', element: { kind: 'record', name: 'LineItem', fields: [] } }, optional: false });
  });

  it('explains malformed types', () => {
    expect(parseTypeString('list<string?>')).toEqual({ optional: false, error: 'element types cannot be optional (`list<string?>`); lists and maps hold no nulls' });
    expect(parseTypeString('map<string, int>')).toEqual({ optional: false, error: 'map keys are always strings: write `map<V>` with the value type only' });
    expect(parseTypeString('list')).toEqual({ optional: false, error: '`list` needs its element type: `list<string>`' });
    expect(parseTypeString('list<int')).toEqual({ optional: false, error: 'missing `>` in `list<int`' });
    expect(parseTypeString('string??')).toEqual({ optional: false, error: 'unexpected "?" after the type `string?`' });
    expect(parseTypeString('')).toMatchObject({ optional: false, error: expect.stringContaining('expected a type') });
  });

  it('names the spec type for names from other languages', () => {
    expect(parseTypeString('integer')).toEqual({ optional: false, error: 'unknown type `integer`; did you mean `int`?' });
    expect(parseTypeString('boolean?')).toEqual({ optional: false, error: 'unknown type `boolean`; did you mean `bool`?' });
  });
});
