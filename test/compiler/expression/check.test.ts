// Tests of checkExpression: every typing rule, and the code, offset and message of every error, with did-you-mean suggestions.

import { describe, expect, it } from 'vitest';
import { checkExpression } from '../../../compiler/check/expression.ts';
import { formatMessage } from '../../../compiler/diagnostics/diagnostic.ts';
import { valueTypeToString } from '../../../compiler/ir/functions.ts';
import { Order, parse } from './fixtures.ts';

/** The type of a well-typed expression, as the spec writes it (`string?`). */
function typeOf(text: string): string {
  const checked = checkExpression(parse(text), Order);
  expect(checked.errors.map((e) => formatMessage(e.code, e.args))).toEqual([]);
  return valueTypeToString(checked);
}

/** The errors of an ill-typed expression, with their whole message. */
function errorsOf(text: string): { code: string; at: number; message: string }[] {
  const checked = checkExpression(parse(text), Order);
  return checked.errors.map((e) => ({ code: e.code, at: e.at, message: formatMessage(e.code, e.args) }));
}

/** The one error of an ill-typed expression. */
function errorOf(text: string): { code: string; at: number; message: string } {
  const errors = errorsOf(text);
  expect(errors).toHaveLength(1);
  return errors[0];
}

describe('literals and fields', () => {
  it('types literals', () => {
    expect(typeOf("'x'")).toBe('string');
    expect(typeOf('1')).toBe('int');
    expect(typeOf('1.5')).toBe('float');
    expect(typeOf('1.0')).toBe('float');
    expect(typeOf('true')).toBe('bool');
    expect(typeOf('null')).toBe('null');
  });

  it('types fields from the record type, nullable ones as T?', () => {
    expect(typeOf('price')).toBe('float');
    expect(typeOf('coupon')).toBe('string?');
    expect(typeOf('tags')).toBe('list<string>');
    expect(typeOf('attributes')).toBe('map<string>');
    expect(typeOf('user')).toBe('User');
  });

  it('reports an unknown field with the closest known name', () => {
    expect(errorOf('quantty > 0')).toEqual({
      code: 'PC301', at: 0, message: 'unknown field `quantty` in the record type `Order`; did you mean `quantity`?',
    });
    expect(errorOf('price * qty')).toEqual({ code: 'PC301', at: 8, message: 'unknown field `qty` in the record type `Order`' });
  });

  it('reports globals as unknown fields, since there are none', () => {
    expect(errorOf('Math')).toMatchObject({ code: 'PC301', message: 'unknown field `Math` in the record type `Order`' });
  });
});

describe('member and index access', () => {
  it('reads fields of nested records', () => {
    expect(typeOf('user.country')).toBe('string');
    expect(typeOf('user.age')).toBe('int?');
    expect(typeOf("user['country']")).toBe('string');
  });

  it('reports an unknown nested field at the property, naming the nested type', () => {
    // user.countr: the property starts at 5.
    expect(errorOf('user.countr')).toEqual({
      code: 'PC301', at: 5, message: 'unknown field `countr` in the record type `User`; did you mean `country`?',
    });
    expect(errorOf("user['contry']")).toMatchObject({ code: 'PC301', at: 5 });
  });

  it('requires ?. on a nullable record, and makes the chain nullable', () => {
    expect(errorOf('referrer.country')).toEqual({
      code: 'PC304', at: 0, message: '`referrer` may be null; use `referrer?.country`',
    });
    expect(typeOf('referrer?.country')).toBe('string?');
    expect(typeOf('referrer?.age')).toBe('int?');
    expect(typeOf('user?.country')).toBe('string');
  });

  it('reads map values by name or key as nullable, like a missing key', () => {
    expect(typeOf('attributes.color')).toBe('string?');
    expect(typeOf("attributes['color']")).toBe('string?');
    expect(typeOf('attributes[category]')).toBe('string?');
    expect(errorOf('attributes[0]')).toEqual({ code: 'PC304', at: 11, message: 'a map<string> is indexed by a string, not by int' });
  });

  it('reads list elements as not nullable, as TypeScript does without noUncheckedIndexedAccess', () => {
    expect(typeOf('tags[0]')).toBe('string');
    expect(typeOf('tags[quantity]')).toBe('string');
    expect(errorOf("tags['a']")).toEqual({ code: 'PC304', at: 5, message: 'a list<string> is indexed by an int, not by string' });
    expect(errorOf('tags[coupon]')).toMatchObject({ code: 'PC304', at: 5, message: expect.stringContaining('`coupon` may be null') });
  });

  it('reads json members and elements as nullable json, at any depth', () => {
    expect(typeOf('payload.a')).toBe('json?');
    expect(typeOf('payload.a.b')).toBe('json?');
    expect(typeOf('payload[0]')).toBe('json?');
    expect(typeOf("payload['a'][1]")).toBe('json?');
    expect(errorOf('payload[1.5]')).toMatchObject({ code: 'PC304', at: 8 });
  });

  it('indexes strings by int', () => {
    expect(typeOf('category[0]')).toBe('string');
  });

  it('rejects fields of scalars, pointing at len() for .length', () => {
    expect(errorOf('category.length')).toEqual({
      code: 'PC304', at: 9, message: '`category` is string, which has no field `length`; use `len(category)`',
    });
    expect(errorOf('tags.length')).toMatchObject({ message: '`tags` is list<string>, which has no field `length`; use `len(tags)`' });
    expect(errorOf('quantity.x')).toMatchObject({ code: 'PC304', at: 9, message: '`quantity` is int, which has no field `x`' });
    expect(errorOf('quantity[0]')).toMatchObject({ code: 'PC304', at: 0, message: '`quantity` is int, which cannot be indexed' });
  });
});

describe('arithmetic', () => {
  it.each([
    ['price * quantity', 'float'],
    ['quantity * 2', 'int'],
    ['quantity + quantity', 'int'],
    ['quantity - 1', 'int'],
    ['quantity / 2', 'float'],
    ['quantity % 3', 'int'],
    ['price % 2', 'float'],
    ['price + 1', 'float'],
    ['-price', 'float'],
    ['-quantity', 'int'],
    ['+quantity', 'int'],
    ['ts + 1000', 'timestamp'],
    ['1000 + ts', 'timestamp'],
    ['ts - 1000', 'timestamp'],
    ['ts - ts', 'int'],
    ["category + '-' + quantity", 'string'],
    ["'n=' + price", 'string'],
    ['category + express', 'string'],
  ])('%s is %s', (text, type) => {
    expect(typeOf(text)).toBe(type);
  });

  it('needs numbers, and says which operand is not one', () => {
    expect(errorOf('price * category')).toEqual({ code: 'PC304', at: 8, message: '`*` needs numbers, but `category` is string' });
    expect(errorOf('express - 1')).toEqual({ code: 'PC304', at: 0, message: '`-` needs numbers, but `express` is bool' });
    expect(errorOf('price + express')).toEqual({ code: 'PC304', at: 8, message: '`+` needs numbers (or strings, to join them), but `express` is bool' });
    expect(errorOf('-category')).toEqual({ code: 'PC304', at: 1, message: '`-` needs a number, but `category` is string' });
  });

  it('joins strings only with scalar values', () => {
    expect(errorOf('category + tags')).toEqual({
      code: 'PC304', at: 11, message: '`+` joins a string with string, int, float, bool or timestamp values, but `tags` is list<string>',
    });
  });

  it('keeps timestamps to whole milliseconds and meaningful operations', () => {
    expect(errorOf('ts * 2')).toMatchObject({ code: 'PC304', at: 0, message: expect.stringContaining('a timestamp takes `+ int`') });
    expect(errorOf('ts + ts')).toMatchObject({ code: 'PC304', at: 0 });
    expect(errorOf('1000 - ts')).toMatchObject({ code: 'PC304', at: 0 });
    expect(errorOf('ts + 1.5')).toEqual({
      code: 'PC304', at: 0, message: '`ts + 1.5`: add or subtract an int number of milliseconds to a timestamp (`round(1.5)`)',
    });
  });

  it('rejects nullable operands with the coalesce fix for their type', () => {
    expect(errorOf("coupon + 'x'")).toEqual({ code: 'PC304', at: 0, message: "`coupon` may be null; use `coalesce(coupon, '')` or `coupon ?? ''`" });
    expect(errorOf('paid_at - ts')).toEqual({ code: 'PC304', at: 0, message: '`paid_at` may be null; use `coalesce(paid_at, 0)` or `paid_at ?? 0`' });
    expect(errorOf('price * user.age')).toEqual({ code: 'PC304', at: 8, message: '`user.age` may be null; use `coalesce(user.age, 0)` or `user.age ?? 0`' });
    expect(errorOf('price + null')).toMatchObject({ code: 'PC304', at: 8 });
  });
});

describe('comparisons', () => {
  it('orders two numbers (timestamps included) or two strings', () => {
    expect(typeOf('price > 10')).toBe('bool');
    expect(typeOf('quantity <= price')).toBe('bool');
    expect(typeOf('ts >= 1700000000000')).toBe('bool');
    expect(typeOf("category < 'm'")).toBe('bool');
  });

  it('rejects ordering values of different kinds', () => {
    expect(errorOf('category < 5')).toEqual({
      code: 'PC304', at: 0, message: '`category < 5` compares string with int; `<` needs both numbers or both strings',
    });
    expect(errorOf('express > false')).toMatchObject({ code: 'PC304', at: 0 });
    expect(errorOf("coupon > 'a'")).toMatchObject({ code: 'PC304', at: 0, message: expect.stringContaining('`coupon` may be null') });
    expect(errorOf("ts > '2024-01-01'")).toEqual({
      code: 'PC304', at: 0,
      message: "`ts > '2024-01-01'` compares timestamp with string; `>` needs both numbers or both strings; write the time as epoch milliseconds: 1704067200000 (2024-01-01T00:00:00.000Z)",
    });
    expect(errorOf("'2024-01-01 12:00' == ts").message).toContain('epoch milliseconds: 1704110400000 (2024-01-01T12:00:00.000Z)');
  });

  it('compares with == values of one kind, numbers with numbers, anything with null', () => {
    expect(typeOf("category == 'books'")).toBe('bool');
    expect(typeOf('quantity == 2.5')).toBe('bool');
    expect(typeOf('ts != 0')).toBe('bool');
    expect(typeOf('express == true')).toBe('bool');
    expect(typeOf('coupon == null')).toBe('bool');
    expect(typeOf("coupon == 'SAVE10'")).toBe('bool');
    expect(typeOf('price != null')).toBe('bool');
    expect(typeOf("payload.kind == 'a'")).toBe('bool');
    expect(typeOf('payload.n == 3')).toBe('bool');
  });

  it('rejects == between a string and a number', () => {
    expect(errorOf('category == 5')).toEqual({
      code: 'PC304', at: 0, message: '`category == 5` compares string with int; `==` needs values of one kind',
    });
    expect(errorOf("quantity != '5'")).toMatchObject({ code: 'PC304', at: 0, message: expect.stringContaining('compares int with string') });
  });

  it('rejects == on lists, maps and records, which would compare references', () => {
    expect(errorOf('tags == tags')).toEqual({
      code: 'PC304', at: 0,
      message: '`tags == tags` compares list<string> with list<string>; `==` needs scalar values; lists, maps and records are not compared with `==`',
    });
    expect(errorOf('user != user')).toMatchObject({ code: 'PC304', at: 0 });
  });
});

describe('logic', () => {
  it('combines bools', () => {
    expect(typeOf("express && category == 'books'")).toBe('bool');
    expect(typeOf('express || quantity > 1')).toBe('bool');
    expect(typeOf('!express')).toBe('bool');
    expect(typeOf('!(quantity > 1)')).toBe('bool');
  });

  it('rejects truthiness, with the comparison that says what was meant', () => {
    expect(errorOf('quantity && express')).toEqual({
      code: 'PC304', at: 0, message: '`&&` needs a bool, but `quantity` is int; compare it, e.g. `quantity != 0`',
    });
    expect(errorOf('express || category')).toEqual({
      code: 'PC304', at: 11, message: '`||` needs a bool, but `category` is string; compare it, e.g. `len(category) > 0`',
    });
    expect(errorOf('!quantity')).toEqual({ code: 'PC304', at: 1, message: '`!` needs a bool, but `quantity` is int; compare it, e.g. `quantity != 0`' });
    expect(errorOf('express && payload')).toMatchObject({ code: 'PC304', at: 11, message: '`&&` needs a bool, but `payload` is json' });
  });

  it('rejects a nullable bool, with the fix', () => {
    expect(errorOf('express && gift')).toEqual({ code: 'PC304', at: 11, message: '`gift` may be null; use `coalesce(gift, false)` or `gift ?? false`' });
  });
});

describe('?? and ?:', () => {
  it('?? takes the right side when the left is null', () => {
    expect(typeOf("coupon ?? 'none'")).toBe('string');
    expect(typeOf('coupon ?? null')).toBe('string?');
    expect(typeOf("referrer?.country ?? user.country")).toBe('string');
    expect(typeOf('user.age ?? 0.5')).toBe('float');
  });

  it('?? needs a nullable left side and a right side of its type', () => {
    expect(errorOf('price ?? 0')).toEqual({ code: 'PC304', at: 0, message: '`price` is never null, so `?? 0` has no effect; remove it' });
    expect(errorOf('coupon ?? 5')).toEqual({ code: 'PC304', at: 10, message: '`??` joins values of one type, got string? and int' });
  });

  it('?: joins its branches', () => {
    expect(typeOf("price > 1000 ? 'high' : 'low'")).toBe('string');
    expect(typeOf('express ? 1 : 2.5')).toBe('float');
    expect(typeOf("express ? 'a' : null")).toBe('string?');
    expect(typeOf('express ? null : quantity')).toBe('int?');
    expect(typeOf('express ? coupon : category')).toBe('string?');
    expect(typeOf('express ? tags : []')).toBe('list<string>');
  });

  it('?: needs a bool test and branches of one type', () => {
    expect(errorOf("express ? 'a' : 1")).toEqual({ code: 'PC304', at: 10, message: 'the branches of `?:` have different types: string and int' });
    expect(errorOf('quantity ? 1 : 2')).toEqual({
      code: 'PC304', at: 0, message: 'the condition of `?:` needs a bool, but `quantity` is int; compare it, e.g. `quantity != 0`',
    });
    expect(errorOf('gift ? 1 : 2')).toMatchObject({ code: 'PC304', at: 0, message: expect.stringContaining('`gift` may be null') });
  });
});

describe('template strings and lists', () => {
  it('template strings are strings and take scalar values', () => {
    expect(typeOf('`${category}-${quantity}`')).toBe('string');
    expect(typeOf('`${price} at ${ts} (${express})`')).toBe('string');
    expect(typeOf('`plain`')).toBe('string');
  });

  it('template strings reject nullable and non-scalar values', () => {
    expect(errorOf('`code ${coupon}`')).toEqual({ code: 'PC304', at: 8, message: "`coupon` may be null; use `coalesce(coupon, '')` or `coupon ?? ''`" });
    expect(errorOf('`${tags}`')).toMatchObject({ code: 'PC304', at: 3, message: expect.stringContaining('`tags` is list<string>; a template string takes') });
    expect(errorOf('`${payload}`')).toMatchObject({ message: expect.stringContaining('convert it with `to_string(payload)`') });
  });

  it('list literals hold elements of one type', () => {
    expect(typeOf('[1, 2]')).toBe('list<int>');
    expect(typeOf('[1, 2.5]')).toBe('list<float>');
    expect(typeOf("['a', category]")).toBe('list<string>');
    expect(typeOf('[]')).toBe('list<null>');
    expect(errorOf("['a', 1]")).toMatchObject({ code: 'PC304', at: 6 });
    expect(errorOf("['a', null]")).toEqual({ code: 'PC304', at: 6, message: 'a list cannot hold null' });
  });
});

describe('library calls', () => {
  it.each([
    ['lower(category)', 'string'],
    ['upper(trim(user.country))', 'string'],
    ['len(category)', 'int'],
    ['len(tags)', 'int'],
    ["contains(category, 'x')", 'bool'],
    ["contains(tags, 'sale')", 'bool'],
    ["contains(['US', 'CA'], user.country)", 'bool'],
    ['contains([1, 2], quantity)', 'bool'],
    ["starts_with(order_id, 'A-')", 'bool'],
    ["ends_with(order_id, '-X')", 'bool'],
    ["concat(category, '-', quantity, express)", 'string'],
    ['substr(category, 1)', 'string'],
    ['substr(category, 1, 2)', 'string'],
    ["replace(category, 'a', 'b')", 'string'],
    ["split(category, ',')", 'list<string>'],
    ["regex_match(order_id, '^[A-Z]+-[0-9]+$')", 'bool'],
    ["regex_extract(order_id, '-([0-9]+)')", 'string?'],
    ['abs(quantity)', 'int'],
    ['abs(price)', 'float'],
    ['round(price)', 'int'],
    ['round(price, 2)', 'float'],
    ['floor(price)', 'int'],
    ['ceil(price)', 'int'],
    ['min(price, quantity)', 'float'],
    ['max(quantity, 3, 4)', 'int'],
    ["min(category, 'm')", 'string'],
    ['max(ts, 0)', 'timestamp'],
    ["coalesce(coupon, 'none')", 'string'],
    ['coalesce(coupon, null)', 'string?'],
    ["coalesce(coupon, referrer?.country, 'x')", 'string'],
    ['coalesce(user.age, 0.5)', 'float'],
    ["coalesce(payload.a, 'x')", 'json'],
    ['is_null(coupon)', 'bool'],
    ['is_null(price)', 'bool'],
    ['is_null(null)', 'bool'],
    ["to_int('12')", 'int?'],
    ['to_int(price)', 'int'],
    ['to_int(express)', 'int'],
    ['to_int(coupon)', 'int?'],
    ['to_float(payload.amount)', 'float?'],
    ['to_float(quantity)', 'float'],
    ['to_string(quantity)', 'string'],
    ['to_string(payload)', 'string?'],
    ['to_string(coupon)', 'string?'],
    ['to_timestamp(category)', 'timestamp?'],
    ['to_timestamp(quantity)', 'timestamp'],
    ["json_get(payload, 'a.b')", 'json?'],
    ["json_get(order_id, 'a')", 'json?'],
    ["json_get(payload.inner, 'a')", 'json?'],
    ["date_trunc('day', ts)", 'timestamp'],
    ["date_trunc('week', quantity)", 'timestamp'],
    ['hour(ts)', 'int'],
    ['minute(ts)', 'int'],
    ['day(ts)', 'int'],
    ['month(ts)', 'int'],
    ['year(ts)', 'int'],
    ['day_of_week(ts)', 'int'],
    ["date_format(ts, 'yyyy-MM-dd\\'T\\'HH:mm')", 'string'],
  ])('%s is %s', (text, type) => {
    expect(typeOf(text)).toBe(type);
  });

  it('reports unknown functions with the closest library name', () => {
    expect(errorOf('lowr(category)')).toEqual({ code: 'PC303', at: 0, message: 'unknown function `lowr`; did you mean `lower`?' });
    expect(errorOf('frobnicate(category)')).toEqual({ code: 'PC303', at: 0, message: 'unknown function `frobnicate`' });
  });

  it('explains functions left out on purpose, and aggregates used as functions', () => {
    expect(errorOf('now()')).toEqual({
      code: 'PC303', at: 0,
      message: "unknown function `now`; `now` depends on the wall clock, so a replay or a restore from a checkpoint would compute different results; use the record's event-time field (or `window_end` after a window)",
    });
    expect(errorOf('random() > 0.5').message).toContain('is not deterministic');
    expect(errorOf('if_null(coupon, 1)').message).toBe('unknown function `if_null`; `if_null` is spelled `coalesce(a, b)` (or `a ?? b`)');
    expect(errorOf('sum(price)')).toEqual({
      code: 'PC303', at: 0, message: 'unknown function `sum`; `sum` is an aggregate: use it under `aggregate:` of a step',
    });
  });

  it('checks the number of arguments, showing the signature', () => {
    expect(errorOf('lower()')).toEqual({ code: 'PC305', at: 0, message: '`lower` takes 1 argument, got 0: lower(text: string): string' });
    expect(errorOf('substr(category)')).toEqual({
      code: 'PC305', at: 0, message: '`substr` takes 2 to 3 arguments, got 1: substr(text: string, start: int, length?: int): string',
    });
    expect(errorOf('max(1)')).toMatchObject({ code: 'PC305', message: expect.stringContaining('`max` takes at least 2 arguments, got 1') });
    expect(errorOf('concat()')).toMatchObject({ code: 'PC305', message: expect.stringContaining('takes at least 1 argument') });
  });

  it('checks argument types, at the argument', () => {
    // lower( is 6 characters.
    expect(errorOf('lower(quantity)')).toEqual({ code: 'PC305', at: 6, message: '`lower` takes string as `text`, but `quantity` is int' });
    expect(errorOf('len(quantity)')).toMatchObject({ code: 'PC305', at: 4, message: '`len` takes string or list as `value`, but `quantity` is int' });
    expect(errorOf("date_trunc('day', category)")).toMatchObject({ code: 'PC305', at: 18, message: '`date_trunc` takes timestamp or int as `time`, but `category` is string' });
    expect(errorOf('concat(category, tags)')).toMatchObject({ code: 'PC305', at: 17 });
    expect(errorOf('abs(ts)')).toMatchObject({ code: 'PC305', at: 4 });
  });

  it('rejects nullable arguments where the function does not take null, with the fix', () => {
    expect(errorOf('lower(coupon)')).toEqual({
      code: 'PC305', at: 6, message: "`lower` takes a non-null `text`, but `coupon` may be null: use `coalesce(coupon, '')`",
    });
    expect(errorOf('hour(paid_at)')).toMatchObject({ message: '`hour` takes a non-null `time`, but `paid_at` may be null: use `coalesce(paid_at, 0)`' });
    expect(errorOf('lower(null)')).toMatchObject({ code: 'PC305', at: 6 });
  });

  it('checks arguments against each other by the function\'s rule', () => {
    expect(errorOf('contains(tags, 1)')).toEqual({ code: 'PC305', at: 0, message: '`contains` looks for a string in a list<string>, got int' });
    expect(errorOf('contains(category, 1)')).toMatchObject({ code: 'PC305', message: '`contains` looks for a string in a string, got int' });
    expect(errorOf('min(category, 1)')).toEqual({
      code: 'PC305', at: 0, message: '`min` needs arguments of one kind (all numbers or all strings), got string, int',
    });
    expect(errorOf('coalesce(coupon, 1)')).toMatchObject({ code: 'PC305', message: '`coalesce` needs arguments of one type, got string?, int' });
  });

  it('requires units, patterns and paths as valid string literals', () => {
    expect(errorOf('date_trunc(category, ts)')).toEqual({
      code: 'PC305', at: 11, message: "`date_trunc` takes `unit` as a string literal, like `date_trunc('hour', ts)`",
    });
    expect(errorOf("date_trunc('hours', ts)")).toEqual({
      code: 'PC305', at: 11, message: "`date_trunc` does not know the unit 'hours'; units are second minute hour day week month year",
    });
    expect(errorOf("date_format(ts, 'YYYY-MM-dd')")).toMatchObject({ code: 'PC305', at: 16, message: expect.stringContaining('does not know the pattern letter `Y`') });
    expect(errorOf("date_format(ts, 'yyyy\\'T')")).toMatchObject({ message: '`date_format` has an unclosed quote in its pattern' });
    expect(errorOf("regex_match(category, '(')")).toMatchObject({ code: 'PC305', at: 22, message: expect.stringContaining('has an invalid regular expression') });
    expect(errorOf("json_get(payload, 'a..b')")).toMatchObject({ code: 'PC305', at: 18, message: expect.stringContaining("like 'a.b'") });
    expect(errorOf('json_get(payload, category)')).toMatchObject({ code: 'PC305', at: 18 });
  });
});

describe('error reporting', () => {
  it('reports each error once, where it happens, and not again in the expressions around it', () => {
    expect(errorsOf('lowr(quantty) + 1')).toEqual([
      { code: 'PC301', at: 5, message: 'unknown field `quantty` in the record type `Order`; did you mean `quantity`?' },
      { code: 'PC303', at: 0, message: 'unknown function `lowr`; did you mean `lower`?' },
    ]);
    expect(errorsOf("quantty * category > 0 && express")).toHaveLength(1);
    expect(errorsOf('a + b')).toEqual([
      { code: 'PC301', at: 0, message: 'unknown field `a` in the record type `Order`' },
      { code: 'PC301', at: 4, message: 'unknown field `b` in the record type `Order`' },
    ]);
  });

  it('returns the type of every sub-expression', () => {
    const expr = parse('price * quantity > 10');
    const checked = checkExpression(expr, Order);
    if (expr.kind !== 'binary' || expr.left.kind !== 'binary') throw new Error('unexpected parse');
    expect(valueTypeToString(checked.nodes.get(expr)!)).toBe('bool');
    expect(valueTypeToString(checked.nodes.get(expr.left)!)).toBe('float');
    expect(valueTypeToString(checked.nodes.get(expr.left.right)!)).toBe('int');
  });
});

describe('coalesce', () => {
  it('like ??, needs every argument but the last to be nullable', () => {
    expect(errorOf("coalesce(coupon, category, 'x')")).toEqual({
      code: 'PC305', at: 0, message: '`coalesce` argument 2 is never null, so the arguments after it are never used; remove them',
    });
    expect(errorOf('coalesce(price, 0)')).toMatchObject({ code: 'PC305', message: expect.stringContaining('argument 1 is never null') });
  });
});
