// Tests of the function library's data: what the docs show, and that every call printed as `rt.<name>` has a runtime function.

import { describe, expect, it } from 'vitest';
import {
  DATE_TRUNC_UNITS, aggregateFunctions, arity, excludedFunctions, libraryFunctions, signatureText,
} from '../../../compiler/ir/functions.ts';
import * as rt from '../../../runtime/functions.ts';

describe('the function library', () => {
  it('has the functions of DESIGN §4.2 and the ones users need next', () => {
    const required = [
      'lower', 'upper', 'trim', 'len', 'contains', 'starts_with', 'ends_with', 'abs', 'round', 'floor', 'ceil', 'min', 'max', 'coalesce',
      'date_trunc', 'hour', 'day_of_week', 'concat', 'substr', 'replace', 'split', 'to_string', 'to_int', 'to_float', 'minute', 'day',
      'month', 'year', 'date_format', 'regex_match', 'json_get', 'is_null',
    ];
    for (const name of required) expect(libraryFunctions.has(name), name).toBe(true);
  });

  it('leaves out non-deterministic functions and duplicates, saying why', () => {
    for (const name of ['now', 'random', 'uuid', 'if_null']) {
      expect(libraryFunctions.has(name)).toBe(false);
      expect(excludedFunctions.get(name)).toBeTruthy();
    }
    expect(excludedFunctions.get('now')).toContain('wall clock');
  });

  it('has a runtime function for every call it prints as rt.<name>', () => {
    const runtime = rt as Readonly<Record<string, unknown>>;
    for (const fn of libraryFunctions.values()) {
      if (fn.print.kind === 'runtime' || fn.print.kind === 'pairwise') expect(typeof runtime[fn.name], fn.name).toBe('function');
    }
    expect(typeof runtime.json_member).toBe('function');
  });

  it('has a runtime date_trunc for every unit it accepts', () => {
    const t = Date.UTC(2024, 5, 15, 10, 30);
    for (const unit of DATE_TRUNC_UNITS) {
      const truncated = rt.date_trunc(unit, t);
      expect(truncated, unit).toBeLessThanOrEqual(t);
      expect(rt.date_trunc(unit, truncated), unit).toBe(truncated);
    }
  });

  it('shows signatures for the docs and for messages', () => {
    expect(signatureText(libraryFunctions.get('lower')!)).toBe('lower(text: string): string');
    expect(signatureText(libraryFunctions.get('round')!)).toBe('round(value: int | float, digits?: int): int; float with `digits`');
    expect(signatureText(libraryFunctions.get('date_trunc')!)).toBe('date_trunc(unit: string literal, time: timestamp | int): timestamp');
    expect(signatureText(libraryFunctions.get('coalesce')!)).toBe(
      "coalesce(...values: any (nullable)): the arguments' type; nullable only when the last argument is",
    );
    expect(signatureText(libraryFunctions.get('regex_extract')!)).toBe('regex_extract(text: string, pattern: string literal): string?');
  });

  it('knows how many arguments each function takes', () => {
    expect(arity(libraryFunctions.get('lower')!)).toEqual({ minimum: 1, maximum: 1 });
    expect(arity(libraryFunctions.get('substr')!)).toEqual({ minimum: 2, maximum: 3 });
    expect(arity(libraryFunctions.get('coalesce')!)).toEqual({ minimum: 2, maximum: Infinity });
    expect(arity(libraryFunctions.get('concat')!)).toEqual({ minimum: 1, maximum: Infinity });
  });

  it('describes every aggregate of DESIGN §4.4', () => {
    expect(Object.keys(aggregateFunctions).sort()).toEqual(
      ['avg', 'collect', 'count', 'count_distinct', 'first', 'last', 'max', 'min', 'percentile', 'stddev', 'sum'],
    );
  });
});
