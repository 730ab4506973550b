// The printed code of well-typed expressions type-checks under TypeScript strict mode with the type the checker gave it.
//
// The generated module is type-checked again by TypeScript (DESIGN §2, check), so the checker's types must hold
// for the printed code: here each expression becomes a function declared to return the checker's type.

import { Project } from 'ts-morph';
import { describe, expect, it } from 'vitest';
import { checkExpression } from '../../../compiler/check/expression.ts';
import { printExpression } from '../../../compiler/emit/expression.ts';
import type { ValueType } from '../../../compiler/ir/functions.ts';
import { parseExpression } from '../../../compiler/resolve/expression.ts';
import type { PrimitiveName, RecordType, Type } from '../../../compiler/ir/types.ts';
import { Order, User } from './fixtures.ts';

/**
 * The TypeScript spelling of a spec type, as generated code is assumed to declare record types: numbers for int,
 * float and timestamp, `unknown` for json, and `T | null` for optional (decoders read a missing field as null).
 */
const PRIMITIVE_TS_TYPES: Readonly<Record<PrimitiveName, string>> = {
  string: 'string', int: 'number', float: 'number', timestamp: 'number', bool: 'boolean', json: 'unknown',
};

function tsType(type: Type): string {
  switch (type.kind) {
    case 'primitive':
      return PRIMITIVE_TS_TYPES[type.name];
    case 'list':
      return `(${tsType(type.element)})[]`;
    case 'map':
      return `Record<string, ${tsType(type.value)}>`;
    case 'record':
      return type.name;
    case 'null':
      return 'null';
  }
}

const tsValueType = (value: ValueType) => (value.optional && value.type.kind !== 'null' ? `${tsType(value.type)} | null` : tsType(value.type));

const declaration = (record: RecordType) =>
  `interface ${record.name} {\n${record.fields.map((f) => `  ${f.name}: ${f.optional ? `${tsType(f.type)} | null` : tsType(f.type)};`).join('\n')}\n}`;

const EXPRESSIONS = [
  "category == 'x'",
  'price * quantity',
  'quantity / 2',
  "category + '-' + quantity",
  'ts - 1000',
  'ts - ts',
  '-price',
  "coupon ?? 'none'",
  'coupon ?? null',
  'coupon == null',
  "coupon == 'x'",
  'express && !coalesce(gift, false)',
  "price > 1000 ? 'high' : 'low'",
  'express ? 1 : 2.5',
  "express ? 'a' : null",
  'express ? tags : []',
  '`${category}: ${price} (${express})`',
  '[1, 2.5]',
  'user.country',
  'user.age',
  'referrer?.country',
  'referrer?.age ?? 0',
  'attributes.color',
  "attributes['size'] ?? 'M'",
  'tags[0]',
  'scores[1] + 1',
  'category[0]',
  'payload.a.b',
  "payload.kind == 'a'",
  "payload[0]['k']",
  'lower(trim(user.country))',
  'upper(category)',
  'len(tags) + len(category)',
  "contains(tags, 'sale')",
  "contains(['US', 'CA'], user.country)",
  'contains([1, 2], quantity)',
  "contains(category, 'ok')",
  "starts_with(order_id, 'A')",
  "ends_with(order_id, 'Z')",
  "concat(category, '-', quantity, express)",
  'substr(category, 1, 2)',
  "replace(category, 'a', 'b')",
  "split(category, ',')",
  "regex_match(order_id, '^A')",
  "regex_extract(order_id, '(\\\\d+)')",
  'abs(quantity)',
  'round(price)',
  'round(price, 2)',
  'floor(price)',
  'ceil(price)',
  'min(price, quantity)',
  'max(quantity, 3, 4)',
  "min(category, 'm')",
  'max(ts, 0)',
  "coalesce(coupon, 'none')",
  "coalesce(coupon, referrer?.country, 'x')",
  "coalesce(payload.a, 'x')",
  'is_null(coupon)',
  "to_int('12')",
  'to_int(price)',
  'to_int(coupon)',
  'to_float(payload.amount)',
  'to_string(quantity)',
  'to_string(payload)',
  'to_timestamp(category)',
  'to_timestamp(quantity)',
  "json_get(payload, 'a.b')",
  "date_trunc('day', ts)",
  'hour(ts) + minute(ts) + day(ts) + month(ts) + year(ts) + day_of_week(ts)',
  "date_format(ts, 'yyyy-MM-dd')",
];

describe('printed expressions under TypeScript strict mode', () => {
  it('type-check with the checker\'s types', () => {
    const functions = EXPRESSIONS.map((text, i) => {
      const { expr, errors } = parseExpression(text);
      expect(errors, text).toEqual([]);
      const checked = checkExpression(expr!, Order);
      expect(checked.errors, text).toEqual([]);
      return `// ${text}\nexport const e${i} = (r: Order): ${tsValueType(checked)} => ${printExpression(expr!, 'r', Order)};`;
    });
    const source = [
      "import * as rt from '../../../runtime/functions.ts';",
      declaration(User),
      declaration(Order),
      ...functions,
    ].join('\n\n');
    const project = new Project({ tsConfigFilePath: new URL('../../../tsconfig.json', import.meta.url).pathname, skipAddingFilesFromTsConfig: true });
    const file = project.createSourceFile(new URL('./printed.generated.ts', import.meta.url).pathname, source, { overwrite: true });
    const diagnostics = file.getPreEmitDiagnostics().map((d) => {
      const message = d.getMessageText();
      const line = source.split('\n')[(d.getLineNumber() ?? 1) - 1];
      return `${line}: ${typeof message === 'string' ? message : message.getMessageText()}`;
    });
    expect(diagnostics).toEqual([]);
  });
});
