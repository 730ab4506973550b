// Tests of the comparison behind `pipec test`: multisets by default, order with `ordered`, floats within a relative
// 1e-9, integers exactly, expected instants against epoch milliseconds, and the pairing of near records in a diff.

import { describe, expect, it } from 'vitest';
import { compareRecords, nearPairs, valuesMatch } from '../../../compiler/cli/spec-tests/compare.ts';

describe('valuesMatch', () => {
  it('compares integers exactly', () => {
    expect(valuesMatch(3, 3)).toBe(true);
    expect(valuesMatch(1714557600000, 1714557600001)).toBe(false);
  });

  it('compares floats within a relative 1e-9', () => {
    expect(valuesMatch(0.3, 0.1 + 0.2)).toBe(true);
    expect(valuesMatch(1e12 + 0.5, 1e12 + 0.5 + 1e-4)).toBe(true); // 1e-4 / 1e12 = 1e-16
    expect(valuesMatch(10.65, 10.65 * (1 + 2e-9))).toBe(false);
    expect(valuesMatch(23.333333333, 70 / 3)).toBe(true); // 3.3e-10 apart, 1.4e-11 relative
    expect(valuesMatch(0.5, 0)).toBe(false);
  });

  it('matches an expected ISO-8601 instant with the epoch milliseconds a sink writes, UTC when it has no zone', () => {
    expect(valuesMatch('2024-05-01T10:00:00Z', 1714557600000)).toBe(true);
    expect(valuesMatch('2024-05-01T10:00:00', 1714557600000)).toBe(true);
    expect(valuesMatch('2024-05-01T12:00:00+02:00', 1714557600000)).toBe(true);
    expect(valuesMatch('2024-05-01T10:00:00.001Z', 1714557600000)).toBe(false);
    // Only date-times stand for numbers: digits in a string stay a string.
    expect(valuesMatch('1714557600000', 1714557600000)).toBe(false);
    expect(valuesMatch(1714557600000, '2024-05-01T10:00:00Z')).toBe(false);
  });

  it('needs the same fields, in any order, and the same kinds of values', () => {
    expect(valuesMatch({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(valuesMatch({ a: 1, coupon: null }, { a: 1 })).toBe(false);
    expect(valuesMatch({ a: 1 }, { a: 1, coupon: null })).toBe(false);
    expect(valuesMatch({ a: null }, { a: 0 })).toBe(false);
    expect(valuesMatch([1, 2], [2, 1])).toBe(false);
    expect(valuesMatch([1], { 0: 1 })).toBe(false);
    expect(valuesMatch(true, 1)).toBe(false);
  });
});

describe('compareRecords', () => {
  const a = { key: 'a', n: 1 };
  const b = { key: 'b', n: 2 };
  const c = { key: 'c', n: 3 };

  it('ignores order by default', () => {
    expect(compareRecords([a, b, c], [c, a, b], false)).toBeUndefined();
  });

  it('compares as multisets: a record expected twice must arrive twice', () => {
    expect(compareRecords([a, a, b], [a, b, b], false)).toEqual({ missing: [a], unexpected: [b] });
    expect(compareRecords([a], [a, a], false)).toEqual({ missing: [], unexpected: [a] });
  });

  it('reports what is missing and what is unexpected, each in its own order', () => {
    const changed = { key: 'b', n: 20 };
    expect(compareRecords([a, b, c], [changed, a], false)).toEqual({ missing: [b, c], unexpected: [changed] });
  });

  it('with ordered, names the first position where the same records arrived in another order', () => {
    expect(compareRecords([a, b, c], [a, b, c], true)).toBeUndefined();
    expect(compareRecords([a, b, c], [a, c, b], true)).toEqual({ missing: [], unexpected: [], misordered: { index: 1, expected: b, actual: c } });
  });

  it('with ordered, reports missing and unexpected records first', () => {
    expect(compareRecords([a, b], [b], true)).toEqual({ missing: [a], unexpected: [] });
  });

  it('pairs records within the float tolerance after the exact matches', () => {
    const sum = { total: 0.1 + 0.2 };
    expect(compareRecords([{ total: 0.3 }, { total: 0.30000000000000004 }], [sum, { total: 0.3 }], false)).toBeUndefined();
  });

  it('an empty expectation demands that nothing arrives', () => {
    expect(compareRecords([], [], false)).toBeUndefined();
    expect(compareRecords([], [a], false)).toEqual({ missing: [], unexpected: [a] });
  });
});

describe('nearPairs', () => {
  it('pairs a missing record with the unexpected one that agrees in most fields, and names the fields that differ', () => {
    const missing = [
      { category: 'games', total: 131, count: 2 },
      { category: 'toys', total: 5, count: 1 },
    ];
    const unexpected = [
      { category: 'books', total: 7, count: 9 },
      { category: 'games', total: 130, count: 2 },
    ];
    expect(nearPairs(missing, unexpected)).toEqual([{ missing: 0, unexpected: 1, fields: ['total'] }]);
  });

  it('uses each unexpected record once and counts a field only one side has as a difference', () => {
    const missing = [
      { id: 1, a: 1, b: 2 },
      { id: 1, a: 1, b: 3 },
    ];
    const unexpected = [{ id: 1, a: 1, c: 2 }];
    expect(nearPairs(missing, unexpected)).toEqual([{ missing: 0, unexpected: 0, fields: ['b', 'c'] }]);
  });
});
