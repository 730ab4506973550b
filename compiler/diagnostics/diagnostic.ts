// A diagnostic: a code from the registry, a place in a spec file, and the filled-in message.

import { diagnosticCodes, type DiagnosticCode, type Severity } from './codes.ts';
import { locate, type Location, type SourceText } from '../ir/source.ts';

export interface Note {
  readonly message: string;
  readonly location?: Location;
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly message: string;
  /** Absent only for diagnostics about the command line rather than a file. */
  readonly location?: Location;
  readonly notes: readonly Note[];
}

export type DiagnosticArgs = Readonly<Record<string, string | number>>;

export function formatMessage(code: DiagnosticCode, args: DiagnosticArgs): string {
  return diagnosticCodes[code].template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in args ? String(args[name]) : whole,
  );
}

export function diagnostic(
  code: DiagnosticCode,
  where: { source: SourceText; offset: number } | undefined,
  args: DiagnosticArgs = {},
  notes: readonly Note[] = [],
): Diagnostic {
  return {
    code,
    severity: diagnosticCodes[code].severity,
    message: formatMessage(code, args),
    location: where && locate(where.source, where.offset),
    notes,
  };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** `; did you mean `quantity`?` when a known name is close to the unknown one, else ''. */
export function suggestion(unknown: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(unknown.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.floor(unknown.length / 3));
  return best !== undefined && bestDistance <= limit ? `; did you mean \`${best}\`?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}
