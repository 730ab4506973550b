// The README's diagnostics table is the registry's: `npm run docs` regenerates it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnosticCodes } from '../../../compiler/diagnostics/codes.ts';
import { diagnosticTable, withDiagnosticTable } from '../../../compiler/diagnostics/table.ts';
import { REPO_ROOT } from '../../support/cli.ts';

describe('the diagnostics table', () => {
  it('lists every code of the registry once', () => {
    const table = diagnosticTable();
    for (const code of Object.keys(diagnosticCodes)) expect(table.split(`| ${code} |`)).toHaveLength(2);
  });

  it('is up to date in the README (run `npm run docs` when this fails)', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(withDiagnosticTable(readme)).toBe(readme);
  });
});
