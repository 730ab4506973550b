// Tests of parseExpression: the IR of every construct the language has, with offsets, and the code and offset of every construct it rejects.

import { describe, expect, it } from 'vitest';
import { parseExpression } from '../../../compiler/resolve/expression.ts';
import type { Expr } from '../../../compiler/ir/expr.ts';
import { parse } from './fixtures.ts';

/** The codes, offsets and arguments of the errors. */
function errors(text: string): { code: string; at: number; args: Record<string, string | number> }[] {
  const result = parseExpression(text);
  expect(result.expr).toBeUndefined();
  return result.errors.map((e) => ({ code: e.code, at: e.at, args: { ...e.args } }));
}

const field = (name: string, at: number): Expr => ({ kind: 'field', name, at, end: at + name.length });

describe('parseExpression: allowed constructs', () => {
  it('reads bare names as fields, with arithmetic by precedence', () => {
    // a + b * c: 'a' 0–1, 'b' 4–5, 'c' 8–9.
    expect(parse('a + b * c')).toEqual({
      kind: 'binary', operator: '+', at: 0, end: 9,
      left: field('a', 0),
      right: { kind: 'binary', operator: '*', at: 4, end: 9, left: field('b', 4), right: field('c', 8) },
    });
  });

  it('unwraps parentheses, keeping the inner offsets', () => {
    // (a + b) * c: the sum spans 1–6 (inside the parentheses), the product 0–11.
    expect(parse('(a + b) * c')).toEqual({
      kind: 'binary', operator: '*', at: 0, end: 11,
      left: { kind: 'binary', operator: '+', at: 1, end: 6, left: field('a', 1), right: field('b', 5) },
      right: field('c', 10),
    });
  });

  it('places offsets past leading white space and before a trailing comment', () => {
    expect(parse('  price')).toEqual(field('price', 2));
    expect(parse('price // the unit price')).toEqual(field('price', 0));
    expect(parse('price /* c */ * 2')).toMatchObject({ kind: 'binary', at: 0, end: 17, right: { at: 16, end: 17 } });
  });

  it('reads number literals, marking those written without a point or exponent as integers', () => {
    expect(parse('42')).toEqual({ kind: 'literal', value: 42, integer: true, at: 0, end: 2 });
    expect(parse('4.0')).toEqual({ kind: 'literal', value: 4, integer: false, at: 0, end: 3 });
    expect(parse('1e3')).toEqual({ kind: 'literal', value: 1000, integer: false, at: 0, end: 3 });
    expect(parse('0x1F')).toEqual({ kind: 'literal', value: 31, integer: true, at: 0, end: 4 });
    expect(parse('1_000')).toEqual({ kind: 'literal', value: 1000, integer: true, at: 0, end: 5 });
  });

  it('reads string, boolean and null literals', () => {
    expect(parse("'it\\'s'")).toEqual({ kind: 'literal', value: "it's", integer: false, at: 0, end: 7 });
    expect(parse('"a\\tb"')).toEqual({ kind: 'literal', value: 'a\tb', integer: false, at: 0, end: 6 });
    expect(parse('true')).toEqual({ kind: 'literal', value: true, integer: false, at: 0, end: 4 });
    expect(parse('false')).toEqual({ kind: 'literal', value: false, integer: false, at: 0, end: 5 });
    expect(parse('null')).toEqual({ kind: 'literal', value: null, integer: false, at: 0, end: 4 });
  });

  it('reads template strings with their cooked text', () => {
    // `${first_name} ${last_name}`: first_name 3–13, last_name 17–26, the whole 0–28.
    expect(parse('`${first_name} ${last_name}`')).toEqual({
      kind: 'template', quasis: ['', ' ', ''], expressions: [field('first_name', 3), field('last_name', 17)], at: 0, end: 28,
    });
    expect(parse('`a\\nb`')).toEqual({ kind: 'template', quasis: ['a\nb'], expressions: [], at: 0, end: 6 });
  });

  it('reads member access, optional member access and index access', () => {
    expect(parse('user.country')).toEqual({ kind: 'member', object: field('user', 0), property: 'country', optional: false, at: 0, end: 12 });
    expect(parse('user?.country')).toEqual({ kind: 'member', object: field('user', 0), property: 'country', optional: true, at: 0, end: 13 });
    expect(parse('tags[0]')).toEqual({
      kind: 'index', object: field('tags', 0), index: { kind: 'literal', value: 0, integer: true, at: 5, end: 6 }, at: 0, end: 7,
    });
    expect(parse("attributes['color']")).toMatchObject({ kind: 'index', index: { kind: 'literal', value: 'color', at: 11, end: 18 } });
  });

  it('reads calls of functions by bare name, unknown names included (the checker judges them)', () => {
    // lower(trim(user.country)): trim(…) 6–24, user.country 11–23.
    expect(parse('lower(trim(user.country))')).toEqual({
      kind: 'call', callee: 'lower', at: 0, end: 25,
      args: [{
        kind: 'call', callee: 'trim', at: 6, end: 24,
        args: [{ kind: 'member', object: field('user', 11), property: 'country', optional: false, at: 11, end: 23 }],
      }],
    });
    expect(parse('count()')).toEqual({ kind: 'call', callee: 'count', args: [], at: 0, end: 7 });
  });

  it('reads unary operators', () => {
    expect(parse('!done')).toEqual({ kind: 'unary', operator: '!', operand: field('done', 1), at: 0, end: 5 });
    expect(parse('-x')).toEqual({ kind: 'unary', operator: '-', operand: field('x', 1), at: 0, end: 2 });
    expect(parse('+x')).toEqual({ kind: 'unary', operator: '+', operand: field('x', 1), at: 0, end: 2 });
  });

  it('reads comparisons, reading === and !== as == and !=', () => {
    for (const [text, operator] of [['a == b', '=='], ['a === b', '=='], ['a != b', '!='], ['a !== b', '!='], ['a < b', '<'], ['a <= b', '<='], ['a > b', '>'], ['a >= b', '>=']] as const) {
      expect(parse(text)).toMatchObject({ kind: 'binary', operator, at: 0, end: text.length });
    }
  });

  it('reads logical operators, ?? and ?:', () => {
    expect(parse("event_type == 'purchase' && quantity > 0")).toMatchObject({
      kind: 'binary', operator: '&&', at: 0, end: 40,
      left: { kind: 'binary', operator: '==', at: 0, end: 24, right: { kind: 'literal', value: 'purchase', at: 14, end: 24 } },
      right: { kind: 'binary', operator: '>', at: 28, end: 40 },
    });
    expect(parse('a || b && c')).toMatchObject({ operator: '||', right: { operator: '&&' } });
    expect(parse("coupon ?? 'none'")).toMatchObject({ kind: 'binary', operator: '??', left: field('coupon', 0), right: { value: 'none', at: 10 } });
    expect(parse("amount > 1000 ? 'high' : 'low'")).toEqual({
      kind: 'conditional', at: 0, end: 30,
      test: { kind: 'binary', operator: '>', at: 0, end: 13, left: field('amount', 0), right: { kind: 'literal', value: 1000, integer: true, at: 9, end: 13 } },
      then: { kind: 'literal', value: 'high', integer: false, at: 16, end: 22 },
      otherwise: { kind: 'literal', value: 'low', integer: false, at: 25, end: 30 },
    });
  });

  it('reads array literals as lists', () => {
    expect(parse('[1, 2]')).toEqual({
      kind: 'list', at: 0, end: 6,
      elements: [{ kind: 'literal', value: 1, integer: true, at: 1, end: 2 }, { kind: 'literal', value: 2, integer: true, at: 4, end: 5 }],
    });
    expect(parse('[]')).toEqual({ kind: 'list', elements: [], at: 0, end: 2 });
  });

  it('reads globals as fields: there are no globals, the checker reports them as unknown fields', () => {
    expect(parse('Math')).toEqual(field('Math', 0));
    expect(parse('process.env')).toMatchObject({ kind: 'member', object: field('process', 0), property: 'env' });
  });
});

describe('parseExpression: rejected constructs (PC302) at their offset', () => {
  const rejected = (construct: string, at: number) => ({ code: 'PC302', at, args: { construct } });

  it.each([
    ['x = 1', 'assignment', 2],
    ['x += 1', 'assignment', 2],
    ['x ??= 1', 'assignment', 2],
    ['new Date()', '`new`', 0],
    ['(x) => x', 'a function/arrow', 0],
    ['function () { return 1 }', 'a function/arrow', 0],
    ['this.price', '`this`', 0],
    ['/ab+c/', 'a regular expression literal', 0],
    ['typeof x', '`typeof`', 0],
    ['f(...xs)', 'a spread', 2],
    ['[...xs]', 'a spread', 1],
    ['{ a: 1 }', 'an object literal', 0],
    ['x++', 'increment/decrement', 0],
    ['--x', 'increment/decrement', 0],
    ['a, b', 'a comma expression', 1],
    ['delete a.b', '`delete`', 0],
    ['void 0', '`void`', 0],
    ['await x', '`await`', 0],
    ['tag`x`', 'a tagged template', 0],
    ['name.toUpperCase()', 'a call of a method (`x.foo()`)', 0],
    ['Math.max(1, 2)', 'a call of a method (`x.foo()`)', 0],
    ["a['f']()", 'a call of a method (`x.foo()`)', 0],
    ['(lower)(x)', 'a call of a computed function', 0],
    ['f?.()', 'an optional call (`?.()`)', 0],
    ['a?.[0]', 'optional element access (`?.[`)', 0],
    ['f<int>(x)', 'type arguments', 2],
    ['x as string', 'a type assertion', 0],
    ['x!', 'a non-null assertion (`!`)', 0],
    ['x satisfies string', '`satisfies`', 0],
    ['10n', 'a bigint literal', 0],
    ['a ** 2', 'the operator `**`', 2],
    ['a & b', 'the operator `&`', 2],
    ['a << 2', 'the operator `<<`', 2],
    ['~a', 'the operator `~`', 0],
    ["'k' in obj", 'the operator `in`', 4],
    ['a instanceof B', 'the operator `instanceof`', 2],
    ['[1, , 2]', 'an empty array element', 0],
    ["import('fs')", '`import`', 0],
    ['class {}', 'a class', 0],
  ])('%s → %s at %i', (text, construct, at) => {
    expect(errors(text)).toEqual([rejected(construct, at)]);
  });

  it('reports every rejected construct, not only the first', () => {
    // 'new A()' at 0, 'typeof b' at 10.
    expect(errors('new A() + typeof b')).toEqual([rejected('`new`', 0), rejected('`typeof`', 10)]);
  });

  it('reports rejected constructs nested anywhere, at their own offset', () => {
    // "lower(" is 6 characters, then "x = 1": the '=' is at 8.
    expect(errors('lower(x = 1)')).toEqual([rejected('assignment', 8)]);
    expect(errors('a ? b : new C()')).toEqual([rejected('`new`', 8)]);
  });
});

describe('parseExpression: syntax errors (PC307)', () => {
  it('reports the first syntax error at its offset in the text', () => {
    expect(errors('price *')).toEqual([{ code: 'PC307', at: 7, args: { detail: 'Expression expected.' } }]);
    expect(errors('a b')).toEqual([{ code: 'PC307', at: 2, args: { detail: "')' expected." } }]);
    expect(errors('')).toEqual([{ code: 'PC307', at: 0, args: { detail: 'Expression expected.' } }]);
    expect(errors("'open")[0]).toMatchObject({ code: 'PC307', args: { detail: 'Unterminated string literal.' } });
  });

  it('does not let the text close the wrapper it is parsed in', () => {
    expect(errors('a) + (b')).toEqual([{ code: 'PC307', at: 1, args: { detail: '`)` without a matching `(`' } }]);
    expect(errors('a); (b')).toEqual([{ code: 'PC307', at: 1, args: { detail: '`)` without a matching `(`' } }]);
    expect(errors('(a)) || (b')).toEqual([{ code: 'PC307', at: 3, args: { detail: '`)` without a matching `(`' } }]);
  });
});
