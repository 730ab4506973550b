// Baselines: each spec under test/cases/generated/ compiles to the TypeScript and the state schema beside it, and
// each spec under test/cases/errors/ gets exactly the diagnostics beside it; a <name>.state.json beside an error
// case is the state schema a previous build wrote (as generated/ keeps it), which the spec must stay compatible
// with. `npm run accept` rewrites the baselines; review the diff.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.ts';
import { formatDiagnostics } from '../../compiler/diagnostics/format.ts';
import { formatStateSchema } from '../../compiler/state/index.ts';
import type { StateSchema } from '../../runtime/api.ts';
import { REPO_ROOT } from '../support/cli.ts';

const ACCEPT = process.env.PIPEC_ACCEPT === '1';
const CASES = join(REPO_ROOT, 'test', 'cases');

function specs(folder: string): string[] {
  return readdirSync(join(CASES, folder)).filter((name) => name.endsWith('.yaml')).sort();
}

function compileCase(folder: string, name: string) {
  const specPath = `test/cases/${folder}/${name}`;
  const recorded = join(CASES, folder, name.replace(/\.yaml$/, '.state.json'));
  return compile(readFileSync(join(REPO_ROOT, specPath), 'utf8'), {
    specPath,
    verify: true,
    moduleDir: join(REPO_ROOT, 'test', 'cases', folder),
    recordedState: () => (folder === 'errors' && existsSync(recorded) ? (JSON.parse(readFileSync(recorded, 'utf8')) as StateSchema) : undefined),
  });
}

/** Compares `actual` with the baseline file, or writes the baseline under `npm run accept`. */
function expectBaseline(file: string, actual: string): void {
  if (ACCEPT) {
    writeFileSync(file, actual);
    return;
  }
  expect(existsSync(file), `${file} is missing: run \`npm run accept\` and review it`).toBe(true);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('generated code', () => {
  it.each(specs('generated'))('%s', (name) => {
    const result = compileCase('generated', name);
    expect(formatDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), 'text')).toBe('');
    expectBaseline(join(CASES, 'generated', name.replace(/\.yaml$/, '.ts')), result.output!.code);
    expectBaseline(join(CASES, 'generated', name.replace(/\.yaml$/, '.state.json')), formatStateSchema(result.stateSchema!));
  });
});

describe('diagnostics', () => {
  it.each(specs('errors'))('%s', (name) => {
    const result = compileCase('errors', name);
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expectBaseline(join(CASES, 'errors', name.replace(/\.yaml$/, '.errors.txt')), `${formatDiagnostics(result.diagnostics, 'text')}\n`);
  });
});
