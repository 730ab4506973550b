// An error found in one expression, placed by its offset in the expression text; the caller turns it into a Diagnostic.

import type { DiagnosticCode } from '../diagnostics/codes.ts';
import type { DiagnosticArgs } from '../diagnostics/diagnostic.ts';

export interface ExprError {
  readonly code: DiagnosticCode;
  /** Offset in the expression text; add `SpecExpr.at` for the offset in the spec file. */
  readonly at: number;
  /** The placeholders of the code's message template. */
  readonly args: DiagnosticArgs;
}
