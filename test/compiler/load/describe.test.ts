// How messages write spec paths and the values found there.

import { describe, expect, it } from 'vitest';
import { describeValue, formatPath } from '../../../compiler/load/index.ts';

describe('formatPath', () => {
  it('writes indexes in brackets and keys after dots', () => {
    expect(formatPath(['steps', 2, 'window', 'tumbling'])).toBe('steps[2].window.tumbling');
    expect(formatPath(['sources', 'postgres-cdc_in', 'tables', 0])).toBe('sources.postgres-cdc_in.tables[0]');
  });

  it('quotes keys that a dot would make ambiguous', () => {
    expect(formatPath(['types', 'a.b', 'c d'])).toBe('types["a.b"]["c d"]');
  });

  it('names the document itself', () => {
    expect(formatPath([])).toBe('(top level)');
  });
});

describe('describeValue', () => {
  it('quotes strings and shortens long ones', () => {
    expect(describeValue('5 minutes')).toBe('"5 minutes"');
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(59)}…"`);
  });

  it('writes other values by kind', () => {
    expect([describeValue(3), describeValue(false), describeValue(null), describeValue([1]), describeValue({ a: 1 })]).toEqual([
      '3',
      'false',
      'nothing',
      'a list',
      'a map',
    ]);
  });
});
