// The fixed function library of the expression language (DESIGN §4.2) as data: signatures, typing rules, how each call is printed.
//
// Null policy: a parameter accepts a nullable (optional) argument only where it is marked `nullable`. Everywhere
// else a nullable argument is a compile-time error (PC305) whose message shows the `coalesce` fix, so the runtime
// implementations never see null outside nullable parameters. Functions that read text (`to_int('x')`,
// `json_get`, `regex_extract`) return null when there is nothing to return, and their result type says so (`int?`).
//
// All date functions work in UTC on timestamps (epoch milliseconds); an int argument is read as epoch milliseconds.

import type { AggregateFunction } from './pipeline.ts';
import { BOOL, FLOAT, INT, JSON_TYPE, STRING, TIMESTAMP, typeToString, type PrimitiveName, type Type } from './types.ts';

/** The type of a value an expression computes: its type, and whether it may be null. */
export interface ValueType {
  readonly type: Type;
  readonly optional: boolean;
}

/** What a parameter position accepts: a primitive type by name, or any list, map or record. */
export type TypeClass = PrimitiveName | 'list' | 'map' | 'record';

const SCALAR_CLASSES: readonly TypeClass[] = ['string', 'int', 'float', 'bool', 'timestamp'];
const ANY_CLASS: readonly TypeClass[] = ['string', 'int', 'float', 'bool', 'timestamp', 'json', 'list', 'map', 'record'];
const TIME_CLASSES: readonly TypeClass[] = ['timestamp', 'int'];
const NUMBER_CLASSES: readonly TypeClass[] = ['int', 'float'];

export interface Parameter {
  readonly name: string;
  readonly accepts: readonly TypeClass[];
  /** The argument may be null (or the `null` literal). */
  readonly nullable?: boolean;
  /**
   * The argument must be a string literal, so that it is checked at compile time (units, patterns, paths);
   * `validate` returns why a value is wrong, or undefined.
   */
  readonly literal?: { readonly validate: (value: string) => string | undefined };
  /** May be left out; only trailing parameters are. */
  readonly omittable?: boolean;
  /** The last parameter only: it repeats, taking every remaining argument. */
  readonly repeated?: boolean;
}

/** An argument as the checker saw it: its type, and its value when it is a string literal. */
export interface Argument extends ValueType {
  readonly literal: string | undefined;
}

/** Types a call from its (already accepted) arguments, or returns why the combination is wrong. */
export type ResultRule = (args: readonly Argument[]) => ValueType | string;

export type FunctionResult =
  | { readonly kind: 'fixed'; readonly value: ValueType }
  /** `describe` is the result as the docs show it: "same type as `value`". */
  | { readonly kind: 'rule'; readonly describe: string; readonly rule: ResultRule };

/** How the emitter prints a call; library calls are printed straight into the generated code, with no dispatch. */
export type PrintForm =
  /** `rt.<name>(a, b)`: a function exported by runtime/functions.ts under the library name. */
  | { readonly kind: 'runtime' }
  /** `rt.<name>(rt.<name>(a, b), c)`: a two-argument runtime function folded over the arguments. */
  | { readonly kind: 'pairwise' }
  /** `a.method(b, c)`: a method of the first argument (string or array). */
  | { readonly kind: 'method'; readonly method: string }
  /** `a.property`. */
  | { readonly kind: 'property'; readonly property: string }
  /** `Math.abs(a)`: a global function of the generated code (never of user text). */
  | { readonly kind: 'global'; readonly callee: string }
  /** `a ?? b ?? c`. */
  | { readonly kind: 'coalesce' }
  /** `a == null`: true for null and for a missing value alike. */
  | { readonly kind: 'is-null' }
  /** A template string: `` `${a}${b}` ``. */
  | { readonly kind: 'template' }
  /** `list.includes(x)`; over a list literal of literals, `x === 'a' || x === 'b'` (no array per record). */
  | { readonly kind: 'includes' };

export interface LibraryFunction {
  readonly name: string;
  /** One line for the docs. */
  readonly description: string;
  readonly parameters: readonly Parameter[];
  /** With a repeated last parameter: the fewest arguments the call takes. */
  readonly minimumArguments?: number;
  readonly result: FunctionResult;
  readonly print: PrintForm;
}

const fixed = (type: Type, optional = false): FunctionResult => ({ kind: 'fixed', value: { type, optional } });
const parameter = (name: string, accepts: readonly TypeClass[], options: Omit<Parameter, 'name' | 'accepts'> = {}): Parameter => ({
  name,
  accepts,
  ...options,
});
const text = (name = 'text'): Parameter => parameter(name, ['string']);
const time = parameter('time', TIME_CLASSES);

/** Units of `date_trunc`, smallest first. `week` starts on Monday (ISO 8601). */
export const DATE_TRUNC_UNITS = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export type DateTruncUnit = (typeof DATE_TRUNC_UNITS)[number];

/**
 * Pattern letters of `date_format`, as in Java's DateTimeFormatter and Flink's DATE_FORMAT: yyyy yy (year),
 * M MM MMM MMMM (month), d dd (day), E EEE EEEE (weekday), H HH (hour 0–23), m mm, s ss, S SSS (milliseconds),
 * X (the zone, always `Z`). Text in single quotes is copied ('T'); '' is a quote. Other letters are reserved.
 */
export const DATE_FORMAT_LETTERS = 'yMdEHmsSX';

function validateDateFormat(pattern: string): string | undefined {
  let quoted = false;
  for (let i = 0; i < pattern.length; i++) {
    const character = pattern[i];
    if (character === "'") {
      quoted = !quoted;
      continue;
    }
    const letter = (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z');
    if (!quoted && letter && !DATE_FORMAT_LETTERS.includes(character)) {
      return `does not know the pattern letter \`${character}\`; letters are ${DATE_FORMAT_LETTERS.split('').join(' ')}, and text goes in single quotes ('T')`;
    }
  }
  return quoted ? 'has an unclosed quote in its pattern' : undefined;
}

function validateRegex(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (error) {
    return `has an invalid regular expression: ${(error as Error).message}`;
  }
}

function validateJsonPath(path: string): string | undefined {
  return path === '' || path.split('.').includes('') ? `needs a path of keys separated by dots, like 'a.b' or 'items.0.sku', got '${path}'` : undefined;
}

function validateUnit(unit: string): string | undefined {
  return (DATE_TRUNC_UNITS as readonly string[]).includes(unit) ? undefined : `does not know the unit '${unit}'; units are ${DATE_TRUNC_UNITS.join(' ')}`;
}

const isClass = (type: Type, name: PrimitiveName): boolean => type.kind === 'primitive' && type.name === name;

/**
 * The least type two values can share, or undefined: the same type; int and float → float; timestamp and int →
 * timestamp; null and T → T?; json and a primitive → json (a json value can hold it); lists element-wise.
 */
export function joinTypes(a: ValueType, b: ValueType): ValueType | undefined {
  const optional = a.optional || b.optional;
  if (a.type.kind === 'null') return { type: b.type, optional: true };
  if (b.type.kind === 'null') return { type: a.type, optional: true };
  const type = joinType(a.type, b.type);
  return type && { type, optional };
}

function joinType(a: Type, b: Type): Type | undefined {
  if (a.kind === 'primitive' && b.kind === 'primitive') {
    if (a.name === b.name) return a;
    const names = new Set([a.name, b.name]);
    if (names.has('json')) return JSON_TYPE;
    if (names.has('int') && names.has('float')) return FLOAT;
    if (names.has('int') && names.has('timestamp')) return TIMESTAMP;
    return undefined;
  }
  if (a.kind === 'list' && b.kind === 'list') {
    const element = joinType(a.element, b.element);
    return element && { kind: 'list', element };
  }
  if (a.kind === 'map' && b.kind === 'map') {
    const value = joinType(a.value, b.value);
    return value && { kind: 'map', value };
  }
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  return typeToString(a) === typeToString(b) ? a : undefined;
}

/** The spec spelling of a value type: `string?`. */
export function valueTypeToString(value: ValueType): string {
  return typeToString(value.type) + (value.optional && value.type.kind !== 'null' ? '?' : '');
}

/** `min`/`max`: all numbers (int, float, timestamp joined) or all strings. */
const orderedJoin: ResultRule = (args) => {
  let joined: ValueType | undefined = args[0];
  for (const argument of args.slice(1)) joined = joined && joinTypes(joined, argument);
  if (joined === undefined) return `needs arguments of one kind (all numbers or all strings), got ${args.map(valueTypeToString).join(', ')}`;
  return { type: joined.type, optional: false };
};

/** Conversions keep null as null, and text (or json) that is not a value of the target type becomes null. */
const conversion = (target: Type, total: readonly PrimitiveName[]): FunctionResult => ({
  kind: 'rule',
  describe: `${typeToString(target)}, or null when the value is null or does not convert`,
  rule: ([value]) => ({
    type: target,
    optional: value.optional || value.type.kind === 'null' || !total.some((name) => isClass(value.type, name)),
  }),
});

const LIBRARY: readonly LibraryFunction[] = [
  // Text
  { name: 'lower', description: 'The text in lower case.', parameters: [text()], result: fixed(STRING), print: { kind: 'method', method: 'toLowerCase' } },
  { name: 'upper', description: 'The text in upper case.', parameters: [text()], result: fixed(STRING), print: { kind: 'method', method: 'toUpperCase' } },
  { name: 'trim', description: 'The text without leading and trailing white space.', parameters: [text()], result: fixed(STRING), print: { kind: 'method', method: 'trim' } },
  {
    name: 'len',
    description: 'The number of characters (UTF-16 code units) of a text, or of elements of a list.',
    parameters: [parameter('value', ['string', 'list'])],
    result: fixed(INT),
    print: { kind: 'property', property: 'length' },
  },
  {
    name: 'contains',
    description: 'Whether the text contains the part, or the list contains the element: `contains(tags, \'sale\')`, `contains([\'US\', \'CA\'], country)`.',
    parameters: [parameter('value', ['string', 'list']), parameter('part', ANY_CLASS)],
    result: {
      kind: 'rule',
      describe: 'bool',
      rule: ([value, part]) => {
        if (isClass(value.type, 'string')) {
          return isClass(part.type, 'string') ? { type: BOOL, optional: false } : `looks for a string in a string, got ${valueTypeToString(part)}`;
        }
        if (value.type.kind === 'list' && joinType(value.type.element, part.type) === undefined) {
          return `looks for a ${typeToString(value.type.element)} in a ${typeToString(value.type)}, got ${valueTypeToString(part)}`;
        }
        return { type: BOOL, optional: false };
      },
    },
    print: { kind: 'includes' },
  },
  { name: 'starts_with', description: 'Whether the text starts with the prefix.', parameters: [text(), text('prefix')], result: fixed(BOOL), print: { kind: 'method', method: 'startsWith' } },
  { name: 'ends_with', description: 'Whether the text ends with the suffix.', parameters: [text(), text('suffix')], result: fixed(BOOL), print: { kind: 'method', method: 'endsWith' } },
  {
    name: 'concat',
    description: 'The values written one after the other as text: `concat(first_name, \' \', last_name)`, like a template string.',
    parameters: [parameter('values', SCALAR_CLASSES, { repeated: true })],
    minimumArguments: 1,
    result: fixed(STRING),
    print: { kind: 'template' },
  },
  {
    name: 'substr',
    description: 'Part of the text from `start` (0-based; negative counts from the end), `length` characters long or to the end.',
    parameters: [text(), parameter('start', ['int']), parameter('length', ['int'], { omittable: true })],
    result: fixed(STRING),
    print: { kind: 'runtime' },
  },
  {
    name: 'replace',
    description: 'The text with every occurrence of `search` replaced by `replacement` (plain text, not a pattern; an empty search changes nothing).',
    parameters: [text(), text('search'), text('replacement')],
    result: fixed(STRING),
    print: { kind: 'runtime' },
  },
  {
    name: 'split',
    description: 'The parts of the text between occurrences of the separator; an empty separator splits into characters.',
    parameters: [text(), text('separator')],
    result: fixed({ kind: 'list', element: STRING }),
    print: { kind: 'method', method: 'split' },
  },
  {
    name: 'regex_match',
    description: 'Whether a part of the text matches the regular expression (JavaScript syntax, a string literal); anchor it with ^ and $ to match the whole text.',
    parameters: [text(), parameter('pattern', ['string'], { literal: { validate: validateRegex } })],
    result: fixed(BOOL),
    print: { kind: 'runtime' },
  },
  {
    name: 'regex_extract',
    description: 'The first capture group of the first match of the regular expression (the whole match when it has no group), or null.',
    parameters: [text(), parameter('pattern', ['string'], { literal: { validate: validateRegex } })],
    result: fixed(STRING, true),
    print: { kind: 'runtime' },
  },

  // Numbers
  {
    name: 'abs',
    description: 'The absolute value.',
    parameters: [parameter('value', NUMBER_CLASSES)],
    result: { kind: 'rule', describe: 'same type as `value`', rule: ([value]) => ({ type: value.type, optional: false }) },
    print: { kind: 'global', callee: 'Math.abs' },
  },
  {
    name: 'round',
    description: 'The value rounded half away from zero (2.5 → 3, -2.5 → -3), to an int; with `digits`, to that many decimals (a float; negative digits round to tens, hundreds, …).',
    parameters: [parameter('value', NUMBER_CLASSES), parameter('digits', ['int'], { omittable: true })],
    result: { kind: 'rule', describe: 'int; float with `digits`', rule: (args) => ({ type: args.length > 1 ? FLOAT : INT, optional: false }) },
    print: { kind: 'runtime' },
  },
  { name: 'floor', description: 'The largest int not above the value.', parameters: [parameter('value', NUMBER_CLASSES)], result: fixed(INT), print: { kind: 'global', callee: 'Math.floor' } },
  { name: 'ceil', description: 'The smallest int not below the value.', parameters: [parameter('value', NUMBER_CLASSES)], result: fixed(INT), print: { kind: 'global', callee: 'Math.ceil' } },
  {
    name: 'min',
    description: 'The smallest of two or more numbers (or timestamps, or strings by UTF-16 order). As an aggregate of a window, `min(x)` takes one argument.',
    parameters: [parameter('values', ['int', 'float', 'timestamp', 'string'], { repeated: true })],
    minimumArguments: 2,
    result: { kind: 'rule', describe: 'the arguments\' type (int and float → float)', rule: orderedJoin },
    print: { kind: 'pairwise' },
  },
  {
    name: 'max',
    description: 'The largest of two or more numbers (or timestamps, or strings by UTF-16 order). As an aggregate of a window, `max(x)` takes one argument.',
    parameters: [parameter('values', ['int', 'float', 'timestamp', 'string'], { repeated: true })],
    minimumArguments: 2,
    result: { kind: 'rule', describe: 'the arguments\' type (int and float → float)', rule: orderedJoin },
    print: { kind: 'pairwise' },
  },

  // Null and conversions
  {
    name: 'coalesce',
    description: 'The first argument that is not null, like `a ?? b`; every argument but the last must be nullable.',
    parameters: [parameter('values', ANY_CLASS, { nullable: true, repeated: true })],
    minimumArguments: 2,
    result: {
      kind: 'rule',
      describe: 'the arguments\' type; nullable only when the last argument is',
      rule: (args) => {
        // As with `??`: a value that is never null ends the search, so the arguments after it would never be used.
        const neverNull = args.slice(0, -1).findIndex((a) => !a.optional && a.type.kind !== 'null' && !isClass(a.type, 'json'));
        if (neverNull >= 0) return `argument ${neverNull + 1} is never null, so the arguments after it are never used; remove them`;
        let joined: ValueType | undefined = args[0];
        for (const argument of args.slice(1)) joined = joined && joinTypes(joined, argument);
        if (joined === undefined) return `needs arguments of one type, got ${args.map(valueTypeToString).join(', ')}`;
        const last = args[args.length - 1];
        return { type: joined.type, optional: last.optional || last.type.kind === 'null' };
      },
    },
    print: { kind: 'coalesce' },
  },
  {
    name: 'is_null',
    description: 'Whether the value is null or missing.',
    parameters: [parameter('value', ANY_CLASS, { nullable: true })],
    result: fixed(BOOL),
    print: { kind: 'is-null' },
  },
  {
    name: 'to_string',
    description: 'The value as text: numbers in JavaScript notation, true/false, timestamps as epoch milliseconds (use `date_format` for dates), json strings as themselves and other json as JSON text.',
    parameters: [parameter('value', ['string', 'int', 'float', 'bool', 'timestamp', 'json'], { nullable: true })],
    result: conversion(STRING, ['string', 'int', 'float', 'bool', 'timestamp']),
    print: { kind: 'runtime' },
  },
  {
    name: 'to_int',
    description: 'The value as an int: numbers truncated toward zero, true/false as 1/0, text parsed as a number (null when it is not one).',
    parameters: [parameter('value', ['string', 'int', 'float', 'bool', 'timestamp', 'json'], { nullable: true })],
    result: conversion(INT, ['int', 'float', 'bool', 'timestamp']),
    print: { kind: 'runtime' },
  },
  {
    name: 'to_float',
    description: 'The value as a float: true/false as 1/0, text parsed as a number (null when it is not one).',
    parameters: [parameter('value', ['string', 'int', 'float', 'bool', 'timestamp', 'json'], { nullable: true })],
    result: conversion(FLOAT, ['int', 'float', 'bool', 'timestamp']),
    print: { kind: 'runtime' },
  },
  {
    name: 'to_timestamp',
    description: 'The value as a timestamp: numbers as epoch milliseconds, text as epoch milliseconds or ISO-8601 (UTC unless it names a zone; null when it is neither).',
    parameters: [parameter('value', ['string', 'int', 'float', 'timestamp', 'json'], { nullable: true })],
    result: conversion(TIMESTAMP, ['int', 'float', 'timestamp']),
    print: { kind: 'runtime' },
  },
  {
    name: 'json_get',
    description: 'The value at a path of keys in a json value (or JSON text, parsed on each call): `json_get(payload, \'items.0.sku\')`; null when absent.',
    parameters: [parameter('value', ['json', 'string'], { nullable: true }), parameter('path', ['string'], { literal: { validate: validateJsonPath } })],
    result: fixed(JSON_TYPE, true),
    print: { kind: 'runtime' },
  },

  // Time, in UTC
  {
    name: 'date_trunc',
    description: `The time rounded down to the start of its unit (${DATE_TRUNC_UNITS.join(' ')}; a string literal), in UTC; weeks start on Monday.`,
    parameters: [parameter('unit', ['string'], { literal: { validate: validateUnit } }), time],
    result: fixed(TIMESTAMP),
    print: { kind: 'runtime' },
  },
  { name: 'hour', description: 'The hour of the day, 0–23, in UTC.', parameters: [time], result: fixed(INT), print: { kind: 'runtime' } },
  { name: 'minute', description: 'The minute of the hour, 0–59.', parameters: [time], result: fixed(INT), print: { kind: 'runtime' } },
  { name: 'day', description: 'The day of the month, 1–31, in UTC.', parameters: [time], result: fixed(INT), print: { kind: 'runtime' } },
  { name: 'month', description: 'The month, 1 (January) – 12, in UTC.', parameters: [time], result: fixed(INT), print: { kind: 'runtime' } },
  { name: 'year', description: 'The year, in UTC.', parameters: [time], result: fixed(INT), print: { kind: 'runtime' } },
  {
    name: 'day_of_week',
    description: 'The day of the week as in ISO 8601, 1 = Monday … 7 = Sunday, in UTC.',
    parameters: [time],
    result: fixed(INT),
    print: { kind: 'runtime' },
  },
  {
    name: 'date_format',
    description: `The time as text in UTC by a pattern literal: \`date_format(ts, 'yyyy-MM-dd HH:mm')\`; letters ${DATE_FORMAT_LETTERS.split('').join(' ')}, text in single quotes.`,
    parameters: [time, parameter('pattern', ['string'], { literal: { validate: validateDateFormat } })],
    result: fixed(STRING),
    print: { kind: 'runtime' },
  },
];

export const libraryFunctions: ReadonlyMap<string, LibraryFunction> = new Map(LIBRARY.map((fn) => [fn.name, fn]));

/**
 * Functions users reach for that the language leaves out on purpose, with the reason. Results must depend only
 * on the record, so that a run restored from a checkpoint, a spec test and a replay produce the same output.
 */
export const excludedFunctions: ReadonlyMap<string, string> = new Map([
  ['now', 'depends on the wall clock, so a replay or a restore from a checkpoint would compute different results; use the record\'s event-time field (or `window_end` after a window)'],
  ['current_timestamp', 'depends on the wall clock; use the record\'s event-time field'],
  ['current_date', 'depends on the wall clock; use `date_trunc(\'day\', ts)` of the record\'s event-time field'],
  ['random', 'is not deterministic, so a replay would compute different results; derive values from the record instead'],
  ['rand', 'is not deterministic, so a replay would compute different results; derive values from the record instead'],
  ['uuid', 'is not deterministic, so a replay would compute different results; derive an id from the record\'s fields instead'],
  ['if_null', 'is spelled `coalesce(a, b)` (or `a ?? b`)'],
  ['ifnull', 'is spelled `coalesce(a, b)` (or `a ?? b`)'],
  ['nvl', 'is spelled `coalesce(a, b)` (or `a ?? b`)'],
  ['length', 'is spelled `len(x)`'],
  ['substring', 'is spelled `substr(text, start, length)`'],
]);

/** Smallest and largest number of arguments a call takes. */
export function arity(fn: LibraryFunction): { readonly minimum: number; readonly maximum: number } {
  const last = fn.parameters[fn.parameters.length - 1];
  return {
    minimum: fn.minimumArguments ?? fn.parameters.filter((p) => !p.omittable).length,
    maximum: last?.repeated ? Infinity : fn.parameters.length,
  };
}

/** The parameter an argument position binds to. */
export function parameterAt(fn: LibraryFunction, index: number): Parameter | undefined {
  const last = fn.parameters[fn.parameters.length - 1];
  return index < fn.parameters.length ? fn.parameters[index] : last?.repeated ? last : undefined;
}

/** The signature as the docs and messages show it: `round(value: int | float, digits?: int): int; float with \`digits\``. */
export function signatureText(fn: LibraryFunction): string {
  const parameters = fn.parameters.map((p) => {
    const accepts = p.literal ? 'string literal' : p.accepts.length === ANY_CLASS.length ? 'any' : p.accepts.join(' | ');
    return `${p.repeated ? '...' : ''}${p.name}${p.omittable ? '?' : ''}: ${accepts}${p.nullable ? ' (nullable)' : ''}`;
  });
  const result = fn.result.kind === 'fixed' ? valueTypeToString(fn.result.value) : fn.result.describe;
  return `${fn.name}(${parameters.join(', ')}): ${result}`;
}

/** The aggregates of window and keyed `aggregate:` steps (DESIGN §4.4), with how many arguments each takes. */
export const aggregateFunctions = {
  count: { minimum: 0, maximum: 1, description: 'The number of records; `count(x)` counts those where x is not null.' },
  sum: { minimum: 1, maximum: 1, description: 'The sum of the non-null values.' },
  avg: { minimum: 1, maximum: 1, description: 'The mean of the non-null values.' },
  min: { minimum: 1, maximum: 1, description: 'The smallest value.' },
  max: { minimum: 1, maximum: 1, description: 'The largest value.' },
  count_distinct: { minimum: 1, maximum: 1, description: 'The number of distinct non-null values.' },
  first: { minimum: 1, maximum: 1, description: 'The value of the first record, in arrival order.' },
  last: { minimum: 1, maximum: 1, description: 'The value of the last record, in arrival order.' },
  collect: { minimum: 1, maximum: 1, description: 'The non-null values as a list.' },
  stddev: { minimum: 1, maximum: 1, description: 'The standard deviation of the non-null values.' },
  percentile: { minimum: 2, maximum: 2, description: 'The P-th percentile, P a number literal in [0, 1] (or (1, 100] read as a percentage): `percentile(latency_ms, 0.99)`.' },
} as const satisfies Record<AggregateFunction, { minimum: number; maximum: number; description: string }>;
