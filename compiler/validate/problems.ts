// What one schema error means to the person who wrote the spec: a diagnostic code, the node it points at, and its words.

import { suggestion, type DiagnosticArgs } from '../diagnostics/diagnostic.ts';
import type { DiagnosticCode } from '../diagnostics/codes.ts';
import { describeValue, formatPath, type SpecPath } from '../load/index.ts';

/** An ajv error with its instance path as segments (indexes as numbers) and, from `verbose`, the schemas and data involved. */
export interface SchemaError {
  readonly path: SpecPath;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly schemaPath: string;
  /** The keyword's value in the schema (`verbose`). */
  readonly schema: unknown;
  /** The schema object holding the keyword (`verbose`). */
  readonly parentSchema: object | undefined;
  /** The value at `path`. */
  readonly data: unknown;
  /** Set when the error is about a key of the object at `path` (inside `propertyNames`). */
  readonly propertyName: string | undefined;
}

export interface Problem {
  readonly code: DiagnosticCode;
  /** The node the problem is about. */
  readonly path: SpecPath;
  /** Whether the diagnostic points at the node's key or at its value. */
  readonly part: 'key' | 'value';
  readonly args: DiagnosticArgs;
  /** Lower is more telling: when one value breaks several rules, the lowest rank is reported. */
  readonly rank: number;
  /** For an unknown property: the allowed name it is probably a misspelling of. */
  readonly suggests?: string;
  /** For "expected one of …": the property names listed, one of which a misspelt property may stand for. */
  readonly alternatives?: readonly string[];
}

/** Ranks of value problems, most telling first. */
export const rank = { duration: 0, oneOf: 1, type: 2, choice: 3, other: 4 } as const;

export function valueProblem(path: SpecPath, detail: string, problemRank: number): Problem {
  return { code: 'PC102', path, part: 'value', args: { path: formatPath(path), detail }, rank: problemRank };
}

export function durationProblem(path: SpecPath, value: unknown): Problem {
  return { code: 'PC105', path, part: 'value', args: { path: formatPath(path), value: describeValue(value) }, rank: rank.duration };
}

export function unknownPropertyProblem(objectPath: SpecPath, name: string, allowed: Iterable<string>): Problem {
  const hint = suggestion(name, allowed);
  return {
    code: 'PC103',
    path: [...objectPath, name],
    part: 'key',
    args: { path: formatPath(objectPath), name, suggestion: hint },
    rank: rank.other,
    suggests: hint === '' ? undefined : /`(.*)`/.exec(hint)?.[1],
  };
}

export function missingPropertyProblem(objectPath: SpecPath, name: string): Problem {
  // At the key of the object missing it (`window:`), the line a reader looks at to add the property.
  return { code: 'PC104', path: objectPath, part: 'key', args: { path: formatPath(objectPath), name }, rank: rank.other };
}

export function oneOfProblem(path: SpecPath, detail: string, alternatives?: readonly string[]): Problem {
  return { code: 'PC109', path, part: 'value', args: { path: formatPath(path), detail }, rank: rank.oneOf, alternatives };
}

/** `expected one of json, csv, got "jsno"`, with "did you mean" when one is close. */
export function choiceProblem(path: SpecPath, allowed: readonly unknown[], found: unknown): Problem {
  const words = allowed.map((option) => (typeof option === 'string' ? option : JSON.stringify(option)));
  const names = allowed.filter((option): option is string => typeof option === 'string');
  const hint = typeof found === 'string' ? suggestion(found, names) : '';
  return valueProblem(path, `expected one of ${words.join(', ')}, got ${describeValue(found)}${hint}`, rank.choice);
}

/** `steps[0]`: `filter` and `map` cannot be used together, pointed at the second. */
export function exclusiveProblem(objectPath: SpecPath, present: string, excluded: string): Problem {
  return {
    code: 'PC109',
    path: [...objectPath, excluded],
    part: 'key',
    args: { path: formatPath(objectPath), detail: `\`${present}\` and \`${excluded}\` cannot be used together` },
    rank: rank.oneOf,
  };
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  null: 'nothing',
};

/** `a string`, `a string or a list`, `a string, a list or a map`. */
export function typesPhrase(types: readonly string[]): string {
  const words = [...new Set(types.map((type) => TYPE_WORDS[type] ?? type))];
  return alternatives(words);
}

/** `a`, `a or b`, `a, b or c`. */
export function alternatives(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** The JSON Schema `type` keyword's value as a list. */
export function typeNames(type: unknown): string[] {
  if (Array.isArray(type)) return type.map(String);
  if (typeof type === 'string') return type.split(',');
  return [];
}

/**
 * The problem a schema error states on its own, or undefined for errors that only summarise others
 * (`if`, `propertyNames`) and for the ones the caller handles (`oneOf`, `anyOf`, unknown properties).
 */
export function plainProblem(error: SchemaError): Problem | undefined {
  const { path, params, data } = error;
  const got = describeValue(data);
  switch (error.keyword) {
    case 'required':
    case 'dependentRequired':
      return missingPropertyProblem(path, String(params.missingProperty));
    case 'type':
      return valueProblem(path, `expected ${typesPhrase(typeNames(params.type))}, got ${got}`, rank.type);
    case 'enum':
      return choiceProblem(path, Array.isArray(params.allowedValues) ? params.allowedValues : [], data);
    case 'const':
      return valueProblem(path, `expected ${describeValue(params.allowedValue)}, got ${got}`, rank.choice);
    case 'pattern':
      return valueProblem(path, `expected a string matching /${String(params.pattern)}/, got ${got}`, rank.other);
    case 'format':
      return valueProblem(path, `expected ${withArticle(String(params.format))}, got ${got}`, rank.other);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return valueProblem(path, `expected a number ${String(params.comparison)} ${String(params.limit)}, got ${got}`, rank.other);
    case 'multipleOf':
      return valueProblem(path, `expected a multiple of ${String(params.multipleOf)}, got ${got}`, rank.other);
    case 'minLength':
      return valueProblem(
        path,
        params.limit === 1 ? 'expected a non-empty string' : `expected at least ${String(params.limit)} characters, got ${got}`,
        rank.other,
      );
    case 'maxLength':
      return valueProblem(path, `expected at most ${String(params.limit)} characters, got ${got}`, rank.other);
    case 'minItems':
      return valueProblem(
        path,
        params.limit === 1 ? 'expected a non-empty list' : `expected at least ${String(params.limit)} items, got ${count(data)}`,
        rank.other,
      );
    case 'maxItems':
    case 'additionalItems':
    case 'unevaluatedItems':
    case 'items':
      return valueProblem(path, `expected at most ${String(params.limit)} items, got ${count(data)}`, rank.other);
    case 'minProperties':
      return valueProblem(
        path,
        params.limit === 1 ? 'expected a non-empty map' : `expected at least ${String(params.limit)} entries, got ${count(data)}`,
        rank.other,
      );
    case 'maxProperties':
      return valueProblem(path, `expected at most ${String(params.limit)} entries, got ${count(data)}`, rank.other);
    case 'uniqueItems':
      return valueProblem(path, `items ${String(params.j)} and ${String(params.i)} are the same; each item may appear once`, rank.other);
    case 'contains':
      return valueProblem(path, `expected at least ${String(params.minContains ?? 1)} matching item(s)`, rank.other);
    case 'not': {
      // `not: { properties: { a: false, b: false } }` is how a schema says "at least one of a and b".
      const properties = isRecord(error.schema) && isRecord(error.schema.properties) ? error.schema.properties : {};
      const needed = Object.keys(properties).filter((name) => properties[name] === false);
      return needed.length > 0
        ? oneOfProblem(path, `expected one of ${needed.join(', ')}, got none of them`, needed)
        : valueProblem(path, `${got} is not allowed here`, rank.other);
    }
    case 'false schema': {
      // `dependentSchemas: { a: { properties: { b: false } } }`: b may not appear beside a.
      const exclusion = EXCLUSION.exec(error.schemaPath);
      if (exclusion) return exclusiveProblem(path.slice(0, -1), unescapePointer(exclusion[1]), unescapePointer(exclusion[2]));
      const last = path[path.length - 1];
      if (typeof last === 'string') return unknownPropertyProblem(path.slice(0, -1), last, []);
      return valueProblem(path, 'no item is allowed here', rank.other);
    }
    case 'if':
    case 'propertyNames':
    case '$ref':
      return undefined;
    default:
      return valueProblem(path, `${got} does not fit the schema (${error.keyword})`, rank.other);
  }
}

const EXCLUSION = /\/dependentSchemas\/([^/]+)\/properties\/([^/]+)\/false schema$/;

function unescapePointer(segment: string): string {
  return decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~');
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(data: unknown): number {
  if (Array.isArray(data)) return data.length;
  if (data !== null && typeof data === 'object') return Object.keys(data).length;
  return 0;
}

/** `a step`, `an integer`. */
export function withArticle(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}
