// `pipec test <spec...>` (DESIGN §4.9): runs each spec's test cases through the same bundle `pipec run` builds,
// with in-memory sources and capturing sinks instead of the spec's connectors, and compares what each sink got.

import { pathToFileURL } from 'node:url';
import type { JobDefinition } from '../../runtime/api.ts';
import type { RunOptions, RunSummary } from '../../runtime/executor.ts';
import { MemoryConnectors } from '../../runtime/connectors/memory/index.ts';
import { loadSpec } from '../load/index.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { cachedBundle, readSpec } from './compiling.ts';
import { report, UsageError, type CliIo } from './io.ts';
import { collectSpecTests, loadTestFile, type SpecTestCase } from './spec-tests/cases.ts';
import { specsOf, testFileOf } from './spec-tests/files.ts';
import { compareRecords, nearPairs, type RecordDifference } from './spec-tests/compare.ts';

export interface TestCliOptions {
  readonly param: Readonly<Record<string, string>>;
  readonly parallelism: number;
  readonly maxParallelism: number;
}

interface LoadedBundle {
  readonly default: JobDefinition;
  readonly runJob: (job: JobDefinition, options: RunOptions) => Promise<RunSummary>;
}

interface CaseOutcome {
  /** Per sink the case names, how its records differ; only sinks that differ. */
  readonly differences: ReadonlyMap<string, RecordDifference>;
  /** The run threw: the case fails with this. */
  readonly error: string | undefined;
  /** What the run logged (bad records without a dead letter output), shown when the case fails. */
  readonly log: readonly string[];
}

/** Runs the cases of every spec (a `<name>.test.yaml` argument stands for its spec); resolves to the exit code. */
export async function testSpecs(io: CliIo, targets: readonly string[], options: TestCliOptions): Promise<number> {
  if (options.maxParallelism < options.parallelism) {
    throw new UsageError(`--max-parallelism (${options.maxParallelism}) must be at least --parallelism (${options.parallelism})`);
  }
  const specs = specsOf(targets);
  // Every spec is read before any runs: a wrong path is a usage error (exit 2), not a half-done test run.
  const texts = new Map(specs.map((spec) => [spec, readSpec(spec)]));
  let passed = 0;
  let failed = 0;
  let exitCode = 0;
  // A step that throws has a stack trace through the bundle's source map to the spec's line, as in `pipec run`.
  process.setSourceMapsEnabled(true);
  for (const spec of specs) {
    const text = texts.get(spec)!;
    const built = await cachedBundle(spec, text, options.param);
    const diagnostics: Diagnostic[] = [...built.diagnostics];
    let cases: readonly SpecTestCase[] = [];
    if (built.bundlePath !== undefined) {
      const tests = collectSpecTests(loadSpec(text, spec, options.param), loadTestFile(spec));
      diagnostics.push(...tests.diagnostics);
      cases = tests.cases;
    }
    if (report(io, diagnostics, 'text') !== 0 || built.bundlePath === undefined) {
      exitCode = 1;
      continue;
    }
    if (cases.length === 0) {
      io.err(`${spec}: no test cases; add \`tests:\` to the spec or write ${testFileOf(spec)}\n`);
      continue;
    }
    io.out(`${spec}\n`);
    const loaded = (await import(pathToFileURL(built.bundlePath).href)) as LoadedBundle;
    for (const testCase of cases) {
      const outcome = await runCase(loaded, testCase, options);
      const ok = outcome.error === undefined && outcome.differences.size === 0;
      if (ok) passed++;
      else failed++;
      io.out(`  ${ok ? '✓' : '✗'} ${testCase.name}\n`);
      if (!ok) io.out(describeFailure(outcome, testCase));
    }
  }
  io.out(`\n${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : exitCode;
}

async function runCase(loaded: LoadedBundle, testCase: SpecTestCase, options: TestCliOptions): Promise<CaseOutcome> {
  const connectors = new MemoryConnectors({ records: testCase.input, watermarks: testCase.watermarks });
  const log: string[] = [];
  try {
    await loaded.runJob(loaded.default, {
      parallelism: options.parallelism,
      maxParallelism: options.maxParallelism,
      maxRecords: 0,
      durationMs: 0,
      cwd: process.cwd(),
      outputPath: process.cwd(),
      log: (line) => log.push(line),
      connectors,
    });
  } catch (error) {
    return { differences: new Map(), error: error instanceof Error ? (error.stack ?? error.message) : String(error), log };
  }
  const differences = new Map<string, RecordDifference>();
  for (const [sink, expected] of Object.entries(testCase.expected)) {
    const difference = compareRecords(expected, connectors.sinks.get(sink)?.records() ?? [], testCase.ordered);
    if (difference !== undefined) differences.set(sink, difference);
  }
  return { differences, error: undefined, log };
}

/** The readable diff under a failed case: per sink, the missing and the unexpected records, one JSON line each. */
function describeFailure(outcome: CaseOutcome, testCase: SpecTestCase): string {
  const lines: string[] = [];
  if (outcome.error !== undefined) lines.push(`the run failed: ${outcome.error.replace(/\n/g, '\n      ')}`);
  for (const [sink, difference] of outcome.differences) {
    const expectedCount = testCase.expected[sink].length;
    if (difference.misordered !== undefined) {
      const { index, expected, actual } = difference.misordered;
      lines.push(`sink ${sink}: the expected ${expectedCount} records in another order (ordered: true); first difference at #${index}`);
      lines.push(`  expected   ${JSON.stringify(expected)}`);
      lines.push(`  received   ${JSON.stringify(actual)}`);
      continue;
    }
    const received = expectedCount - difference.missing.length + difference.unexpected.length;
    lines.push(`sink ${sink}: expected ${counted(expectedCount, 'record')}, received ${received}`);
    // A missing record is followed by the unexpected one most like it, and the fields in which they differ.
    const pairs = nearPairs(difference.missing, difference.unexpected);
    difference.missing.forEach((record, index) => {
      lines.push(`  missing    ${JSON.stringify(record)}`);
      const pair = pairs.find((candidate) => candidate.missing === index);
      if (pair === undefined) return;
      const actual = difference.unexpected[pair.unexpected] as Readonly<Record<string, unknown>>;
      const expected = record as Readonly<Record<string, unknown>>;
      lines.push(`  unexpected ${JSON.stringify(actual)}`);
      lines.push(`             differs in ${pair.fields.map((field) => `${field}: expected ${shown(expected, field)}, received ${shown(actual, field)}`).join('; ')}`);
    });
    difference.unexpected.forEach((record, index) => {
      if (!pairs.some((pair) => pair.unexpected === index)) lines.push(`  unexpected ${JSON.stringify(record)}`);
    });
  }
  for (const line of outcome.log) lines.push(`log: ${line}`);
  return lines.map((line) => `      ${line}\n`).join('');
}

/** A field's value as JSON, or `nothing` when the record lacks the field. */
function shown(record: Readonly<Record<string, unknown>>, field: string): string {
  return Object.hasOwn(record, field) ? JSON.stringify(record[field]) : 'nothing';
}

function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
