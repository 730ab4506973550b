// Phase 4, check: the type of an expression over a record type (DESIGN §4.2), with TypeScript-strict rules.
//
// The rules are those of TypeScript in strict mode (the generated code is type-checked again), a little stricter
// where TypeScript would silently print "null" or compare by reference: a nullable value is never an operand of
// arithmetic, ordering, `&&`/`||`/`!`, a template string or a library function (except the null-aware ones);
// `==` between a string and a number, and between lists, maps or records, is an error.

import { suggestion } from '../diagnostics/diagnostic.ts';
import type { ExprError } from '../ir/expr-error.ts';
import { assertNever, type BinaryOperator, type Expr } from '../ir/expr.ts';
import {
  aggregateFunctions, arity, excludedFunctions, joinTypes, libraryFunctions, parameterAt, signatureText, valueTypeToString,
  type Argument, type LibraryFunction, type TypeClass, type ValueType,
} from '../ir/functions.ts';
import { BOOL, FLOAT, INT, JSON_TYPE, NULL, STRING, TIMESTAMP, fieldOf, typeToString, type RecordType, type Type } from '../ir/types.ts';

export interface CheckedExpression extends ValueType {
  /** Empty when the expression is well typed; otherwise `type` is a placeholder that must not be reported on. */
  readonly errors: ExprError[];
  /** The type of every sub-expression, for the emitter (json access is printed through the runtime). */
  readonly nodes: ReadonlyMap<Expr, ValueType>;
}

export function checkExpression(expr: Expr, scope: RecordType): CheckedExpression {
  const checker = new ExpressionChecker(scope);
  const result = checker.check(expr);
  return { type: result.type, optional: result.optional, errors: checker.errors, nodes: checker.nodes };
}

/** The type of an expression that already has an error: errors are reported once, where they happen, never again above. */
const INVALID: ValueType = { type: { kind: 'record', name: '(invalid)', fields: [] }, optional: false };

const value = (type: Type, optional = false): ValueType => ({ type, optional });

class ExpressionChecker {
  readonly errors: ExprError[] = [];
  readonly nodes = new Map<Expr, ValueType>();

  constructor(private readonly scope: RecordType) {}

  check(expr: Expr): ValueType {
    const result = this.typeOf(expr);
    this.nodes.set(expr, result);
    return result;
  }

  private typeOf(expr: Expr): ValueType {
    switch (expr.kind) {
      case 'literal':
        if (expr.value === null) return value(NULL, true);
        if (typeof expr.value === 'string') return value(STRING);
        if (typeof expr.value === 'boolean') return value(BOOL);
        return value(expr.integer ? INT : FLOAT);
      case 'field': {
        const field = fieldOf(this.scope, expr.name);
        if (field === undefined) {
          return this.error('PC301', expr.at, {
            name: expr.name,
            where: `the record type \`${this.scope.name}\``,
            suggestion: suggestion(expr.name, this.scope.fields.map((f) => f.name)),
          });
        }
        return value(field.type, field.optional);
      }
      case 'member':
        return this.member(expr);
      case 'index':
        return this.index(expr);
      case 'unary': {
        const operand = this.check(expr.operand);
        if (operand === INVALID) return INVALID;
        if (expr.operator === '!') {
          return this.requireBool(expr.operand, operand, '`!`') ? value(BOOL) : INVALID;
        }
        if (!this.requireNonNull(expr.operand, operand)) return INVALID;
        if (!isClass(operand.type, 'int') && !isClass(operand.type, 'float')) {
          return this.mismatch(expr.operand.at, `\`${expr.operator}\` needs a number, but \`${exprText(expr.operand)}\` is ${valueTypeToString(operand)}`);
        }
        return value(operand.type);
      }
      case 'binary':
        return this.binary(expr);
      case 'conditional': {
        const test = this.check(expr.test);
        const then = this.check(expr.then);
        const otherwise = this.check(expr.otherwise);
        if (test !== INVALID) this.requireBool(expr.test, test, 'the condition of `?:`');
        if (test === INVALID || then === INVALID || otherwise === INVALID) return INVALID;
        const joined = joinTypes(then, otherwise);
        if (joined === undefined) {
          return this.mismatch(expr.then.at, `the branches of \`?:\` have different types: ${valueTypeToString(then)} and ${valueTypeToString(otherwise)}`);
        }
        return joined;
      }
      case 'call':
        return this.call(expr);
      case 'template': {
        let valid = true;
        for (const part of expr.expressions) {
          const type = this.check(part);
          if (type === INVALID) valid = false;
          else if (!this.requireNonNull(part, type)) valid = false;
          else if (!isScalar(type.type)) {
            valid = false;
            const fix = isClass(type.type, 'json') ? `; convert it with \`to_string(${exprText(part)})\`` : '';
            this.mismatch(part.at, `\`${exprText(part)}\` is ${valueTypeToString(type)}; a template string takes string, int, float, bool and timestamp values${fix}`);
          }
        }
        return valid ? value(STRING) : INVALID;
      }
      case 'list': {
        const elements = expr.elements.map((element) => this.check(element));
        if (elements.includes(INVALID)) return INVALID;
        // `[]` is a list<null>, which joins with any list.
        let element: ValueType = elements[0] ?? value(NULL);
        for (let i = 1; i < elements.length; i++) {
          const joined = joinTypes(element, elements[i]);
          if (joined === undefined) {
            return this.mismatch(expr.elements[i].at, `the elements of a list have one type; \`${exprText(expr.elements[i])}\` is ${valueTypeToString(elements[i])}, the ones before are ${valueTypeToString(element)}`);
          }
          element = joined;
        }
        if (element.optional) {
          const at = expr.elements[elements.findIndex((e) => e.optional)].at;
          return this.mismatch(at, 'a list cannot hold null');
        }
        return value({ kind: 'list', element: element.type });
      }
    }
    return assertNever(expr);
  }

  private member(expr: Extract<Expr, { kind: 'member' }>): ValueType {
    const object = this.check(expr.object);
    if (object === INVALID) return INVALID;
    const propertyAt = expr.end - expr.property.length;
    // JSON access is null-safe by construction (the emitter prints it through the runtime): absent keys are null.
    if (isClass(object.type, 'json')) return value(JSON_TYPE, true);
    if (object.optional && !expr.optional && !inOptionalChain(expr.object)) {
      return this.mismatch(expr.object.at, `\`${exprText(expr.object)}\` may be null; use \`${exprText(expr.object)}?.${expr.property}\``);
    }
    const optional = object.optional;
    switch (object.type.kind) {
      case 'record': {
        const field = fieldOf(object.type, expr.property);
        if (field === undefined) {
          return this.error('PC301', propertyAt, {
            name: expr.property,
            where: `the record type \`${object.type.name}\``,
            suggestion: suggestion(expr.property, object.type.fields.map((f) => f.name)),
          });
        }
        return value(field.type, field.optional || optional);
      }
      case 'map':
        return value(object.type.value, true);
      case 'primitive':
      case 'list':
      case 'null': {
        const fix = expr.property === 'length' && (isClass(object.type, 'string') || object.type.kind === 'list') ? `; use \`len(${exprText(expr.object)})\`` : '';
        return this.mismatch(propertyAt, `\`${exprText(expr.object)}\` is ${valueTypeToString(object)}, which has no field \`${expr.property}\`${fix}`);
      }
    }
    return assertNever(object.type);
  }

  private index(expr: Extract<Expr, { kind: 'index' }>): ValueType {
    const object = this.check(expr.object);
    const index = this.check(expr.index);
    if (object === INVALID || index === INVALID) return INVALID;
    if (!this.requireNonNull(expr.index, index)) return INVALID;
    if (isClass(object.type, 'json')) {
      return isClass(index.type, 'int') || isClass(index.type, 'string')
        ? value(JSON_TYPE, true)
        : this.mismatch(expr.index.at, `a json value is indexed by an int or a string, not by ${valueTypeToString(index)}`);
    }
    if (object.optional && !inOptionalChain(expr.object)) {
      return this.mismatch(expr.object.at, `\`${exprText(expr.object)}\` may be null; check \`is_null(${exprText(expr.object)})\` first or use \`coalesce\``);
    }
    const needs = (wanted: 'int' | 'string', result: ValueType): ValueType =>
      isClass(index.type, wanted)
        ? result
        : this.mismatch(expr.index.at, `a ${typeToString(object.type)} is indexed by ${wanted === 'int' ? 'an int' : 'a string'}, not by ${valueTypeToString(index)}`);
    switch (object.type.kind) {
      // Like TypeScript without noUncheckedIndexedAccess: an element of a list is not nullable; a map may lack the key.
      case 'list':
        return needs('int', value(object.type.element, object.optional));
      case 'map':
        return needs('string', value(object.type.value, true));
      case 'record': {
        if (expr.index.kind !== 'literal' || typeof expr.index.value !== 'string') {
          return this.mismatch(expr.index.at, `a record is indexed by a field name in quotes, like \`${exprText(expr.object)}['${object.type.fields[0]?.name ?? 'field'}']\``);
        }
        const field = fieldOf(object.type, expr.index.value);
        if (field === undefined) {
          return this.error('PC301', expr.index.at, {
            name: expr.index.value,
            where: `the record type \`${object.type.name}\``,
            suggestion: suggestion(expr.index.value, object.type.fields.map((f) => f.name)),
          });
        }
        return value(field.type, field.optional || object.optional);
      }
      case 'primitive':
        if (isClass(object.type, 'string')) return needs('int', value(STRING, object.optional));
        return this.mismatch(expr.object.at, `\`${exprText(expr.object)}\` is ${valueTypeToString(object)}, which cannot be indexed`);
      case 'null':
        return this.mismatch(expr.object.at, `\`${exprText(expr.object)}\` is null, which cannot be indexed`);
    }
    return assertNever(object.type);
  }

  private binary(expr: Extract<Expr, { kind: 'binary' }>): ValueType {
    const left = this.check(expr.left);
    const right = this.check(expr.right);
    if (left === INVALID || right === INVALID) return INVALID;
    const operator = expr.operator;
    switch (operator) {
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        return this.arithmetic(expr, operator, left, right);
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (!this.requireNonNull(expr.left, left) || !this.requireNonNull(expr.right, right)) return INVALID;
        const ordered = (isNumber(left.type) && isNumber(right.type)) || (isClass(left.type, 'string') && isClass(right.type, 'string'));
        if (!ordered) return this.comparisonMismatch(expr, left, right, 'both numbers or both strings');
        return value(BOOL);
      }
      case '==':
      case '!=':
        if (!comparable(left.type, right.type)) {
          const reference = !isScalarOrJson(left.type) || !isScalarOrJson(right.type);
          return this.comparisonMismatch(expr, left, right, reference ? 'scalar values; lists, maps and records are not compared with `==`' : 'values of one kind');
        }
        return value(BOOL);
      case '&&':
      case '||': {
        const valid = this.requireBool(expr.left, left, `\`${operator}\``) && this.requireBool(expr.right, right, `\`${operator}\``);
        return valid ? value(BOOL) : INVALID;
      }
      case '??': {
        if (!left.optional) {
          return this.mismatch(expr.left.at, `\`${exprText(expr.left)}\` is never null, so \`?? ${exprText(expr.right)}\` has no effect; remove it`);
        }
        const joined = joinTypes({ type: left.type, optional: false }, right);
        if (joined === undefined) {
          return this.mismatch(expr.right.at, `\`??\` joins values of one type, got ${valueTypeToString(left)} and ${valueTypeToString(right)}`);
        }
        return joined;
      }
    }
    return assertNever(operator);
  }

  private arithmetic(expr: Extract<Expr, { kind: 'binary' }>, operator: BinaryOperator, left: ValueType, right: ValueType): ValueType {
    if (!this.requireNonNull(expr.left, left) || !this.requireNonNull(expr.right, right)) return INVALID;
    const name = (type: Type) => (type.kind === 'primitive' ? type.name : undefined);
    const l = name(left.type);
    const r = name(right.type);
    if (operator === '+' && (l === 'string' || r === 'string')) {
      const other = l === 'string' ? right : left;
      const otherExpr = l === 'string' ? expr.right : expr.left;
      if (!isScalar(other.type)) {
        return this.mismatch(otherExpr.at, `\`+\` joins a string with string, int, float, bool or timestamp values, but \`${exprText(otherExpr)}\` is ${valueTypeToString(other)}`);
      }
      return value(STRING);
    }
    for (const [side, type] of [[expr.left, l], [expr.right, r]] as const) {
      if (type !== 'int' && type !== 'float' && type !== 'timestamp') {
        const sideType = side === expr.left ? left : right;
        const fix = operator === '+' ? ' (or strings, to join them)' : '';
        return this.mismatch(side.at, `\`${operator}\` needs numbers${fix}, but \`${exprText(side)}\` is ${valueTypeToString(sideType)}`);
      }
    }
    if (l === 'timestamp' || r === 'timestamp') {
      // Time arithmetic in epoch milliseconds: ts ± int → timestamp, ts - ts → int (a duration).
      if (operator === '-' && l === 'timestamp' && r === 'timestamp') return value(INT);
      if ((operator === '+' || operator === '-') && l === 'timestamp' && r === 'int') return value(TIMESTAMP);
      if (operator === '+' && l === 'int' && r === 'timestamp') return value(TIMESTAMP);
      const detail = r === 'float' || l === 'float'
        ? `add or subtract an int number of milliseconds to a timestamp (\`round(${exprText(l === 'float' ? expr.left : expr.right)})\`)`
        : 'a timestamp takes `+ int` and `- int` (milliseconds), and `-` another timestamp';
      return this.mismatch(expr.at, `\`${exprText(expr)}\`: ${detail}`);
    }
    if (operator === '/') return value(FLOAT);
    return value(l === 'int' && r === 'int' ? INT : FLOAT);
  }

  private call(expr: Extract<Expr, { kind: 'call' }>): ValueType {
    const args = expr.args.map((argument) => this.check(argument));
    const fn = libraryFunctions.get(expr.callee);
    if (fn === undefined) {
      const excluded = excludedFunctions.get(expr.callee);
      const note = excluded !== undefined
        ? `; \`${expr.callee}\` ${excluded}`
        : Object.hasOwn(aggregateFunctions, expr.callee)
          ? `; \`${expr.callee}\` is an aggregate: use it under \`aggregate:\` of a step`
          : suggestion(expr.callee, libraryFunctions.keys());
      return this.error('PC303', expr.at, { name: expr.callee, suggestion: note });
    }
    if (args.includes(INVALID)) return INVALID;
    const { minimum, maximum } = arity(fn);
    if (args.length < minimum || args.length > maximum) {
      const expected = maximum === Infinity ? `at least ${minimum}` : minimum === maximum ? `${minimum}` : `${minimum} to ${maximum}`;
      return this.error('PC305', expr.at, {
        name: fn.name,
        detail: `takes ${expected} argument${maximum === 1 ? '' : 's'}, got ${args.length}: ${signatureText(fn)}`,
      });
    }
    const typed: Argument[] = [];
    let valid = true;
    for (let i = 0; i < args.length; i++) {
      const argument = this.argument(fn, i, expr.args[i], args[i]);
      if (argument === undefined) valid = false;
      else typed.push(argument);
    }
    if (!valid) return INVALID;
    const result = fn.result;
    switch (result.kind) {
      case 'fixed':
        return result.value;
      case 'rule': {
        const typedResult = result.rule(typed);
        return typeof typedResult === 'string' ? this.error('PC305', expr.at, { name: fn.name, detail: typedResult }) : typedResult;
      }
    }
    return assertNever(result);
  }

  /** Checks one argument against its parameter; reports and returns undefined when it does not fit. */
  private argument(fn: LibraryFunction, index: number, expr: Expr, type: ValueType): Argument | undefined {
    const parameter = parameterAt(fn, index);
    if (parameter === undefined) return undefined;
    const report = (detail: string): undefined => {
      this.error('PC305', expr.at, { name: fn.name, detail });
      return undefined;
    };
    const literal = expr.kind === 'literal' && typeof expr.value === 'string' ? expr.value : undefined;
    if (type.type.kind === 'null' || type.optional) {
      if (!parameter.nullable) {
        const fallback = fallbackFor(type.type);
        const fix = fallback !== undefined ? `: use \`coalesce(${exprText(expr)}, ${fallback})\`` : '';
        return report(`takes a non-null \`${parameter.name}\`, but \`${exprText(expr)}\` may be null${fix}`);
      }
      if (type.type.kind === 'null') return { ...type, literal };
    }
    const accepted = typeClass(type.type);
    if (accepted === undefined || !parameter.accepts.includes(accepted)) {
      return report(`takes ${parameter.accepts.join(' or ')} as \`${parameter.name}\`, but \`${exprText(expr)}\` is ${valueTypeToString(type)}`);
    }
    if (parameter.literal !== undefined) {
      if (literal === undefined) return report(`takes \`${parameter.name}\` as a string literal, like \`${exampleCall(fn)}\``);
      const problem = parameter.literal.validate(literal);
      if (problem !== undefined) return report(problem);
    }
    return { ...type, literal };
  }

  /** A bool operand, not nullable; else reports with the fix a JavaScript habit needs. */
  private requireBool(expr: Expr, type: ValueType, what: string): boolean {
    if (isClass(type.type, 'bool')) return this.requireNonNull(expr, type);
    const text = exprText(expr);
    const fix = isNumber(type.type)
      ? `; compare it, e.g. \`${text} != 0\``
      : isClass(type.type, 'string')
        ? `; compare it, e.g. \`len(${text}) > 0\``
        : type.optional || type.type.kind === 'null'
          ? `; test it with \`is_null(${text})\``
          : '';
    this.mismatch(expr.at, `${what} needs a bool, but \`${text}\` is ${valueTypeToString(type)}${fix}`);
    return false;
  }

  /** A non-nullable operand; else reports with the `coalesce` fix. */
  private requireNonNull(expr: Expr, type: ValueType): boolean {
    if (!type.optional && type.type.kind !== 'null') return true;
    const text = exprText(expr);
    const fallback = fallbackFor(type.type);
    const fix = fallback !== undefined ? `; use \`coalesce(${text}, ${fallback})\` or \`${text} ?? ${fallback}\`` : `; test it with \`is_null(${text})\` first`;
    this.mismatch(expr.at, `\`${text}\` may be null${fix}`);
    return false;
  }

  private comparisonMismatch(expr: Extract<Expr, { kind: 'binary' }>, left: ValueType, right: ValueType, needs: string): ValueType {
    const timestamp = isClass(left.type, 'timestamp') || isClass(right.type, 'timestamp');
    const text = expr.right.kind === 'literal' ? expr.right.value : expr.left.kind === 'literal' ? expr.left.value : undefined;
    const epoch = timestamp && typeof text === 'string' ? epochMilliseconds(text) : undefined;
    const fix = epoch !== undefined ? `; write the time as epoch milliseconds: ${epoch} (${new Date(epoch).toISOString()})` : '';
    return this.mismatch(expr.at, `\`${exprText(expr)}\` compares ${valueTypeToString(left)} with ${valueTypeToString(right)}; \`${expr.operator}\` needs ${needs}${fix}`);
  }

  private mismatch(at: number, detail: string): ValueType {
    return this.error('PC304', at, { detail });
  }

  private error(code: ExprError['code'], at: number, args: ExprError['args']): ValueType {
    this.errors.push({ code, at, args });
    return INVALID;
  }
}

function isClass(type: Type, name: string): boolean {
  return type.kind === 'primitive' && type.name === name;
}

/** int, float and timestamp: the values arithmetic and ordering take. */
function isNumber(type: Type): boolean {
  return isClass(type, 'int') || isClass(type, 'float') || isClass(type, 'timestamp');
}

function isScalar(type: Type): boolean {
  return type.kind === 'primitive' && type.name !== 'json';
}

function isScalarOrJson(type: Type): boolean {
  return type.kind === 'primitive' || type.kind === 'null';
}

/** The class a parameter must accept for this argument; the null literal has none (only `nullable` takes it). */
function typeClass(type: Type): TypeClass | undefined {
  switch (type.kind) {
    case 'primitive':
      return type.name;
    case 'list':
    case 'map':
    case 'record':
      return type.kind;
    case 'null':
      return undefined;
  }
}

/** Values `==` may compare: the same kind of scalar, numbers with numbers, anything with null, json with a scalar. */
function comparable(a: Type, b: Type): boolean {
  if (a.kind === 'null' || b.kind === 'null') return true;
  if (a.kind !== 'primitive' || b.kind !== 'primitive') return false;
  if (a.name === 'json' || b.name === 'json') return true;
  if (isNumber(a) && isNumber(b)) return true;
  return a.name === b.name;
}

/** `a?.b.c`: the access continues an optional chain, which short-circuits to null as a whole. */
function inOptionalChain(expr: Expr): boolean {
  if (expr.kind === 'member') return expr.optional || inOptionalChain(expr.object);
  if (expr.kind === 'index') return inOptionalChain(expr.object);
  return false;
}

/** An ISO-8601 date or date-time literal as epoch milliseconds (UTC unless it names an offset), for a fix in a message. */
function epochMilliseconds(text: string): number | undefined {
  const local = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(local ? `${text.replace(' ', 'T')}Z` : text) : NaN;
  return Number.isNaN(time) ? undefined : time;
}

/** The default a `coalesce` fix suggests for a nullable value of this type. */
function fallbackFor(type: Type): string | undefined {
  if (type.kind === 'list') return '[]';
  if (type.kind !== 'primitive') return undefined;
  switch (type.name) {
    case 'string':
      return "''";
    case 'int':
    case 'float':
    case 'timestamp':
      return '0';
    case 'bool':
      return 'false';
    case 'json':
      return undefined;
  }
}

function exampleCall(fn: LibraryFunction): string {
  const examples: Readonly<Record<string, string>> = {
    date_trunc: "date_trunc('hour', ts)",
    date_format: "date_format(ts, 'yyyy-MM-dd')",
    regex_match: "regex_match(text, '^[A-Z]{2}$')",
    regex_extract: "regex_extract(text, 'id=(\\d+)')",
    json_get: "json_get(payload, 'a.b')",
  };
  return examples[fn.name] ?? `${fn.name}(…)`;
}

const PRECEDENCE: Readonly<Record<BinaryOperator, number>> = {
  '??': 1, '||': 2, '&&': 3, '==': 4, '!=': 4, '<': 5, '<=': 5, '>': 5, '>=': 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7,
};

/** An expression in the spec's own syntax, for messages: `coalesce(coupon, '')`, `price * quantity`. */
export function exprText(expr: Expr): string {
  switch (expr.kind) {
    case 'literal':
      return typeof expr.value === 'string' ? quote(expr.value) : String(expr.value);
    case 'field':
      return expr.name;
    case 'member':
      return `${operandText(expr.object, 9)}${expr.optional ? '?.' : '.'}${expr.property}`;
    case 'index':
      return `${operandText(expr.object, 9)}[${exprText(expr.index)}]`;
    case 'unary':
      return `${expr.operator}${operandText(expr.operand, 8)}`;
    case 'binary': {
      const level = PRECEDENCE[expr.operator];
      return `${operandText(expr.left, level)} ${expr.operator} ${operandText(expr.right, level + 1)}`;
    }
    case 'conditional':
      return `${operandText(expr.test, 1)} ? ${exprText(expr.then)} : ${exprText(expr.otherwise)}`;
    case 'call':
      return `${expr.callee}(${expr.args.map(exprText).join(', ')})`;
    case 'template':
      return '`' + expr.quasis.map((quasi, i) => quasi + (i < expr.expressions.length ? `\${${exprText(expr.expressions[i])}}` : '')).join('') + '`';
    case 'list':
      return `[${expr.elements.map(exprText).join(', ')}]`;
  }
  return assertNever(expr);
}

function operandText(expr: Expr, level: number): string {
  const own = expr.kind === 'binary' ? PRECEDENCE[expr.operator] : expr.kind === 'conditional' ? 0 : expr.kind === 'unary' ? 8 : 10;
  return own < level ? `(${exprText(expr)})` : exprText(expr);
}

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}
