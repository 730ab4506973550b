// Expressions of the spec language (DESIGN §4.2) as a discriminated union.
// Offsets (`at`, `end`) are relative to the start of the expression's text; `SpecExpr.at` places that text in the spec file.

export type BinaryOperator =
  | '+' | '-' | '*' | '/' | '%'
  | '==' | '!=' | '<' | '<=' | '>' | '>='
  | '&&' | '||' | '??';

export type UnaryOperator = '!' | '-' | '+';

interface Node {
  /** Offset of the node's first character in the expression text. */
  readonly at: number;
  /** Offset just past the node's last character. */
  readonly end: number;
}

export type Expr =
  | (Node & { readonly kind: 'literal'; readonly value: string | number | boolean | null; readonly integer: boolean })
  /** A bare name: a field of the current record. */
  | (Node & { readonly kind: 'field'; readonly name: string })
  | (Node & { readonly kind: 'member'; readonly object: Expr; readonly property: string; readonly optional: boolean })
  | (Node & { readonly kind: 'index'; readonly object: Expr; readonly index: Expr })
  | (Node & { readonly kind: 'unary'; readonly operator: UnaryOperator; readonly operand: Expr })
  | (Node & { readonly kind: 'binary'; readonly operator: BinaryOperator; readonly left: Expr; readonly right: Expr })
  | (Node & { readonly kind: 'conditional'; readonly test: Expr; readonly then: Expr; readonly otherwise: Expr })
  /** A call of the fixed function library (compiler/ir/functions.ts). */
  | (Node & { readonly kind: 'call'; readonly callee: string; readonly args: readonly Expr[] })
  | (Node & { readonly kind: 'template'; readonly quasis: readonly string[]; readonly expressions: readonly Expr[] })
  | (Node & { readonly kind: 'list'; readonly elements: readonly Expr[] });

export type ExprKind = Expr['kind'];

/** An expression as it stands in the spec: its text, its parse, and where the text starts in the spec file. */
export interface SpecExpr {
  readonly text: string;
  readonly expr: Expr;
  /** Offset in the spec file of the expression text's first character. */
  readonly at: number;
  /**
   * Offset in the spec file of each character of the text, when they do not simply follow `at` (escapes, folded
   * block scalars, substituted parameters); undefined when character i is at `at + i`.
   */
  readonly offsets: readonly number[] | undefined;
}

/** Offset in the spec file of character `index` of an expression's text. */
export function specOffset(spec: SpecExpr, index: number): number {
  return spec.offsets ? (spec.offsets[Math.min(index, spec.offsets.length - 1)] ?? spec.at) : spec.at + index;
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
