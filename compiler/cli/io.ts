// What the commands share for talking to the user: the output streams, usage errors and how diagnostics are reported.

import { formatDiagnostics, summarize } from '../diagnostics/format.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';

export type OutputFormat = 'text' | 'json' | 'github';

/** A bad command line: reported in one line, exit code 2. */
export class UsageError extends Error {}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly isTerminal: boolean;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  get isTerminal() {
    return Boolean(process.stderr.isTTY);
  },
};

/** Prints diagnostics (JSON on stdout, others on stderr); returns the exit code they call for: 1 on any error. */
export function report(io: CliIo, diagnostics: readonly Diagnostic[], format: OutputFormat): number {
  if (diagnostics.length > 0) {
    const text = formatDiagnostics(diagnostics, format);
    if (format === 'json') io.out(text.endsWith('\n') ? text : `${text}\n`);
    else io.err(text.endsWith('\n') ? text : `${text}\n`);
    if (format === 'text') io.err(`${summarize(diagnostics)}\n`);
  } else if (format === 'json') {
    io.out('[]\n');
  }
  return diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
}

export function relativeToCwd(file: string): string {
  const cwd = process.cwd() + '/';
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}
