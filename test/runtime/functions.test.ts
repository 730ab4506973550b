// Tests of the runtime library functions: text, numbers, conversions, json and UTC dates, against hand-computed values and Date's UTC getters.

import { describe, expect, it } from 'vitest';
import {
  date_format, date_trunc, day, day_of_week, hour, json_get, json_member, max, min, minute, month, regex_extract, regex_match,
  replace, round, substr, to_float, to_int, to_string, to_timestamp, year,
} from '../../runtime/functions.ts';

const DAY = 86_400_000;

describe('text', () => {
  it('substr counts from 0, negative starts from the end, and clamps', () => {
    expect(substr('abcdef', 2)).toBe('cdef');
    expect(substr('abcdef', 2, 3)).toBe('cde');
    expect(substr('abcdef', -2)).toBe('ef');
    expect(substr('abcdef', -10, 2)).toBe('ab');
    expect(substr('abc', 5)).toBe('');
    expect(substr('abc', 1, 0)).toBe('');
    expect(substr('abc', 1, -1)).toBe('');
    expect(substr('abc', 1, 99)).toBe('bc');
  });

  it('replace replaces every occurrence, as plain text', () => {
    expect(replace('a.b.c', '.', '/')).toBe('a/b/c');
    expect(replace('aaa', 'aa', 'b')).toBe('ba');
    expect(replace('price', 'p', '$&$&')).toBe('$&$&rice');
    expect(replace('abc', 'z', 'y')).toBe('abc');
    expect(replace('abc', '', 'y')).toBe('abc');
    expect(replace('abc', 'abc', '')).toBe('');
  });

  it('regex_match finds a match anywhere unless anchored, the same on every call', () => {
    expect(regex_match('A-17', '^[A-Z]-\\d+$')).toBe(true);
    expect(regex_match('xA-17', '^[A-Z]-')).toBe(false);
    expect(regex_match('hello world', 'o w')).toBe(true);
    expect(regex_match('hello world', 'o w')).toBe(true);
  });

  it('regex_extract returns the first group, the whole match without groups, or null', () => {
    expect(regex_extract('id=42;id=7', 'id=(\\d+)')).toBe('42');
    expect(regex_extract('abc123def', '\\d+')).toBe('123');
    expect(regex_extract('abc', '\\d+')).toBe(null);
    expect(regex_extract('b', '(a)?b')).toBe(null);
  });
});

describe('numbers', () => {
  it('round goes half away from zero', () => {
    expect(round(2.5)).toBe(3);
    expect(round(-2.5)).toBe(-3);
    expect(round(2.4)).toBe(2);
    expect(round(-2.6)).toBe(-3);
    expect(Object.is(round(-0.4), 0)).toBe(true);
    expect(round(7)).toBe(7);
  });

  it('round to digits treats a decimal half as written as a half', () => {
    expect(round(1.005, 2)).toBe(1.01);
    expect(round(2.675, 2)).toBe(2.68);
    expect(round(1.2345, 3)).toBe(1.235);
    expect(round(1.2344, 3)).toBe(1.234);
    expect(round(-1.005, 2)).toBe(-1.01);
    expect(round(0.1 + 0.2, 1)).toBe(0.3);
    expect(round(5, 2)).toBe(5);
    expect(round(123.456, 0)).toBe(123);
  });

  it('round to negative digits rounds to tens, hundreds, …', () => {
    expect(round(1234.5678, -2)).toBe(1200);
    expect(round(1250, -2)).toBe(1300);
    expect(round(-1250, -2)).toBe(-1300);
    expect(round(49, -2)).toBe(0);
  });

  it('min and max take numbers or strings', () => {
    expect(min(1, 2)).toBe(1);
    expect(min(2.5, -1)).toBe(-1);
    expect(max(3, 7)).toBe(7);
    expect(min('b', 'a')).toBe('a');
    expect(max('a', 'b')).toBe('b');
  });
});

describe('conversions', () => {
  it('to_string', () => {
    expect(to_string('x')).toBe('x');
    expect(to_string(42)).toBe('42');
    expect(to_string(1.5)).toBe('1.5');
    expect(to_string(true)).toBe('true');
    expect(to_string(null)).toBe(null);
    expect(to_string(undefined)).toBe(null);
    expect(to_string({ a: 1 })).toBe('{"a":1}');
    expect(to_string([1, 'x'])).toBe('[1,"x"]');
  });

  it('to_int truncates toward zero and reads numeric text', () => {
    expect(to_int(3.9)).toBe(3);
    expect(to_int(-3.9)).toBe(-3);
    expect(to_int(true)).toBe(1);
    expect(to_int(false)).toBe(0);
    expect(to_int('42')).toBe(42);
    expect(to_int(' 42 ')).toBe(42);
    expect(to_int('4.7')).toBe(4);
    expect(to_int('abc')).toBe(null);
    expect(to_int('')).toBe(null);
    expect(to_int('  ')).toBe(null);
    expect(to_int('Infinity')).toBe(null);
    expect(to_int(null)).toBe(null);
    expect(to_int({})).toBe(null);
  });

  it('to_float', () => {
    expect(to_float('1.5')).toBe(1.5);
    expect(to_float('1e3')).toBe(1000);
    expect(to_float(false)).toBe(0);
    expect(to_float(2)).toBe(2);
    expect(to_float('x')).toBe(null);
    expect(to_float(undefined)).toBe(null);
  });

  it('to_timestamp reads epoch milliseconds and ISO-8601, UTC unless an offset is given', () => {
    expect(to_timestamp(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(to_timestamp(1.5)).toBe(1);
    expect(to_timestamp('1700000000000')).toBe(1_700_000_000_000);
    expect(to_timestamp('2024-03-10T14:35:20.250Z')).toBe(Date.UTC(2024, 2, 10, 14, 35, 20, 250));
    expect(to_timestamp('2024-03-10')).toBe(Date.UTC(2024, 2, 10));
    expect(to_timestamp('2024-03-10T14:35:20')).toBe(Date.UTC(2024, 2, 10, 14, 35, 20));
    expect(to_timestamp('2024-03-10 14:35')).toBe(Date.UTC(2024, 2, 10, 14, 35));
    expect(to_timestamp('2024-03-10T14:35:20+02:00')).toBe(Date.UTC(2024, 2, 10, 12, 35, 20));
    expect(to_timestamp('2024-03-10T00:30:00-0530')).toBe(Date.UTC(2024, 2, 10, 6, 0));
    expect(to_timestamp('2024-03-10T14:35:20.1Z')).toBe(Date.UTC(2024, 2, 10, 14, 35, 20, 100));
    expect(to_timestamp('2024-03-10T14:35:20.123456Z')).toBe(Date.UTC(2024, 2, 10, 14, 35, 20, 123));
    expect(to_timestamp('1969-12-31T23:00:00Z')).toBe(-3_600_000);
  });

  it('to_timestamp returns null for text that is not a time', () => {
    expect(to_timestamp('2024-02-30')).toBe(null);
    expect(to_timestamp('2023-02-29')).toBe(null);
    expect(to_timestamp('2024-13-01')).toBe(null);
    expect(to_timestamp('2024-01-01T24:00:00Z')).toBe(null);
    expect(to_timestamp('yesterday')).toBe(null);
    expect(to_timestamp(null)).toBe(null);
    expect(to_timestamp(true)).toBe(null);
  });
});

describe('json', () => {
  it('json_member reads own members and elements, else null', () => {
    expect(json_member({ a: 1 }, 'a')).toBe(1);
    expect(json_member({ a: null }, 'a')).toBe(null);
    expect(json_member({}, 'a')).toBe(null);
    expect(json_member({}, 'constructor')).toBe(null);
    expect(json_member({ 0: 'zero' }, 0)).toBe('zero');
    expect(json_member([10, 20], 1)).toBe(20);
    expect(json_member([10, 20], '1')).toBe(20);
    expect(json_member([10], 5)).toBe(null);
    expect(json_member([10], 'length')).toBe(null);
    expect(json_member('text', 'length')).toBe(null);
    expect(json_member(null, 'a')).toBe(null);
    expect(json_member(5, 'a')).toBe(null);
  });

  it('json_get follows a dotted path through objects and arrays', () => {
    const value = { a: { b: [1, { c: 'x' }] }, '0': 'zero' };
    expect(json_get(value, 'a.b.1.c')).toBe('x');
    expect(json_get(value, 'a.b.0')).toBe(1);
    expect(json_get(value, 'a.b')).toEqual([1, { c: 'x' }]);
    expect(json_get(value, '0')).toBe('zero');
    expect(json_get(value, 'a.missing.c')).toBe(null);
    expect(json_get(null, 'a')).toBe(null);
    expect(json_get(undefined, 'a')).toBe(null);
  });

  it('json_get parses JSON text', () => {
    expect(json_get('{"a":{"b":2}}', 'a.b')).toBe(2);
    expect(json_get('{not json', 'a')).toBe(null);
    expect(json_get('[5, 6]', '1')).toBe(6);
  });
});

describe('dates in UTC', () => {
  it('read the parts of known instants', () => {
    // 2024-02-29 23:59:59.999, a Thursday of a leap year.
    const leapDay = Date.UTC(2024, 1, 29, 23, 59, 59, 999);
    expect([year(leapDay), month(leapDay), day(leapDay), hour(leapDay), minute(leapDay), day_of_week(leapDay)]).toEqual([2024, 2, 29, 23, 59, 4]);
    // The epoch was a Thursday; 2000-01-01 a Saturday; 2024-03-10 a Sunday; 2024-03-04 a Monday.
    expect(day_of_week(0)).toBe(4);
    expect(day_of_week(Date.UTC(2000, 0, 1))).toBe(6);
    expect(day_of_week(Date.UTC(2024, 2, 10, 23))).toBe(7);
    expect(day_of_week(Date.UTC(2024, 2, 4))).toBe(1);
    // One hour before the epoch: 1969-12-31 23:00, a Wednesday.
    expect([year(-3_600_000), month(-3_600_000), day(-3_600_000), hour(-3_600_000), day_of_week(-3_600_000)]).toEqual([1969, 12, 31, 23, 3]);
  });

  it('truncate to each unit', () => {
    const t = Date.UTC(2024, 2, 10, 14, 35, 20, 250);
    expect(date_trunc('second', t)).toBe(Date.UTC(2024, 2, 10, 14, 35, 20));
    expect(date_trunc('minute', t)).toBe(Date.UTC(2024, 2, 10, 14, 35));
    expect(date_trunc('hour', t)).toBe(Date.UTC(2024, 2, 10, 14));
    expect(date_trunc('day', t)).toBe(Date.UTC(2024, 2, 10));
    expect(date_trunc('week', t)).toBe(Date.UTC(2024, 2, 4));
    expect(date_trunc('month', t)).toBe(Date.UTC(2024, 2, 1));
    expect(date_trunc('year', t)).toBe(Date.UTC(2024, 0, 1));
    expect(date_trunc('week', Date.UTC(2024, 2, 4))).toBe(Date.UTC(2024, 2, 4));
    expect(date_trunc('hour', -1)).toBe(-3_600_000);
    expect(date_trunc('day', -1)).toBe(-DAY);
    expect(date_trunc('week', 0)).toBe(Date.UTC(1969, 11, 29));
  });

  it('agree with Date\'s UTC getters over three centuries', () => {
    // A deterministic spread of instants from 1900 to 2100, milliseconds included.
    const start = Date.UTC(1900, 0, 1);
    const span = Date.UTC(2100, 0, 1) - start;
    let seed = 12345;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const t = start + Math.floor((seed / 2147483648) * span);
      const date = new Date(t);
      const [y, m, d, weekday] = [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), (date.getUTCDay() + 6) % 7];
      expect([year(t), month(t), day(t), hour(t), minute(t), day_of_week(t)]).toEqual([y, m + 1, d, date.getUTCHours(), date.getUTCMinutes(), weekday + 1]);
      expect(date_trunc('day', t)).toBe(Date.UTC(y, m, d));
      expect(date_trunc('week', t)).toBe(Date.UTC(y, m, d) - weekday * DAY);
      expect(date_trunc('month', t)).toBe(Date.UTC(y, m, 1));
      expect(date_trunc('year', t)).toBe(Date.UTC(y, 0, 1));
      expect(date_format(t, "yyyy-MM-dd'T'HH:mm:ss.SSSX")).toBe(date.toISOString());
    }
  });

  it('format by pattern letters, with quoted text', () => {
    // 2024-03-05 09:07:03.045 was a Tuesday.
    const t = Date.UTC(2024, 2, 5, 9, 7, 3, 45);
    expect(date_format(t, 'yyyy-MM-dd')).toBe('2024-03-05');
    expect(date_format(t, 'yy/M/d')).toBe('24/3/5');
    expect(date_format(t, 'HH:mm:ss.SSS')).toBe('09:07:03.045');
    expect(date_format(t, 'H:m:s')).toBe('9:7:3');
    expect(date_format(t, "yyyy-MM-dd'T'HH:mm:ssX")).toBe('2024-03-05T09:07:03Z');
    expect(date_format(t, 'EEE, d MMM yyyy')).toBe('Tue, 5 Mar 2024');
    expect(date_format(t, 'EEEE d MMMM')).toBe('Tuesday 5 March');
    expect(date_format(t, "'o''clock' H")).toBe("o'clock 9");
    expect(date_format(t, "H 'o''clock'")).toBe("9 o'clock");
    expect(date_format(t, 'S|SS|SSSS')).toBe('0|04|0450');
    expect(date_format(t, 'yyyy-MM-dd')).toBe('2024-03-05');
  });
});
