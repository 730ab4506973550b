// Phase 7, verify: type-check the emitted module with TypeScript against the runtime's types, and map every
// TypeScript error inside a printed user expression back to that expression's place in the spec.

import { Project, ts } from 'ts-morph';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { SourceText } from '../ir/source.ts';
import type { ExpressionSpan } from '../emit/index.ts';

export interface VerifyInput {
  /** The emitted module. */
  readonly code: string;
  /** Where the module is (or would be) written: its runtime import resolves relative to it. */
  readonly fileName: string;
  readonly expressions: readonly ExpressionSpan[];
  readonly spec: SourceText;
  /** The tsconfig.json whose compiler options the check uses. */
  readonly tsconfig: string;
  /** The runtime's public module, `runtime/index.ts`. */
  readonly runtime: string;
}

let project: Project | undefined;

export function verify(input: VerifyInput): Diagnostic[] {
  project ??= new Project({
    tsConfigFilePath: input.tsconfig,
    skipAddingFilesFromTsConfig: true,
    // Wherever the module is written, `pipec/runtime` is this installation's runtime (as when bundling).
    compilerOptions: { paths: { 'pipec/runtime': [input.runtime] } },
  });
  const file = project.createSourceFile(input.fileName, input.code, { overwrite: true });
  try {
    return file.getPreEmitDiagnostics().map((found) => {
      const text = found.getMessageText();
      const message = typeof text === 'string' ? text : ts.flattenDiagnosticMessageText(text.compilerObject, '\n');
      const start = found.getStart() ?? 0;
      const { line, column } = file.getLineAndColumnAtPos(start);
      const span = input.expressions.find(
        (candidate) => candidate.line === line - 1 && column - 1 >= candidate.column && column - 1 < candidate.column + candidate.length,
      );
      if (span) {
        return diagnostic('PC310', { source: input.spec, offset: span.specOffset }, { detail: `in \`${span.text}\`: ${message}` });
      }
      return diagnostic('PC310', { source: input.spec, offset: 0 }, {
        detail: `the generated code does not type-check at line ${line}: ${message} (this is a bug in pipec; please report it with the spec)`,
      });
    });
  } finally {
    project.removeSourceFile(file);
  }
}
