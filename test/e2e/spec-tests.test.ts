// End to end: `pipec test` on the shipped pipelines' cases, and on small specs whose cases pass, fail with a diff,
// or name things the pipeline does not have.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { pipec, REPO_ROOT } from '../support/cli.ts';

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'pipec-spec-tests-'));
}

/** Case names of a spec or test file, read with the YAML parser alone. */
function caseNames(file: string): string[] {
  const document = parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as { tests: { name: string }[] };
  return document.tests.map((test) => test.name);
}

/** Readings summed per sensor in 10 s windows (allowed lateness 0), hot readings kept; bad readings to a dead letter output. */
const SPEC = `pipeline: readings
types:
  Reading: { sensor: string, value: float, ts: timestamp }
sources:
  readings:
    connector: file
    path: readings.jsonl
    type: Reading
    event_time: { field: ts, max_out_of_orderness: 1s }
    dead_letter: bad_readings
steps:
  - id: hot
    from: readings
    filter: value > 50
  - id: totals
    from: readings
    key_by: sensor
    window: { tumbling: 10s, late_output: late_readings }
    aggregate: { total: sum(value), readings: count() }
sinks:
  hot_out: { from: hot, connector: stdout }
  totals_out: { from: totals, connector: stdout }
  late_out: { from: late_readings, connector: stdout }
  bad_out: { from: bad_readings, connector: stdout }
`;

/** A case of SPEC; its expectations hold with the defaults. */
function totalsCase(name: string, expected: { lastTotal?: number; hot?: string } = {}): string {
  return `  - name: ${name}
    input:
      readings:
        - { sensor: s1, value: 1.5, ts: 1000 }
        - { sensor: s2, value: 60, ts: 2000 }
        - { sensor: s1, value: 2.5, ts: 12000 }
    expected:
      totals_out:
        - { sensor: s1, window_start: 0, window_end: 10000, total: 1.5, readings: 1 }
        - { sensor: s2, window_start: 0, window_end: 10000, total: 60, readings: 1 }
        - { sensor: s1, window_start: 10000, window_end: 20000, total: ${expected.lastTotal ?? 2.5}, readings: 1 }
      hot_out:
        - ${expected.hot ?? '{ sensor: s2, value: 60, ts: 2000 }'}
`;
}

const TOTALS_CASE = totalsCase('totals per sensor and window');

function writeSpec(directory: string, tests: string): string {
  const path = join(directory, 'readings.yaml');
  writeFileSync(path, `${SPEC}tests:\n${tests}`);
  return path;
}

describe('pipec test on the shipped pipelines', () => {
  it('passes every case of revenue.yaml and of sessions.test.yaml, and says windowing.yaml has none', () => {
    const result = pipec(['test', 'pipelines/revenue.yaml', 'pipelines/sessions.yaml', 'pipelines/sessions.test.yaml', 'pipelines/windowing.yaml']);
    const revenue = caseNames('pipelines/revenue.yaml');
    const sessions = caseNames('pipelines/sessions.test.yaml');
    expect(revenue).toHaveLength(3);
    expect(sessions).toHaveLength(2);
    expect(result.stdout).toBe(
      [
        'pipelines/revenue.yaml',
        ...revenue.map((name) => `  ✓ ${name}`),
        'pipelines/sessions.yaml',
        ...sessions.map((name) => `  ✓ ${name}`),
        '',
        '5 passed, 0 failed',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toContain('pipelines/windowing.yaml: no test cases');
    expect(result.status).toBe(0);
  });

  it('gives the same results with the keyed steps spread over four tasks', () => {
    const result = pipec(['test', 'pipelines/revenue.yaml', 'pipelines/sessions.yaml', '--parallelism', '4']);
    expect(result.stdout).toMatch(/\n5 passed, 0 failed\n$/);
    expect(result.status).toBe(0);
  });
});

describe('pipec test on a spec of its own', () => {
  it('passes a case whose expectations hold', () => {
    const directory = temporaryDirectory();
    writeSpec(directory, TOTALS_CASE);
    const result = pipec(['test', 'readings.yaml'], { cwd: directory });
    expect(result.stdout).toBe('readings.yaml\n  ✓ totals per sensor and window\n\n1 passed, 0 failed\n');
    expect(result.status).toBe(0);
  });

  it('fails a wrong expectation with exit code 1 and a diff naming the missing and the unexpected rows', () => {
    const directory = temporaryDirectory();
    const wrong = totalsCase('a wrong total', { lastTotal: 3, hot: '{ sensor: s3, value: 99, ts: 2000 }' });
    writeSpec(directory, TOTALS_CASE + wrong);
    const result = pipec(['test', 'readings.yaml'], { cwd: directory });
    expect(result.status).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines).toContain('  ✓ totals per sensor and window');
    expect(lines).toContain('  ✗ a wrong total');
    const diff = result.stdout.slice(result.stdout.indexOf('✗ a wrong total'));
    expect(diff).toContain('sink totals_out: expected 3 records, received 3');
    expect(diff).toContain('missing    {"sensor":"s1","window_start":10000,"window_end":20000,"total":3,"readings":1}');
    expect(diff).toContain('unexpected {"sensor":"s1","window_start":10000,"window_end":20000,"total":2.5,"readings":1}');
    expect(diff).toContain('differs in total: expected 3, received 2.5');
    expect(diff).toContain('sink hot_out: expected 1 record, received 1');
    expect(diff).toContain('missing    {"sensor":"s3","value":99,"ts":2000}');
    expect(diff).toContain('unexpected {"sensor":"s2","value":60,"ts":2000}');
    expect(lines.at(-2)).toBe('1 passed, 1 failed');
  });

  it('checks the order only with ordered: true', () => {
    const directory = temporaryDirectory();
    const reversed = (name: string, ordered: string) => `  - name: ${name}
    input:
      readings: [{ sensor: a, value: 51, ts: 1 }, { sensor: b, value: 52, ts: 2 }]${ordered}
    expected:
      hot_out: [{ sensor: b, value: 52, ts: 2 }, { sensor: a, value: 51, ts: 1 }]
`;
    writeSpec(directory, reversed('any order', '') + reversed('in order', '\n    ordered: true'));
    const result = pipec(['test', 'readings.yaml'], { cwd: directory });
    expect(result.stdout).toContain('  ✓ any order\n  ✗ in order\n');
    expect(result.stdout).toContain('sink hot_out: the expected 2 records in another order (ordered: true); first difference at #0');
    expect(result.status).toBe(1);
  });

  it('feeds bad records to the dead letter output with their index, and pinned watermarks make a record late', () => {
    const directory = temporaryDirectory();
    writeSpec(
      directory,
      `  - name: a bad reading and a late one
    input:
      readings:
        - { sensor: s1, value: 5, ts: 1000 }
        - { sensor: s1, value: lots, ts: 2000 }
        - { sensor: s1, value: 7, ts: 3000 }
    watermarks:
      readings: [{ after: 0, watermark: '1970-01-01T00:00:10Z' }]
    expected:
      totals_out: [{ sensor: s1, window_start: 0, window_end: 10000, total: 5, readings: 1 }]
      late_out: [{ sensor: s1, value: 7, ts: 3000 }]
      bad_out:
        - { source: readings, position: 'test input #1', error: "field 'value': expected float, got \\"lots\\"", raw: '{"sensor":"s1","value":"lots","ts":2000}' }
`,
    );
    const result = pipec(['test', 'readings.yaml'], { cwd: directory });
    expect(result.stdout).toContain('  ✓ a bad reading and a late one\n');
    expect(result.status).toBe(0);
  });

  it('runs the cases of <name>.test.yaml after those of the spec, given the spec or the test file', () => {
    const directory = temporaryDirectory();
    writeSpec(directory, TOTALS_CASE);
    writeFileSync(
      join(directory, 'readings.test.yaml'),
      `tests:
  - name: nothing hot
    input: { readings: [{ sensor: s1, value: 50, ts: 0 }] }
    expected: { hot_out: [] }
`,
    );
    for (const args of [['test', 'readings.yaml'], ['test', 'readings.test.yaml'], ['test', 'readings.yaml', 'readings.test.yaml']]) {
      const result = pipec(args, { cwd: directory });
      expect(result.stdout).toBe('readings.yaml\n  ✓ totals per sensor and window\n  ✓ nothing hot\n\n2 passed, 0 failed\n');
      expect(result.status).toBe(0);
    }
  });

  it('reports a case naming an unknown source or sink at its line and column, and runs nothing', () => {
    const directory = temporaryDirectory();
    writeSpec(
      directory,
      `  - name: misnamed
    input:
      reading: [{ sensor: s1, value: 5, ts: 1000 }]
    expected:
      totals: []
`,
    );
    writeFileSync(join(directory, 'readings.test.yaml'), 'tests:\n  - name: misspelt\n    input: {}\n    expectd: {}\n');
    const result = pipec(['test', 'readings.yaml'], { cwd: directory });
    expect(result.status).toBe(1);
    const errors = result.stderr.split('\n').filter((line) => / error PC\d{3} /.test(line));
    expect(errors).toEqual([
      'readings.yaml:28:7 error PC501 test `misnamed`: `reading` is not a source of pipeline `readings`; did you mean `readings`?',
      'readings.yaml:30:7 error PC502 test `misnamed`: `totals` is not a sink of pipeline `readings`; expected records are named by sink, and `totals_out` writes `totals`',
      'readings.test.yaml:4:5 error PC103 tests[0]: unknown property `expectd`; did you mean `expected`?',
    ]);
    expect(result.stdout).not.toContain('✓');
    expect(result.stdout).not.toContain('✗');

    const validated = pipec(['validate', 'readings.test.yaml'], { cwd: directory });
    expect(validated.status).toBe(1);
    expect(validated.stderr.split('\n').filter((line) => / error PC\d{3} /.test(line))).toEqual(errors);
  });

  it('reports a watermark after a record the input lacks', () => {
    const directory = temporaryDirectory();
    writeSpec(
      directory,
      `  - name: too far
    input:
      readings: [{ sensor: s1, value: 5, ts: 1000 }]
    watermarks:
      readings: [{ after: 1, watermark: 5000 }]
    expected: {}
`,
    );
    const result = pipec(['test', 'readings.yaml'], { cwd: directory });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'readings.yaml:30:27 error PC503 test `too far`: a watermark after record 1 of `readings`, which has 1 input records; `after` is the index (from 0) of one of them',
    );
  });

  it('reports a spec that does not compile with its diagnostics and exit code 1', () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, 'readings.yaml'), SPEC.replace('filter: value > 50', 'filter: valeu > 50'));
    const result = pipec(['test', 'readings.yaml'], { cwd: directory });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/readings\.yaml:14:13 error PC301 unknown field `valeu`/);
  });

  it.each([
    [['test'], /missing required argument 'spec'/],
    [['test', 'no/such/spec.yaml'], /no such spec file: no\/such\/spec\.yaml/],
    [['test', 'pipelines/revenue.yaml', '--parallelism', '0'], /--parallelism takes a whole number ≥ 1, got "0"/],
  ])('rejects %j with one line and exit code 2', (args, message) => {
    const result = pipec(args);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});

describe('pipec build and validate with test files among the specs', () => {
  it('build passes over <name>.test.yaml; validate checks it with its spec', () => {
    const directory = temporaryDirectory();
    writeSpec(directory, TOTALS_CASE);
    writeFileSync(join(directory, 'readings.test.yaml'), 'tests:\n  - name: empty\n    input: {}\n    expected: { hot_out: [] }\n');
    const built = pipec(['build', 'readings.yaml', 'readings.test.yaml', '--out-dir', 'generated', '--bundle-dir', 'dist'], { cwd: directory });
    expect(built.stderr).toBe('built generated/readings.ts and dist/readings.mjs\n');
    expect(built.status).toBe(0);
    const validated = pipec(['validate', 'readings.yaml', 'readings.test.yaml'], { cwd: directory });
    expect(validated.stderr).toBe('');
    expect(validated.status).toBe(0);
  });
});
