// The interpreter's expression evaluator: walks the Expr IR of a spec expression for every record it evaluates.
//
// It computes what the compiled code computes (compiler/emit/expression.ts prints the same operators and library
// calls as TypeScript): `==` is `===` unless one side is the null literal, json member access goes through the
// runtime's null-safe `json_member`, library calls run the runtime's functions, and an absent value is null.

import { checkExpression } from '../compiler/check/expression.ts';
import { assertNever, type BinaryOperator, type Expr } from '../compiler/ir/expr.ts';
import { libraryFunctions } from '../compiler/ir/functions.ts';
import type { RecordType } from '../compiler/ir/types.ts';
import * as library from '../runtime/functions.ts';

/** A record as the interpreter holds it: a plain object of field values. */
export type Row = Record<string, unknown>;

type LibraryCall = (...args: unknown[]) => unknown;

/** The runtime's exported library functions by name (`rt.<name>` in generated code). */
const runtimeFunctions = library as unknown as Readonly<Record<string, LibraryCall | undefined>>;

/** The globals generated code calls for `global` print forms. */
const globalFunctions: Readonly<Record<string, LibraryCall | undefined>> = {
  'Math.abs': Math.abs as LibraryCall,
  'Math.floor': Math.floor as LibraryCall,
  'Math.ceil': Math.ceil as LibraryCall,
};

/** One expression of the spec over records of one type, evaluated by walking its tree. */
export class Expression {
  /** Member and index nodes whose object is json: read through `json_member`, as the compiled code does. */
  private readonly jsonAccess = new Set<Expr>();

  constructor(
    readonly expr: Expr,
    scope: RecordType,
  ) {
    const types = checkExpression(expr, scope).nodes;
    for (const node of types.keys()) {
      if (node.kind !== 'member' && node.kind !== 'index') continue;
      const object = types.get(node.object)?.type;
      if (object?.kind === 'primitive' && object.name === 'json') this.jsonAccess.add(node);
    }
  }

  evaluate(record: Row): unknown {
    const value = this.node(this.expr, record);
    return value === undefined ? null : value;
  }

  private node(expr: Expr, record: Row): unknown {
    switch (expr.kind) {
      case 'literal':
        return expr.value;
      case 'field':
        return record[expr.name];
      case 'member': {
        const object = this.node(expr.object, record);
        if (this.jsonAccess.has(expr)) return library.json_member(object, expr.property);
        // A null object only gets here through an optional chain (the checker rejects `.` on a nullable value).
        return object === null || object === undefined ? undefined : (object as Row)[expr.property];
      }
      case 'index': {
        const object = this.node(expr.object, record);
        const index = this.node(expr.index, record) as string | number;
        if (this.jsonAccess.has(expr)) return library.json_member(object, index);
        return object === null || object === undefined ? undefined : (object as Row)[index];
      }
      case 'unary': {
        const operand = this.node(expr.operand, record);
        const operator = expr.operator;
        switch (operator) {
          case '!':
            return !operand;
          case '-':
            return -(operand as number);
          case '+':
            return +(operand as number);
        }
        return assertNever(operator);
      }
      case 'binary':
        return this.binary(expr.operator, expr.left, expr.right, record);
      case 'conditional':
        return this.node(expr.test, record) ? this.node(expr.then, record) : this.node(expr.otherwise, record);
      case 'call':
        return this.call(expr, record);
      case 'template': {
        let text = expr.quasis[0];
        for (let i = 0; i < expr.expressions.length; i++) text += `${this.node(expr.expressions[i], record)}${expr.quasis[i + 1]}`;
        return text;
      }
      case 'list':
        return expr.elements.map((element) => this.node(element, record));
      default:
        return assertNever(expr);
    }
  }

  private binary(operator: BinaryOperator, leftExpr: Expr, rightExpr: Expr, record: Row): unknown {
    const left = this.node(leftExpr, record);
    switch (operator) {
      case '&&':
        return left ? this.node(rightExpr, record) : left;
      case '||':
        return left ? left : this.node(rightExpr, record);
      case '??':
        return left ?? this.node(rightExpr, record);
      default:
        break;
    }
    const right = this.node(rightExpr, record);
    // Operands are numbers or strings as the checker typed them; `+` and the comparisons behave as in the compiled code.
    const a = left as number;
    const b = right as number;
    switch (operator) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        return a / b;
      case '%':
        return a % b;
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      case '==':
        return isNullLiteral(leftExpr) || isNullLiteral(rightExpr) ? left == right : left === right;
      case '!=':
        return isNullLiteral(leftExpr) || isNullLiteral(rightExpr) ? left != right : left !== right;
      default:
        return assertNever(operator);
    }
  }

  private call(expr: Extract<Expr, { kind: 'call' }>, record: Row): unknown {
    const fn = libraryFunctions.get(expr.callee);
    if (fn === undefined) throw new Error(`interpreter: unknown function ${expr.callee}`);
    const form = fn.print;
    const args = expr.args;
    switch (form.kind) {
      case 'runtime':
        return runtimeFunction(expr.callee)(...args.map((argument) => this.node(argument, record)));
      case 'pairwise': {
        const pick = runtimeFunction(expr.callee);
        let value = this.node(args[0], record);
        for (let i = 1; i < args.length; i++) value = pick(value, this.node(args[i], record));
        return value;
      }
      case 'method': {
        const receiver = this.node(args[0], record) as Record<string, LibraryCall>;
        return receiver[form.method](...args.slice(1).map((argument) => this.node(argument, record)));
      }
      case 'property':
        return (this.node(args[0], record) as Row)[form.property];
      case 'global': {
        const global = globalFunctions[form.callee];
        if (global === undefined) throw new Error(`interpreter: unknown global ${form.callee}`);
        return global(...args.map((argument) => this.node(argument, record)));
      }
      case 'coalesce': {
        let value: unknown = null;
        for (const argument of args) {
          value = this.node(argument, record);
          if (value !== null && value !== undefined) return value;
        }
        return value;
      }
      case 'is-null':
        return this.node(args[0], record) == null;
      case 'template': {
        let text = '';
        for (const argument of args) text += `${this.node(argument, record)}`;
        return text;
      }
      case 'includes': {
        const container = this.node(args[0], record) as string | unknown[];
        return (container as unknown[]).includes(this.node(args[1], record));
      }
      default:
        return assertNever(form);
    }
  }
}

function runtimeFunction(name: string): LibraryCall {
  const fn = runtimeFunctions[name];
  if (fn === undefined) throw new Error(`interpreter: the runtime has no library function ${name}`);
  return fn;
}

function isNullLiteral(expr: Expr): boolean {
  return expr.kind === 'literal' && expr.value === null;
}
