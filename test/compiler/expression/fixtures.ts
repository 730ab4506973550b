// The record types the expression tests check, print and type-check against (an Order with a nested User), and their parse helper.

import { expect } from 'vitest';
import type { Expr } from '../../../compiler/ir/expr.ts';
import { primitive, type RecordType } from '../../../compiler/ir/types.ts';
import { parseExpression } from '../../../compiler/resolve/expression.ts';

export const User: RecordType = {
  kind: 'record', name: 'User', fields: [
    { name: 'country', type: primitive('string'), optional: false },
    { name: 'age', type: primitive('int'), optional: true },
  ],
};

/** Every field some expression test reads: one of each primitive, optional and not, a list, a map, json and nested records. */
export const Order: RecordType = {
  kind: 'record', name: 'Order', fields: [
    { name: 'order_id', type: primitive('string'), optional: false },
    { name: 'first_name', type: primitive('string'), optional: false },
    { name: 'last_name', type: primitive('string'), optional: false },
    { name: 'event_type', type: primitive('string'), optional: false },
    { name: 'price', type: primitive('float'), optional: false },
    { name: 'quantity', type: primitive('int'), optional: false },
    { name: 'category', type: primitive('string'), optional: false },
    { name: 'coupon', type: primitive('string'), optional: true },
    { name: 'ts', type: primitive('timestamp'), optional: false },
    { name: 'paid_at', type: primitive('timestamp'), optional: true },
    { name: 'express', type: primitive('bool'), optional: false },
    { name: 'gift', type: primitive('bool'), optional: true },
    { name: 'tags', type: { kind: 'list', element: primitive('string') }, optional: false },
    { name: 'scores', type: { kind: 'list', element: primitive('int') }, optional: false },
    { name: 'attributes', type: { kind: 'map', value: primitive('string') }, optional: false },
    { name: 'payload', type: primitive('json'), optional: false },
    { name: 'user', type: User, optional: false },
    { name: 'referrer', type: User, optional: true },
  ],
};

/** The IR of an expression that must parse without errors. */
export function parse(text: string): Expr {
  const parsed = parseExpression(text);
  expect(parsed.errors).toEqual([]);
  expect(parsed.expr).toBeDefined();
  return parsed.expr!;
}
