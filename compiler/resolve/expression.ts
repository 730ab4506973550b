// Phase 3, resolve: expression, aggregate and type texts of the spec → the Expr IR and Types (DESIGN §4.1, §4.2, §4.4).
//
// Expressions are parsed with the TypeScript parser, so they mean what they would mean in TypeScript; the
// translation to the IR rejects every construct outside the language (PC302) at its offset.

import { ts } from 'ts-morph';
import { suggestion } from '../diagnostics/diagnostic.ts';
import type { ExprError } from '../ir/expr-error.ts';
import type { BinaryOperator, Expr, UnaryOperator } from '../ir/expr.ts';
import { aggregateFunctions, libraryFunctions } from '../ir/functions.ts';
import type { AggregateFunction } from '../ir/pipeline.ts';
import type { PrimitiveName, Type } from '../ir/types.ts';

/** The text is parsed as `(` + text + `\n)`: the parentheses make it an expression, the newline ends a trailing `//` comment. */
const WRAPPER_OFFSET = 1;

export function parseExpression(text: string): { expr: Expr | undefined; errors: ExprError[] } {
  const wrapped = `(${text}\n)`;
  const sourceFile = ts.createSourceFile('expression.ts', wrapped, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const syntaxError = parseDiagnostics(sourceFile)[0];
  if (syntaxError !== undefined) {
    const at = Math.min(Math.max((syntaxError.start ?? 0) - WRAPPER_OFFSET, 0), text.length);
    return { expr: undefined, errors: [{ code: 'PC307', at, args: { detail: ts.flattenDiagnosticMessageText(syntaxError.messageText, '\n') } }] };
  }
  const statement = sourceFile.statements[0];
  const whole = statement !== undefined && ts.isExpressionStatement(statement) ? statement.expression : undefined;
  if (sourceFile.statements.length !== 1 || whole === undefined || !ts.isParenthesizedExpression(whole) || whole.end !== wrapped.length) {
    // The text closed the wrapper's parenthesis early, as in `a) + (b`.
    return { expr: undefined, errors: [{ code: 'PC307', at: unmatchedParenthesis(sourceFile), args: { detail: '`)` without a matching `(`' } }] };
  }
  const translator = new Translator(sourceFile);
  const expr = translator.expression(whole.expression);
  return { expr: translator.errors.length === 0 ? expr : undefined, errors: translator.errors };
}

/** The parser's syntax errors; `parseDiagnostics` is internal to TypeScript but has been stable since 1.x. */
function parseDiagnostics(sourceFile: ts.SourceFile): readonly ts.DiagnosticWithLocation[] {
  return (sourceFile as unknown as { readonly parseDiagnostics?: readonly ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
}

/** Offset of the `)` that closed the wrapper's `(`: the end of the leftmost parenthesised expression at the start. */
function unmatchedParenthesis(sourceFile: ts.SourceFile): number {
  let node: ts.Node | undefined = sourceFile.statements[0];
  while (node !== undefined) {
    if (ts.isParenthesizedExpression(node) && node.getStart(sourceFile) === 0) return node.end - 1 - WRAPPER_OFFSET;
    node = ts.forEachChild(node, (child) => child);
  }
  return 0;
}

const BINARY_OPERATORS: ReadonlyMap<ts.SyntaxKind, BinaryOperator> = new Map<ts.SyntaxKind, BinaryOperator>([
  [ts.SyntaxKind.PlusToken, '+'],
  [ts.SyntaxKind.MinusToken, '-'],
  [ts.SyntaxKind.AsteriskToken, '*'],
  [ts.SyntaxKind.SlashToken, '/'],
  [ts.SyntaxKind.PercentToken, '%'],
  // `==` and `===` mean the same: strict equality, as the emitted code writes it.
  [ts.SyntaxKind.EqualsEqualsToken, '=='],
  [ts.SyntaxKind.EqualsEqualsEqualsToken, '=='],
  [ts.SyntaxKind.ExclamationEqualsToken, '!='],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken, '!='],
  [ts.SyntaxKind.LessThanToken, '<'],
  [ts.SyntaxKind.LessThanEqualsToken, '<='],
  [ts.SyntaxKind.GreaterThanToken, '>'],
  [ts.SyntaxKind.GreaterThanEqualsToken, '>='],
  [ts.SyntaxKind.AmpersandAmpersandToken, '&&'],
  [ts.SyntaxKind.BarBarToken, '||'],
  [ts.SyntaxKind.QuestionQuestionToken, '??'],
]);

const UNARY_OPERATORS: ReadonlyMap<ts.SyntaxKind, UnaryOperator> = new Map<ts.SyntaxKind, UnaryOperator>([
  [ts.SyntaxKind.ExclamationToken, '!'],
  [ts.SyntaxKind.MinusToken, '-'],
  [ts.SyntaxKind.PlusToken, '+'],
]);

/** TypeScript AST → Expr; collects a PC302 for every construct outside the language and keeps going to find them all. */
class Translator {
  readonly errors: ExprError[] = [];

  constructor(private readonly sourceFile: ts.SourceFile) {}

  expression(node: ts.Expression): Expr | undefined {
    const at = node.getStart(this.sourceFile) - WRAPPER_OFFSET;
    const end = node.end - WRAPPER_OFFSET;
    if (ts.isParenthesizedExpression(node)) return this.expression(node.expression);
    if (ts.isIdentifier(node)) return { kind: 'field', name: node.text, at, end };
    if (ts.isNumericLiteral(node)) {
      const written = node.getText(this.sourceFile);
      const integer = /^0[xXoObB]/.test(written) || !/[.eE]/.test(written);
      return { kind: 'literal', value: Number(node.text), integer, at, end };
    }
    if (ts.isStringLiteral(node)) return { kind: 'literal', value: node.text, integer: false, at, end };
    if (node.kind === ts.SyntaxKind.TrueKeyword) return { kind: 'literal', value: true, integer: false, at, end };
    if (node.kind === ts.SyntaxKind.FalseKeyword) return { kind: 'literal', value: false, integer: false, at, end };
    if (node.kind === ts.SyntaxKind.NullKeyword) return { kind: 'literal', value: null, integer: false, at, end };
    if (ts.isNoSubstitutionTemplateLiteral(node)) return { kind: 'template', quasis: [node.text], expressions: [], at, end };
    if (ts.isTemplateExpression(node)) {
      const expressions = all(node.templateSpans.map((span) => this.expression(span.expression)));
      const quasis = [node.head.text, ...node.templateSpans.map((span) => span.literal.text)];
      return expressions && { kind: 'template', quasis, expressions, at, end };
    }
    if (ts.isPropertyAccessExpression(node)) {
      if (ts.isPrivateIdentifier(node.name)) return this.reject(node.name, 'a private name (`#x`)');
      if (node.expression.kind === ts.SyntaxKind.SuperKeyword) return this.reject(node.expression, '`super`');
      const object = this.expression(node.expression);
      return object && { kind: 'member', object, property: node.name.text, optional: node.questionDotToken !== undefined, at, end };
    }
    if (ts.isElementAccessExpression(node)) {
      if (node.questionDotToken !== undefined) return this.reject(node, 'optional element access (`?.[`)');
      const object = this.expression(node.expression);
      const index = this.expression(node.argumentExpression);
      return object && index && { kind: 'index', object, index, at, end };
    }
    if (ts.isCallExpression(node)) return this.call(node, at, end);
    if (ts.isPrefixUnaryExpression(node)) {
      const operator = UNARY_OPERATORS.get(node.operator);
      if (operator === undefined) {
        const plusPlus = node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken;
        return this.reject(node, plusPlus ? 'increment/decrement' : `the operator \`${ts.tokenToString(node.operator)}\``);
      }
      const operand = this.expression(node.operand);
      return operand && { kind: 'unary', operator, operand, at, end };
    }
    if (ts.isPostfixUnaryExpression(node)) return this.reject(node, 'increment/decrement');
    if (ts.isBinaryExpression(node)) return this.binary(node, at, end);
    if (ts.isConditionalExpression(node)) {
      const test = this.expression(node.condition);
      const then = this.expression(node.whenTrue);
      const otherwise = this.expression(node.whenFalse);
      return test && then && otherwise && { kind: 'conditional', test, then, otherwise, at, end };
    }
    if (ts.isArrayLiteralExpression(node)) {
      const elements = all(node.elements.map((element) => {
        if (ts.isSpreadElement(element)) return this.reject(element, 'a spread');
        if (ts.isOmittedExpression(element)) return this.reject(node, 'an empty array element');
        return this.expression(element);
      }));
      return elements && { kind: 'list', elements, at, end };
    }
    return this.reject(node, rejectedConstruct(node, this.sourceFile));
  }

  private call(node: ts.CallExpression, at: number, end: number): Expr | undefined {
    const callee = node.expression;
    if (node.questionDotToken !== undefined) return this.reject(node, 'an optional call (`?.()`)');
    if (callee.kind === ts.SyntaxKind.ImportKeyword) return this.reject(node, '`import`');
    if (ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee)) return this.reject(node, 'a call of a method (`x.foo()`)');
    if (!ts.isIdentifier(callee)) return this.reject(node, 'a call of a computed function');
    if (node.typeArguments !== undefined) return this.reject(node.typeArguments[0], 'type arguments');
    const args = all(node.arguments.map((argument) => (ts.isSpreadElement(argument) ? this.reject(argument, 'a spread') : this.expression(argument))));
    return args && { kind: 'call', callee: callee.text, args, at, end };
  }

  private binary(node: ts.BinaryExpression, at: number, end: number): Expr | undefined {
    const kind = node.operatorToken.kind;
    const operator = BINARY_OPERATORS.get(kind);
    if (operator === undefined) {
      const construct =
        kind === ts.SyntaxKind.CommaToken
          ? 'a comma expression'
          : kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment
            ? 'assignment'
            : `the operator \`${ts.tokenToString(kind)}\``;
      return this.reject(node.operatorToken, construct);
    }
    const left = this.expression(node.left);
    const right = this.expression(node.right);
    return left && right && { kind: 'binary', operator, left, right, at, end };
  }

  private reject(node: ts.Node, construct: string): undefined {
    this.errors.push({ code: 'PC302', at: node.getStart(this.sourceFile) - WRAPPER_OFFSET, args: { construct } });
    return undefined;
  }
}

/** The name of a construct the language leaves out, as PC302 shows it. */
function rejectedConstruct(node: ts.Node, sourceFile: ts.SourceFile): string {
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) return 'a function/arrow';
  if (ts.isNewExpression(node)) return '`new`';
  if (node.kind === ts.SyntaxKind.ThisKeyword) return '`this`';
  if (node.kind === ts.SyntaxKind.SuperKeyword) return '`super`';
  if (ts.isRegularExpressionLiteral(node)) return 'a regular expression literal';
  if (ts.isTypeOfExpression(node)) return '`typeof`';
  if (ts.isObjectLiteralExpression(node)) return 'an object literal';
  if (ts.isDeleteExpression(node)) return '`delete`';
  if (ts.isVoidExpression(node)) return '`void`';
  if (ts.isAwaitExpression(node)) return '`await`';
  if (ts.isYieldExpression(node)) return '`yield`';
  if (ts.isTaggedTemplateExpression(node)) return 'a tagged template';
  if (ts.isClassExpression(node)) return 'a class';
  if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) return 'a type assertion';
  if (ts.isSatisfiesExpression(node)) return '`satisfies`';
  if (ts.isNonNullExpression(node)) return 'a non-null assertion (`!`)';
  if (ts.isBigIntLiteral(node)) return 'a bigint literal';
  if (ts.isExpressionWithTypeArguments(node)) return 'type arguments';
  if (ts.isMetaProperty(node)) return `\`${node.getText(sourceFile)}\``;
  return `\`${node.getText(sourceFile)}\``;
}

/** The elements when every one translated, else undefined (an error was reported). */
function all(items: readonly (Expr | undefined)[]): Expr[] | undefined {
  return items.every((item): item is Expr => item !== undefined) ? (items as Expr[]) : undefined;
}

export interface ParsedAggregate {
  readonly fn: AggregateFunction | undefined;
  /** The aggregated expression, with offsets in the aggregate's text; absent for `count()`. */
  readonly argument: Expr | undefined;
  /** `percentile(x, P)`: P as a fraction in [0, 1]. */
  readonly percentile: number | undefined;
  readonly errors: ExprError[];
}

const AGGREGATE_NAMES = Object.keys(aggregateFunctions) as AggregateFunction[];

function isAggregateName(name: string): name is AggregateFunction {
  return Object.hasOwn(aggregateFunctions, name);
}

/** `sum(price * quantity)`, `count()`, `percentile(latency_ms, 0.99)`: one aggregate call at the top of the text. */
export function parseAggregateCall(text: string): ParsedAggregate {
  const failed = (errors: ExprError[]): ParsedAggregate => ({ fn: undefined, argument: undefined, percentile: undefined, errors });
  const parsed = parseExpression(text);
  if (parsed.expr === undefined) return failed(parsed.errors);
  const call = parsed.expr;
  if (call.kind !== 'call') {
    return failed([{
      code: 'PC307',
      at: call.at,
      args: { detail: `an aggregate is one call like \`sum(price * quantity)\` or \`count()\`; compute other values from aggregates in a later \`set\` step` },
    }]);
  }
  if (!isAggregateName(call.callee)) {
    return failed([{ code: 'PC309', at: call.at, args: { name: call.callee, suggestion: suggestion(call.callee, AGGREGATE_NAMES) } }]);
  }
  const fn = call.callee;
  const { minimum, maximum } = aggregateFunctions[fn];
  if (call.args.length < minimum || call.args.length > maximum) {
    const expected = minimum === maximum ? `${minimum} argument${minimum === 1 ? '' : 's'}` : `${minimum} or ${maximum} arguments`;
    return failed([{ code: 'PC305', at: call.at, args: { name: fn, detail: `takes ${expected}, got ${call.args.length}` } }]);
  }
  const argument = call.args[0];
  const errors: ExprError[] = [];
  if (argument !== undefined) findNestedAggregates(argument, fn, errors);
  let percentile: number | undefined;
  if (fn === 'percentile') {
    const p = call.args[1];
    const value = p.kind === 'literal' && typeof p.value === 'number' ? p.value : undefined;
    if (value === undefined || value < 0 || value > 100) {
      errors.push({
        code: 'PC305',
        at: p.at,
        args: { name: fn, detail: 'takes P as a number literal in [0, 1] (or (1, 100] read as a percentage), like `percentile(latency_ms, 0.99)`' },
      });
    } else {
      percentile = value > 1 ? value / 100 : value;
    }
  }
  return errors.length > 0 ? failed(errors) : { fn, argument, percentile, errors };
}

/** An aggregate inside an aggregate's argument (`sum(count())`); `min`/`max` with two or more arguments are the scalar functions. */
function findNestedAggregates(expr: Expr, outer: AggregateFunction, errors: ExprError[]): void {
  visitChildren(expr, (child) => findNestedAggregates(child, outer, errors));
  if (expr.kind === 'call' && isAggregateName(expr.callee) && !(libraryFunctions.has(expr.callee) && expr.args.length >= 2)) {
    errors.push({ code: 'PC302', at: expr.at, args: { construct: `an aggregate inside an aggregate (\`${expr.callee}\` inside \`${outer}\`)` } });
  }
}

function visitChildren(expr: Expr, visit: (child: Expr) => void): void {
  switch (expr.kind) {
    case 'literal':
    case 'field':
      return;
    case 'member':
      return visit(expr.object);
    case 'index':
      visit(expr.object);
      return visit(expr.index);
    case 'unary':
      return visit(expr.operand);
    case 'binary':
      visit(expr.left);
      return visit(expr.right);
    case 'conditional':
      visit(expr.test);
      visit(expr.then);
      return visit(expr.otherwise);
    case 'call':
      return expr.args.forEach(visit);
    case 'template':
      return expr.expressions.forEach(visit);
    case 'list':
      return expr.elements.forEach(visit);
  }
}

const PRIMITIVE_NAMES: readonly PrimitiveName[] = ['string', 'int', 'float', 'bool', 'timestamp', 'json'];

/** Names from other languages that people write for a spec type. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  integer: 'int', long: 'int', bigint: 'int', number: 'float', double: 'float', decimal: 'float', boolean: 'bool',
  str: 'string', text: 'string', date: 'timestamp', datetime: 'timestamp', object: 'json', any: 'json', array: 'list<T>',
};

export interface ParsedType {
  /** Named types are `{ kind: 'record', name, fields: [] }` placeholders for the resolver to fill in. */
  readonly type?: Type;
  readonly optional: boolean;
  readonly error?: string;
}

/** A type of the spec (DESIGN §4.1): `string`, `list<map<int>>?`, `Order`. */
export function parseTypeString(text: string): ParsedType {
  let position = 0;
  const skipSpace = () => {
    while (position < text.length && /\s/.test(text[position])) position++;
  };
  const expect = (character: string): boolean => {
    skipSpace();
    if (text[position] !== character) return false;
    position++;
    return true;
  };
  const fail = (error: string): ParsedType => ({ optional: false, error });

  const parse = (): Type | string => {
    skipSpace();
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(position))?.[0];
    if (name === undefined) return `expected a type like \`string\` or \`list<int>\` at ${JSON.stringify(text.slice(position) || text)}`;
    position += name.length;
    if (name === 'list' || name === 'map') {
      if (!expect('<')) return `\`${name}\` needs its ${name === 'list' ? 'element' : 'value'} type: \`${name}<string>\``;
      const inner = parse();
      if (typeof inner === 'string') return inner;
      skipSpace();
      if (text[position] === '?') return `element types cannot be optional (\`${text.trim()}\`); lists and maps hold no nulls`;
      if (text[position] === ',') return name === 'map' ? 'map keys are always strings: write `map<V>` with the value type only' : '`list` takes one type: `list<T>`';
      if (!expect('>')) return `missing \`>\` in \`${text.trim()}\``;
      return name === 'list' ? { kind: 'list', element: inner } : { kind: 'map', value: inner };
    }
    if ((PRIMITIVE_NAMES as readonly string[]).includes(name)) return { kind: 'primitive', name: name as PrimitiveName };
    const alias = TYPE_ALIASES[name];
    if (alias !== undefined) return `unknown type \`${name}\`; did you mean \`${alias}\`?`;
    return { kind: 'record', name, fields: [] };
  };

  const type = parse();
  if (typeof type === 'string') return fail(type);
  const optional = expect('?');
  skipSpace();
  if (position < text.length) return fail(`unexpected ${JSON.stringify(text.slice(position))} after the type \`${text.slice(0, position).trim()}\``);
  return { type, optional };
}
