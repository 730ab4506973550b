// Tests of the column encoding of records that cross worker threads: every value comes back as it went, through a
// real structured clone with the buffers transferred, and records come back with their fields in order.

import { describe, expect, it } from 'vitest';
import { fromColumn, fromColumns, toColumn, toColumns, transferablesOf, type RecordColumns } from '../../../runtime/parallel/columns.ts';
import { seededRandom } from '../../support/random.ts';

/** As a message between threads carries them. */
function acrossThreads(columns: RecordColumns): RecordColumns {
  return structuredClone(columns, { transfer: transferablesOf(columns.columns) });
}

describe('record columns', () => {
  it('gives back every record as it was: numbers of any kind, strings, nulls, nested values, fields in order', () => {
    const random = seededRandom(3);
    const records = Array.from({ length: 500 }, (_, index) => ({
      id: `o${index}`,
      name: index % 7 === 0 ? 'with\u0000nul' : `naïve ☕ ${index}`,
      price: random() * 100,
      count: index - 250,
      special: [NaN, Infinity, -Infinity, -0, 0.1 + 0.2][index % 5],
      coupon: index % 3 === 0 ? null : 'SPRING',
      tags: index % 2 === 0 ? ['a', 'b'] : [],
      when: index % 4 === 0 ? undefined : index,
    }));
    const columns = toColumns(records)!;
    expect(columns.columns.map((column) => column.kind)).toEqual(['strings', 'values', 'numbers', 'numbers', 'numbers', 'values', 'values', 'values']);
    const back = fromColumns(acrossThreads(columns));
    expect(back).toEqual(records);
    for (const [index, record] of back.entries()) {
      expect(Object.keys(record as object)).toEqual(Object.keys(records[index]));
      expect(Object.is((record as { special: number }).special, records[index].special)).toBe(true);
    }
    // The numbers' buffers were moved, not copied.
    expect(columns.columns.filter((column) => column.kind === 'numbers').every((column) => column.kind === 'numbers' && column.numbers.length === 0)).toBe(true);
  });

  it('keeps keys of every kind: strings, numbers, and a mix', () => {
    for (const keys of [['a', 'b', ''], [1, -2.5, 7], ['a', 1, true], []]) {
      const column = structuredClone(toColumn(keys));
      expect(Array.from(fromColumn(column))).toEqual(keys);
    }
  });

  it('leaves records of several shapes alone when asked to check, and values that are not records always', () => {
    const mixed = [{ a: 1, b: 'x' }, { a: 2, c: 'y' }];
    expect(toColumns(mixed, true)).toBeUndefined();
    expect(toColumns([{ a: 1 }, { a: 2, b: 3 }], true)).toBeUndefined();
    expect(toColumns([{ a: 1 }, { a: 2 }], true)).toBeDefined();
    expect(toColumns(['text', 'more'])).toBeUndefined();
    expect(toColumns([[1, 2]])).toBeUndefined();
    expect(toColumns([JSON.parse('{"__proto__": 1}')])).toBeUndefined();
  });
});
