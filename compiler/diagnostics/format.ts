// Diagnostics as a person, a program or GitHub Actions reads them: text lines, a JSON array, or workflow commands.

import type { Diagnostic, Note } from './diagnostic.ts';
import type { Location } from '../ir/source.ts';

export type DiagnosticFormat = 'text' | 'json' | 'github';

export const diagnosticFormats: readonly DiagnosticFormat[] = ['text', 'json', 'github'];

/** The diagnostics in one format, one after another; '' (text, github) or '[]' (json) when there are none. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], format: DiagnosticFormat): string {
  switch (format) {
    case 'text':
      return diagnostics.map(textOf).join('\n');
    case 'json':
      return JSON.stringify(diagnostics.map(jsonOf), null, 2);
    case 'github':
      return diagnostics.map(githubCommandOf).join('\n');
  }
}

/** "2 errors, 1 warning". */
export function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((entry) => entry.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  return `${counted(errors, 'error')}, ${counted(warnings, 'warning')}`;
}

function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function place(location: Location | undefined): string {
  return location ? `${location.file}:${location.line}:${location.column} ` : '';
}

/** `pipelines/fraud.yaml:14:7 error PC102 message`, then `  note: file:line:col message` per note. */
function textOf(entry: Diagnostic): string {
  const lines = [`${place(entry.location)}${entry.severity} ${entry.code} ${entry.message}`];
  for (const note of entry.notes) lines.push(`  note: ${place(note.location)}${note.message}`);
  return lines.join('\n');
}

interface JsonNote {
  readonly file: string | null;
  readonly line: number | null;
  readonly column: number | null;
  readonly message: string;
}

interface JsonDiagnostic {
  readonly file: string | null;
  readonly line: number | null;
  readonly column: number | null;
  readonly severity: Diagnostic['severity'];
  readonly code: Diagnostic['code'];
  readonly message: string;
  readonly notes: readonly JsonNote[];
}

function jsonOf(entry: Diagnostic): JsonDiagnostic {
  return {
    file: entry.location?.file ?? null,
    line: entry.location?.line ?? null,
    column: entry.location?.column ?? null,
    severity: entry.severity,
    code: entry.code,
    message: entry.message,
    notes: entry.notes.map(jsonNoteOf),
  };
}

function jsonNoteOf(note: Note): JsonNote {
  return { file: note.location?.file ?? null, line: note.location?.line ?? null, column: note.location?.column ?? null, message: note.message };
}

/**
 * `::error file=F,line=L,col=C,title=PC102::message`. An annotation has no notes, so they follow the message on
 * lines of their own. Escaping as in the Actions toolkit's command.ts: `%`, CR and LF everywhere, `:` and `,` in properties too.
 */
function githubCommandOf(entry: Diagnostic): string {
  const properties: string[] = [];
  if (entry.location) {
    properties.push(`file=${escapeProperty(entry.location.file)}`, `line=${entry.location.line}`, `col=${entry.location.column}`);
  }
  properties.push(`title=${escapeProperty(entry.code)}`);
  const message = [entry.message, ...entry.notes.map((note) => `note: ${place(note.location)}${note.message}`)].join('\n');
  return `::${entry.severity} ${properties.join(',')}::${escapeData(message)}`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
