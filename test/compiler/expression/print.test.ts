// Tests of printExpression: the exact TypeScript printed (precedence, escapes, print forms), and printed code evaluated against sample records.

import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { checkExpression } from '../../../compiler/check/expression.ts';
import { printExpression, printExpressionWithMappings } from '../../../compiler/emit/expression.ts';
import type { RecordType } from '../../../compiler/ir/types.ts';
import * as rt from '../../../runtime/functions.ts';
import { Order, parse } from './fixtures.ts';

const printed = (text: string, scope?: RecordType) => printExpression(parse(text), 'r', scope);

describe('printed text', () => {
  it('prefixes fields with the record variable and prints == as ===', () => {
    expect(printed('price * quantity')).toBe('r.price * r.quantity');
    expect(printExpression(parse('price'), 'order')).toBe('order.price');
    expect(printed("a == 'x'")).toBe("r.a === 'x'");
    expect(printed('a === b')).toBe('r.a === r.b');
    expect(printed('a != b')).toBe('r.a !== r.b');
    expect(printed('a !== b')).toBe('r.a !== r.b');
  });

  it('compares with null loosely, so missing and null are the same', () => {
    expect(printed('a == null')).toBe('r.a == null');
    expect(printed('null != a')).toBe('null != r.a');
  });

  it.each([
    ['(a + b) * c', '(r.a + r.b) * r.c'],
    ['a + (b * c)', 'r.a + r.b * r.c'],
    ['a - (b - c)', 'r.a - (r.b - r.c)'],
    ['(a - b) - c', 'r.a - r.b - r.c'],
    ["a + (b + 'x')", "r.a + (r.b + 'x')"],
    ['a / (b * c)', 'r.a / (r.b * r.c)'],
    ['(a % b) * c', 'r.a % r.b * r.c'],
    ['!(a && b)', '!(r.a && r.b)'],
    ['!a && b', '!r.a && r.b'],
    ['a && (b || c)', 'r.a && (r.b || r.c)'],
    ['(a && b) || c', 'r.a && r.b || r.c'],
    ['(a || b) && c', '(r.a || r.b) && r.c'],
    ['a ?? (b || c)', 'r.a ?? (r.b || r.c)'],
    ['(a ?? b) || c', '(r.a ?? r.b) || r.c'],
    ['(a && b) ?? c', '(r.a && r.b) ?? r.c'],
    ['a ?? b ?? c', 'r.a ?? r.b ?? r.c'],
    ['(a < b) == c', 'r.a < r.b === r.c'],
    ['(a == b) == c', '(r.a === r.b) === r.c'],
    ['-(a + b)', '-(r.a + r.b)'],
    ['- -a', '-(-r.a)'],
    ['-(+a)', '-+r.a'],
    ['!!a', '!!r.a'],
    ['x ? y : z ? w : v', 'r.x ? r.y : r.z ? r.w : r.v'],
    ['(x ? y : z) ? w : v', '(r.x ? r.y : r.z) ? r.w : r.v'],
    ['(x ? y : z) + 1', '(r.x ? r.y : r.z) + 1'],
    ['a ?? b ? c : d', 'r.a ?? r.b ? r.c : r.d'],
    ['x ? [a, b] : c', 'r.x ? [r.a, r.b] : r.c'],
    ['(a + b).c', '(r.a + r.b).c'],
    ['(a ? b : c)[0]', '(r.a ? r.b : r.c)[0]'],
    ['a?.b.c ?? 1', 'r.a?.b.c ?? 1'],
  ])('%s → %s', (text, expected) => {
    expect(printed(text)).toBe(expected);
  });

  it('prints strings single-quoted with escapes, and templates as templates', () => {
    expect(printed('"it\'s"')).toBe("'it\\'s'");
    expect(printed("'a\\\\b\\n\\t'")).toBe("'a\\\\b\\n\\t'");
    expect(printed("'\\u2028\\x01'")).toBe("'\\u2028\\x01'");
    expect(printed('`${a}-${b}`')).toBe('`${r.a}-${r.b}`');
    expect(printed('`a\\`b \\${x} $y`')).toBe('`a\\`b \\${x} $y`');
    expect(printed('`line\\nnext`')).toBe('`line\\nnext`');
  });

  it('prints library calls in their print form', () => {
    expect(printed('lower(trim(name))')).toBe('r.name.trim().toLowerCase()');
    expect(printed('upper(a + b)')).toBe('(r.a + r.b).toUpperCase()');
    expect(printed('len(tags)')).toBe('r.tags.length');
    expect(printed("len('abc')")).toBe("'abc'.length");
    expect(printed('len(5)')).toBe('(5).length');
    expect(printed("starts_with(id, 'A')")).toBe("r.id.startsWith('A')");
    expect(printed("split(s, ',')[1]")).toBe("r.s.split(',')[1]");
    expect(printed('abs(x)')).toBe('Math.abs(r.x)');
    expect(printed('floor(x) + ceil(y)')).toBe('Math.floor(r.x) + Math.ceil(r.y)');
    expect(printed('round(x, 2)')).toBe('rt.round(r.x, 2)');
    expect(printed("date_trunc('hour', ts)")).toBe("rt.date_trunc('hour', r.ts)");
    expect(printed('min(a, b, c)')).toBe('rt.min(rt.min(r.a, r.b), r.c)');
    expect(printed('max(a, b)')).toBe('rt.max(r.a, r.b)');
    expect(printed('coalesce(a, b, c)')).toBe('r.a ?? r.b ?? r.c');
    expect(printed('coalesce(a, b) * 2')).toBe('(r.a ?? r.b) * 2');
    expect(printed('coalesce(a, b || c)')).toBe('r.a ?? (r.b || r.c)');
    expect(printed('x || coalesce(a, b)')).toBe('r.x || (r.a ?? r.b)');
    expect(printed('is_null(a)')).toBe('r.a == null');
    expect(printed('!is_null(a)')).toBe('!(r.a == null)');
    expect(printed('is_null(a) == false')).toBe('(r.a == null) === false');
    expect(printed("concat(a, '-', b)")).toBe('`${r.a}-${r.b}`');
    expect(printed("concat('`', a)")).toBe('`\\`${r.a}`');
  });

  it('prints contains over a list of literals as comparisons, without an array per record', () => {
    expect(printed("contains(['a', 'b'], x)")).toBe("r.x === 'a' || r.x === 'b'");
    expect(printed("contains(['a', 'b'], user.country) && y")).toBe("(r.user.country === 'a' || r.user.country === 'b') && r.y");
    expect(printed("contains(['a'], x) && y")).toBe("r.x === 'a' && r.y");
    expect(printed('contains([], x)')).toBe('false');
    expect(printed("!contains(['a', 'b'], x)")).toBe("!(r.x === 'a' || r.x === 'b')");
    expect(printed("a ?? contains(['a', 'b'], x)")).toBe("r.a ?? (r.x === 'a' || r.x === 'b')");
    expect(printed("contains(['a', 'b'], lower(x))")).toBe("['a', 'b'].includes(r.x.toLowerCase())");
    expect(printed("contains(tags, 'sale')")).toBe("r.tags.includes('sale')");
    expect(printed("contains(name, 'x')")).toBe("r.name.includes('x')");
  });

  it('prints json access through the runtime when the scope says it is json', () => {
    const scope: RecordType = {
      kind: 'record', name: 'Event', fields: [
        { name: 'payload', type: { kind: 'primitive', name: 'json' }, optional: false },
        { name: 'user', type: { kind: 'record', name: 'User', fields: [{ name: 'name', type: { kind: 'primitive', name: 'string' }, optional: false }] }, optional: false },
      ],
    };
    expect(printed('payload.a.b', scope)).toBe("rt.json_member(rt.json_member(r.payload, 'a'), 'b')");
    expect(printed("payload[0]['k']", scope)).toBe("rt.json_member(rt.json_member(r.payload, 0), 'k')");
    expect(printed('user.name', scope)).toBe('r.user.name');
    expect(printed("contains(['x'], payload.kind)", scope)).toBe("['x'].includes(rt.json_member(r.payload, 'kind'))");
  });

  it('turns the undefined of an optional chain or a missing map key into null, where it would be the value', () => {
    expect(printed('a?.b.c')).toBe('r.a?.b.c ?? null');
    expect(printed("a?.b ?? 'x'")).toBe("r.a?.b ?? 'x'");
    expect(printed("x ? a?.b : 'y'")).toBe("(r.x ? r.a?.b : 'y') ?? null");
    expect(printed('coalesce(c, a?.b)')).toBe('r.c ?? r.a?.b ?? null');
    expect(printed("a?.b == 'x'")).toBe("r.a?.b === 'x'");
    const scope: RecordType = {
      kind: 'record', name: 'Item', fields: [{ name: 'attributes', type: { kind: 'map', value: { kind: 'primitive', name: 'string' } }, optional: false }],
    };
    expect(printed('attributes.color', scope)).toBe('r.attributes.color ?? null');
    expect(printed("attributes['size'] ?? 'M'", scope)).toBe("r.attributes['size'] ?? 'M'");
  });

  it('maps the start of each node in the output to its offset in the expression', () => {
    // 'r.price * r.quantity': the product and price start at 0, quantity at 10 (offset 8 in the text).
    expect(printExpressionWithMappings(parse('price * quantity'), 'r').mappings).toEqual([
      { generated: 0, at: 0 },
      { generated: 0, at: 0 },
      { generated: 10, at: 8 },
    ]);
    // '(r.a + r.b) * 2': the sum starts after the '(' at 1 (offset 1), r.b at 7 (offset 5).
    const { text, mappings } = printExpressionWithMappings(parse('(a + b) * 2'), 'r');
    expect(text).toBe('(r.a + r.b) * 2');
    expect(mappings).toEqual([
      { generated: 0, at: 0 },
      { generated: 1, at: 1 },
      { generated: 1, at: 1 },
      { generated: 7, at: 5 },
      { generated: 14, at: 10 },
    ]);
  });
});

/** 2024-03-10 14:35:20.250 UTC, a Sunday. */
const TS = Date.UTC(2024, 2, 10, 14, 35, 20, 250);

const order = {
  order_id: 'A-17',
  first_name: 'Ada',
  last_name: 'Lovelace',
  event_type: 'purchase',
  category: 'Books',
  price: 12.5,
  quantity: 3,
  coupon: null,
  ts: TS,
  // paid_at is missing, as an optional field may be in the data.
  express: true,
  gift: null,
  tags: ['sale', 'new'],
  scores: [4, 2],
  attributes: { color: 'red' },
  payload: { a: { b: 'x' }, items: [{ sku: 'S1' }], n: 3 },
  user: { country: ' us ', age: null },
  referrer: null,
};

/** Checks the expression, prints it, compiles the TypeScript with esbuild and runs it on the record. */
async function evaluate(text: string, record: object = order): Promise<unknown> {
  const expr = parse(text);
  const checked = checkExpression(expr, Order);
  expect(checked.errors).toEqual([]);
  const code = printExpression(expr, 'r', Order);
  const { code: js } = await transform(`const value = (${code});`, { loader: 'ts' });
  return new Function('r', 'rt', `${js}\nreturn value;`)(record, rt);
}

describe('printed code evaluated on a record', () => {
  it.each([
    ["event_type == 'purchase' && quantity > 0", true],
    ['price * quantity', 37.5],
    ['lower(trim(user.country))', 'us'],
    ['`${first_name} ${last_name}`', 'Ada Lovelace'],
    ["coalesce(coupon, 'none')", 'none'],
    ["coalesce(coupon, referrer?.country, 'none')", 'none'],
    ['tags[0]', 'sale'],
    ["price * quantity > 1000 ? 'high' : 'low'", 'low'],
    ['(price + 1) * 2', 27],
    ['price + 1 * 2', 14.5],
    ['quantity - (2 - 1)', 2],
    ['quantity - 2 - 1', 0],
    ['quantity / 2', 1.5],
    ['quantity % 2', 1],
    ["quantity + 1 + 'x'", '4x'],
    ["'x' + (quantity + 1)", 'x4'],
    ["'x' + quantity + 1", 'x31'],
    ['!(quantity > 5)', true],
    ['-(-quantity)', 3],
    ['-(price + 1)', -13.5],
    ['is_null(paid_at)', true],
    ['paid_at == null', true],
    ['coupon != null', false],
    ['is_null(coupon) == true', true],
    ['price > 10 == true', true],
    ["contains(['US', 'CA'], upper(trim(user.country)))", true],
    ["contains(['Books', 'Music'], category)", true],
    ["contains(['Music'], category)", false],
    ["contains(tags, 'new')", true],
    ["contains(order_id, '-1')", true],
    ['len(tags) + len(category)', 7],
    ['payload.a.b', 'x'],
    ['payload.items[0].sku', 'S1'],
    ['payload.missing.deeper', null],
    ['payload.constructor', null],
    ["json_get(payload, 'items.0.sku')", 'S1'],
    ['to_int(payload.n) ?? 0', 3],
    ['attributes.color', 'red'],
    ["attributes['size'] ?? 'M'", 'M'],
    ["date_trunc('hour', ts)", Date.UTC(2024, 2, 10, 14)],
    ["date_trunc('week', ts)", Date.UTC(2024, 2, 4)],
    ['day_of_week(ts)', 7],
    ['hour(ts)', 14],
    ['year(ts) * 100 + month(ts)', 202403],
    ["date_format(ts, 'yyyy-MM-dd HH:mm')", '2024-03-10 14:35'],
    ['ts - 1000 > ts - 2000', true],
    ['min(price, quantity, 2)', 2],
    ['max(price, quantity)', 12.5],
    ["max(category, 'Art')", 'Books'],
    ['round(price / 4, 1)', 3.1],
    ['round(-price)', -13],
    ['abs(-quantity)', 3],
    ['floor(price) + ceil(price)', 25],
    ["concat(first_name, '-', quantity)", 'Ada-3'],
    ['`a\\`b \\${x}`', 'a`b ${x}'],
    ["'it\\'s' + \"\\n\"", "it's\n"],
    ["express ? coupon ?? 'none' : 'x'", 'none'],
    ["(coupon ?? 'a') == 'a' || false", true],
    ['coalesce(gift, express || false)', true],
    ['gift ?? (express && quantity > 5)', false],
    ['substr(order_id, 2)', '17'],
    ["replace(category, 'o', '0')", 'B00ks'],
    ["split('a,b', ',')[1]", 'b'],
    ["len('abc')", 3],
    ["(quantity > 1 ? 'many' : 'one') + '!'", 'many!'],
    ['quantity > 1 ? 1 : quantity > 0 ? 2 : 3', 1],
    ["(quantity > 5 ? true : false) ? 'y' : 'n'", 'n'],
    ["regex_match(order_id, '^[A-Z]-\\\\d+$')", true],
    ["regex_extract(order_id, '-(\\\\d+)')", '17'],
    ['referrer?.age ?? -1', -1],
    ['user.age ?? 21', 21],
    ['[1, 2][1]', 2],
    ['referrer?.country', null],
    ['attributes.size', null],
    ["quantity > 1 ? referrer?.country : 'x'", null],
  ])('%s = %j', async (text, expected) => {
    expect(await evaluate(text)).toEqual(expected);
  });

  it('evaluates the same printed code on another record', async () => {
    const other = { ...order, coupon: 'SAVE10', quantity: 0, referrer: { country: 'FR', age: 40 }, paid_at: TS + 5000 };
    expect(await evaluate("coalesce(coupon, 'none')", other)).toBe('SAVE10');
    expect(await evaluate("event_type == 'purchase' && quantity > 0", other)).toBe(false);
    expect(await evaluate("coalesce(coupon, referrer?.country, 'none')", other)).toBe('SAVE10');
    expect(await evaluate('referrer?.age ?? -1', other)).toBe(40);
    expect(await evaluate('coalesce(paid_at, 0) - ts', other)).toBe(5000);
  });
});
