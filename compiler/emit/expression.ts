// Phase 5, emit: an expression as TypeScript source over a record variable, with minimal, precedence-correct parentheses.
//
// Fields print as `record.field`, `==` as `===`, library calls as the print form compiler/ir/functions.ts gives
// them (`s.toLowerCase()`, `Math.abs(x)`, `rt.date_trunc('hour', r.ts)`). Comparisons with the null literal print
// loosely (`x == null`), so that a missing value and null are the same, as everywhere in the language.

import { checkExpression } from '../check/expression.ts';
import { assertNever, type BinaryOperator, type Expr } from '../ir/expr.ts';
import { libraryFunctions, type ValueType } from '../ir/functions.ts';
import type { RecordType } from '../ir/types.ts';

/** Where the code of each expression node starts in the printed text, and that node's offset in the expression text. */
export interface ExpressionMapping {
  readonly generated: number;
  readonly at: number;
}

export interface PrintedExpression {
  readonly text: string;
  /** One per node, in printing order (so by `generated`). */
  readonly mappings: readonly ExpressionMapping[];
}

/**
 * `price * quantity` over record `r` → `r.price * r.quantity`. Pass the record type as `scope` whenever the
 * expression may read json values: member and index access on json print through the runtime (`rt.json_member`),
 * which is null-safe, and only the types say which accesses those are.
 */
export function printExpression(expr: Expr, record: string, scope?: RecordType): string {
  return printExpressionWithMappings(expr, record, scope).text;
}

export function printExpressionWithMappings(expr: Expr, record: string, scope?: RecordType): PrintedExpression {
  const printer = new Printer(record, scope && checkExpression(expr, scope).nodes);
  if (printer.mayBeUndefined(expr)) {
    // `a?.b` and a missing map key are undefined in JavaScript; the language has one absent value, null, as decoders
    // produce it, and record types spell optional fields `T | null`.
    printer.print(expr, Level.NullishCoalescing, printer.printsLogical(expr));
    printer.text += ' ?? null';
  } else {
    printer.print(expr, Level.Lowest);
  }
  return { text: printer.text, mappings: printer.mappings };
}

/** JavaScript's binding strengths, weakest first (as in esbuild's js_printer). */
const Level = {
  Lowest: 0,
  Comma: 1,
  Assign: 2,
  Conditional: 3,
  NullishCoalescing: 4,
  LogicalOr: 5,
  LogicalAnd: 6,
  Equals: 7,
  Compare: 8,
  Add: 9,
  Multiply: 10,
  Prefix: 11,
  Postfix: 12,
  Call: 13,
  Member: 14,
} as const;
type Level = (typeof Level)[keyof typeof Level];

const BINARY_LEVEL: Readonly<Record<BinaryOperator, Level>> = {
  '??': Level.NullishCoalescing,
  '||': Level.LogicalOr,
  '&&': Level.LogicalAnd,
  '==': Level.Equals,
  '!=': Level.Equals,
  '<': Level.Compare,
  '<=': Level.Compare,
  '>': Level.Compare,
  '>=': Level.Compare,
  '+': Level.Add,
  '-': Level.Add,
  '*': Level.Multiply,
  '/': Level.Multiply,
  '%': Level.Multiply,
};

const isNullLiteral = (expr: Expr): boolean => expr.kind === 'literal' && expr.value === null;

class Printer {
  text = '';
  readonly mappings: ExpressionMapping[] = [];

  constructor(
    private readonly record: string,
    private readonly types: ReadonlyMap<Expr, ValueType> | undefined,
  ) {}

  /** Prints `expr` where the context binds with strength `level`; wraps it in parentheses when it binds weaker. */
  print(expr: Expr, level: Level, forceParentheses = false): void {
    const wrap = forceParentheses || this.levelOf(expr) < level;
    if (wrap) this.text += '(';
    this.mappings.push({ generated: this.text.length, at: expr.at });
    this.printNode(expr);
    if (wrap) this.text += ')';
  }

  private levelOf(expr: Expr): Level {
    switch (expr.kind) {
      case 'literal':
      case 'field':
      case 'template':
      case 'list':
        return Level.Member;
      case 'member':
      case 'index':
        return this.isJsonAccess(expr) ? Level.Call : Level.Member;
      case 'unary':
        return Level.Prefix;
      case 'binary':
        return BINARY_LEVEL[expr.operator];
      case 'conditional':
        return Level.Conditional;
      case 'call':
        return this.callLevel(expr);
    }
    return assertNever(expr);
  }

  private callLevel(expr: Extract<Expr, { kind: 'call' }>): Level {
    const form = libraryFunctions.get(expr.callee)?.print;
    if (form === undefined) return Level.Call;
    switch (form.kind) {
      case 'runtime':
      case 'pairwise':
      case 'method':
      case 'global':
        return Level.Call;
      case 'property':
      case 'template':
        return Level.Member;
      case 'coalesce':
        return Level.NullishCoalescing;
      case 'is-null':
        return Level.Equals;
      case 'includes': {
        const list = expr.args[0];
        if (list.kind !== 'list' || !this.comparesLiterals(expr)) return Level.Call;
        return list.elements.length === 0 ? Level.Member : list.elements.length === 1 ? Level.Equals : Level.LogicalOr;
      }
    }
    return assertNever(form);
  }

  private printNode(expr: Expr): void {
    switch (expr.kind) {
      case 'literal':
        this.text += literalText(expr.value);
        return;
      case 'field':
        this.text += `${this.record}.${expr.name}`;
        return;
      case 'member':
        if (this.isJsonAccess(expr)) {
          this.text += 'rt.json_member(';
          this.print(expr.object, Level.Assign);
          this.text += `, ${quote(expr.property)})`;
          return;
        }
        this.printReceiver(expr.object);
        this.text += `${expr.optional ? '?.' : '.'}${expr.property}`;
        return;
      case 'index':
        if (this.isJsonAccess(expr)) {
          this.text += 'rt.json_member(';
          this.print(expr.object, Level.Assign);
          this.text += ', ';
          this.print(expr.index, Level.Assign);
          this.text += ')';
          return;
        }
        this.printReceiver(expr.object);
        this.text += '[';
        this.print(expr.index, Level.Lowest);
        this.text += ']';
        return;
      case 'unary':
        this.text += expr.operator;
        // `- -x` would print as the decrement `--x`.
        this.print(expr.operand, Level.Prefix, expr.operand.kind === 'unary' && expr.operand.operator === expr.operator && expr.operator !== '!');
        return;
      case 'binary':
        this.printBinary(expr.operator, expr.left, expr.right);
        return;
      case 'conditional':
        this.print(expr.test, Level.NullishCoalescing);
        this.text += ' ? ';
        this.print(expr.then, Level.Assign);
        this.text += ' : ';
        this.print(expr.otherwise, Level.Assign);
        return;
      case 'call':
        this.printCall(expr);
        return;
      case 'template':
        this.printTemplate(expr.quasis, expr.expressions);
        return;
      case 'list':
        this.text += '[';
        expr.elements.forEach((element, i) => {
          if (i > 0) this.text += ', ';
          this.print(element, Level.Assign);
        });
        this.text += ']';
        return;
    }
    assertNever(expr);
  }

  private printBinary(operator: BinaryOperator, left: Expr, right: Expr): void {
    const level = BINARY_LEVEL[operator];
    // JavaScript rejects `&&`/`||` as operands of `??` without parentheses; `a == null === false` reads badly without them.
    const forced = (operand: Expr) =>
      (operator === '??' && this.printsLogical(operand)) || (level === Level.Equals && this.levelOf(operand) === Level.Equals);
    this.print(left, level, forced(left));
    const loose = isNullLiteral(left) || isNullLiteral(right);
    const printed = operator === '==' ? (loose ? '==' : '===') : operator === '!=' ? (loose ? '!=' : '!==') : operator;
    this.text += ` ${printed} `;
    // The right operand binds one step tighter: `a - (b - c)`, `a + (b + 's')`.
    this.print(right, (level + 1) as Level, forced(right));
  }

  private printCall(expr: Extract<Expr, { kind: 'call' }>): void {
    const fn = libraryFunctions.get(expr.callee);
    // The checker rejects unknown functions; printing one anyway keeps the output recognisable.
    const form = fn?.print ?? { kind: 'runtime' as const };
    const args = expr.args;
    switch (form.kind) {
      case 'runtime':
        this.text += `rt.${expr.callee}`;
        this.printArguments(args);
        return;
      case 'pairwise':
        this.printPairwise(expr.callee, args, args.length);
        return;
      case 'method':
        this.printReceiver(args[0]);
        this.text += `.${form.method}`;
        this.printArguments(args.slice(1));
        return;
      case 'property':
        this.printReceiver(args[0]);
        this.text += `.${form.property}`;
        return;
      case 'global':
        this.text += form.callee;
        this.printArguments(args);
        return;
      case 'coalesce': {
        // a ?? b ?? c, grouped from the left as the operator is.
        this.print(args[0], Level.NullishCoalescing, this.printsLogical(args[0]));
        for (const argument of args.slice(1)) {
          this.text += ' ?? ';
          this.print(argument, Level.LogicalOr, this.printsLogical(argument));
        }
        return;
      }
      case 'is-null':
        this.print(args[0], Level.Equals);
        this.text += ' == null';
        return;
      case 'template': {
        // String literal arguments become text of the template: concat(a, '-', b) → `${r.a}-${r.b}`.
        const quasis = [''];
        const expressions: Expr[] = [];
        for (const argument of args) {
          if (argument.kind === 'literal' && typeof argument.value === 'string') {
            quasis[quasis.length - 1] += argument.value;
          } else {
            expressions.push(argument);
            quasis.push('');
          }
        }
        this.printTemplate(quasis, expressions);
        return;
      }
      case 'includes': {
        const [list, element] = args;
        if (list.kind === 'list' && this.comparesLiterals(expr)) {
          // `x === 'a' || x === 'b'`: the same answer as ['a', 'b'].includes(x) without an array per record.
          if (list.elements.length === 0) {
            this.text += 'false';
            return;
          }
          list.elements.forEach((candidate, i) => {
            if (i > 0) this.text += ' || ';
            this.print(element, Level.Compare);
            this.text += ' === ';
            this.print(candidate, Level.Compare);
          });
          return;
        }
        this.printReceiver(list);
        this.text += '.includes';
        this.printArguments([element]);
        return;
      }
    }
    assertNever(form);
  }

  /** `contains([literals], x)` where x is cheap and pure to read more than once: a field or a chain of member reads. */
  private comparesLiterals(expr: Extract<Expr, { kind: 'call' }>): boolean {
    const [list, element] = expr.args;
    if (list === undefined || element === undefined || list.kind !== 'list') return false;
    if (!list.elements.every((candidate) => candidate.kind === 'literal')) return false;
    const cheap = (value: Expr): boolean =>
      value.kind === 'field' || value.kind === 'literal' || (value.kind === 'member' && !this.isJsonAccess(value) && cheap(value.object));
    return cheap(element);
  }

  private printPairwise(callee: string, args: readonly Expr[], count: number): void {
    this.text += `rt.${callee}(`;
    if (count > 2) this.printPairwise(callee, args, count - 1);
    else this.print(args[0], Level.Assign);
    this.text += ', ';
    this.print(args[count - 1], Level.Assign);
    this.text += ')';
  }

  private printArguments(args: readonly Expr[]): void {
    this.text += '(';
    args.forEach((argument, i) => {
      if (i > 0) this.text += ', ';
      this.print(argument, Level.Assign);
    });
    this.text += ')';
  }

  /** The object of `.x`, `[i]` or `.method()`: a number literal needs parentheses, as in `(5).toString()`. */
  private printReceiver(expr: Expr): void {
    this.print(expr, Level.Postfix, expr.kind === 'literal' && typeof expr.value === 'number');
  }

  private printTemplate(quasis: readonly string[], expressions: readonly Expr[]): void {
    this.text += '`';
    quasis.forEach((quasi, i) => {
      this.text += escapeTemplate(quasi);
      if (i < expressions.length) {
        this.text += '${';
        this.print(expressions[i], Level.Lowest);
        this.text += '}';
      }
    });
    this.text += '`';
  }

  /** Whether the value can be undefined: it can come from an optional chain or, when the types are known, a map lookup. */
  mayBeUndefined(expr: Expr): boolean {
    switch (expr.kind) {
      case 'member':
      case 'index': {
        if (this.isJsonAccess(expr)) return false;
        const object = this.types?.get(expr.object);
        return (expr.kind === 'member' && expr.optional) || this.continuesOptionalChain(expr.object) || object?.type.kind === 'map';
      }
      case 'conditional':
        return this.mayBeUndefined(expr.then) || this.mayBeUndefined(expr.otherwise);
      case 'binary':
        return expr.operator === '??' && this.mayBeUndefined(expr.right);
      case 'call':
        return libraryFunctions.get(expr.callee)?.print.kind === 'coalesce' && this.mayBeUndefined(expr.args[expr.args.length - 1]);
      case 'literal':
      case 'field':
      case 'unary':
      case 'template':
      case 'list':
        return false;
    }
    return assertNever(expr);
  }

  /** `a?.b` printed as a JavaScript chain (json access is a runtime call and ends any chain). */
  private continuesOptionalChain(expr: Expr): boolean {
    if (this.isJsonAccess(expr)) return false;
    if (expr.kind === 'member') return expr.optional || this.continuesOptionalChain(expr.object);
    if (expr.kind === 'index') return this.continuesOptionalChain(expr.object);
    return false;
  }

  /** Whether the expression prints as `&&` or `||` at its top (operands of `??` that are `??` get parentheses from precedence). */
  printsLogical(expr: Expr): boolean {
    const level = this.levelOf(expr);
    return level === Level.LogicalOr || level === Level.LogicalAnd;
  }

  private isJsonAccess(expr: Expr): boolean {
    if (this.types === undefined || (expr.kind !== 'member' && expr.kind !== 'index')) return false;
    const object = this.types.get(expr.object);
    return object !== undefined && object.type.kind === 'primitive' && object.type.name === 'json';
  }
}

function literalText(value: string | number | boolean | null): string {
  return typeof value === 'string' ? quote(value) : String(value);
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v' };

/** One character as it is written inside a literal: common escapes, \xNN for other control characters, line separators as \uNNNN. */
function escapeCharacter(character: string): string {
  const escape = ESCAPES[character];
  if (escape !== undefined) return escape;
  const code = character.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A single-quoted TypeScript string literal. */
export function quote(text: string): string {
  return `'${text.replace(/[\\'\x00-\x1f\x7f\u2028\u2029]/g, (character) => (character === "'" ? "\\'" : escapeCharacter(character)))}'`;
}

function escapeTemplate(text: string): string {
  return text.replace(/[\\`\x00-\x1f\x7f\u2028\u2029]|\$(?=\{)/g, (character) =>
    character === '`' ? '\\`' : character === '$' ? '\\$' : escapeCharacter(character),
  );
}
