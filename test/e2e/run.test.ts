// End to end: `pipec run` options — record and time limits, a clean stop on SIGINT, bundles, params, parallelism.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipec, REPO_ROOT } from '../support/cli.ts';

/** Orders from the generator, counted per 10-second window; `count` and `rate` are parameters. */
const SPEC = `pipeline: counts
params:
  count: { type: int, default: 5000 }
  rate: { type: float, default: 0 }
  size: { type: duration, default: 10s }
sources:
  orders:
    connector: generator
    dataset: orders
    seed: 3
    count: \${params.count}
    rate: \${params.rate}
    out_of_order: 0.1
    max_lateness: 2s
    event_time: { field: ts, max_out_of_orderness: 2s }
steps:
  - id: per_category
    from: orders
    key_by: category
    window: { tumbling: '\${params.size}' }
    aggregate: { orders: count(), units: sum(quantity) }
sinks:
  out: { from: per_category, connector: file, path: counts.jsonl }
  all: { from: orders, connector: file, path: orders.jsonl }
`;

function workspace(): string {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-run-'));
  writeFileSync(join(directory, 'counts.yaml'), SPEC);
  return directory;
}

function lines(file: string): Record<string, number | string>[] {
  const text = readFileSync(file, 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as Record<string, number | string>);
}

/** Total of `field` over rows, independent of how pipec grouped them. */
const sum = (rows: readonly Record<string, number | string>[], field: string) => rows.reduce((total, row) => total + Number(row[field]), 0);

describe('pipec run', () => {
  it('stops after --records source records and drains the windows', () => {
    const directory = workspace();
    const result = pipec(['run', 'counts.yaml', '--records', '1234', '--param', 'count=0', '--output-path', directory], { cwd: directory });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('stopped by record limit');
    expect(lines(join(directory, 'orders.jsonl'))).toHaveLength(1234);
    // Every record read is in exactly one window row.
    expect(sum(lines(join(directory, 'counts.jsonl')), 'orders')).toBe(1234);
  });

  it('stops after --duration seconds on an unbounded source', () => {
    const directory = workspace();
    const result = pipec(['run', 'counts.yaml', '--duration', '1', '--param', 'count=0', '--param', 'rate=2000'], { cwd: directory });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('stopped by duration');
    const read = lines(join(directory, 'orders.jsonl')).length;
    expect(read).toBeGreaterThan(0);
    expect(sum(lines(join(directory, 'counts.jsonl')), 'orders')).toBe(read);
  });

  it('stops cleanly on SIGINT: windows drained, sinks flushed, exit 0', async () => {
    const directory = workspace();
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'pipec.js'), 'run', 'counts.yaml', '--param', 'count=0', '--param', 'rate=5000'], {
      cwd: directory,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Wait until records are flowing, then interrupt.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const written = (() => {
        try {
          return readFileSync(join(directory, 'orders.jsonl'), 'utf8').length;
        } catch {
          return 0;
        }
      })();
      if (written > 0) break;
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).toContain('stopped by signal');
    const read = lines(join(directory, 'orders.jsonl')).length;
    expect(read).toBeGreaterThan(0);
    expect(sum(lines(join(directory, 'counts.jsonl')), 'orders')).toBe(read);
  });

  it('gives the same rows at parallelism 1 and 4', () => {
    const rows = (parallelism: string) => {
      const directory = workspace();
      expect(pipec(['run', 'counts.yaml', '--parallelism', parallelism], { cwd: directory }).status).toBe(0);
      return lines(join(directory, 'counts.jsonl')).map((row) => JSON.stringify(row)).sort();
    };
    const one = rows('1');
    expect(one.length).toBeGreaterThan(8);
    expect(rows('4')).toEqual(one);
  });

  it('runs a bundle built by pipec build, and --param changes what a spec computes', () => {
    const directory = workspace();
    expect(pipec(['build', 'counts.yaml', '--out-dir', join(directory, 'generated'), '--bundle-dir', join(directory, 'dist')], { cwd: directory }).status).toBe(0);
    const bundled = pipec(['run', join(directory, 'dist', 'counts.mjs'), '--output-path', join(directory, 'from-bundle')], { cwd: directory });
    expect(bundled.status).toBe(0);
    expect(sum(lines(join(directory, 'from-bundle', 'counts.jsonl')), 'orders')).toBe(5000);

    const wider = pipec(['run', 'counts.yaml', '--param', 'size=1m', '--output-path', join(directory, 'wider')], { cwd: directory });
    expect(wider.status).toBe(0);
    const rows = lines(join(directory, 'wider', 'counts.jsonl'));
    expect(sum(rows, 'orders')).toBe(5000);
    expect(rows.every((row) => Number(row.window_end) - Number(row.window_start) === 60_000)).toBe(true);

    const refused = pipec(['run', join(directory, 'dist', 'counts.mjs'), '--param', 'size=1m'], { cwd: directory });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--param needs the spec/);
  });

  it('counts and logs bad records with their line when the source names no dead-letter output', () => {
    const directory = workspace();
    writeFileSync(join(directory, 'in.jsonl'), '{"id": "a", "n": 1}\nnot json\n{"id": "b", "n": "two"}\n{"id": "c", "n": 3}\n');
    writeFileSync(join(directory, 'bad.yaml'), `pipeline: bad
types:
  Row: { id: string, n: int }
sources:
  rows: { connector: file, path: in.jsonl, type: Row }
sinks:
  out: { from: rows, connector: file, path: out.jsonl }
`);
    const result = pipec(['run', 'bad.yaml', '--output-path', directory], { cwd: directory });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('bad record in source rows at in.jsonl:2: unparsable JSON');
    expect(result.stderr).toContain(`bad record in source rows at in.jsonl:3: field 'n': expected int, got "two"`);
    expect(result.stderr).toContain('source rows: 4 records (');
    expect(result.stderr).toContain('2 bad');
    expect(lines(join(directory, 'out.jsonl')).map((row) => row.id)).toEqual(['a', 'c']);
  });

  it('runs a source without event_time in processing time: records are timed when they are read', () => {
    const directory = workspace();
    writeFileSync(join(directory, 'in.jsonl'), Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: `r${i}`, n: i % 7 })).join('\n') + '\n');
    writeFileSync(join(directory, 'processing.yaml'), `pipeline: processing
types:
  Row: { id: string, n: int }
sources:
  rows: { connector: file, path: in.jsonl, type: Row }
steps:
  - id: per_n
    from: rows
    key_by: n
    window: { tumbling: 1h }
    aggregate: { rows: count() }
sinks:
  out: { from: per_n, connector: file, path: out.jsonl }
`);
    const before = Date.now();
    const result = pipec(['run', 'processing.yaml', '--output-path', directory], { cwd: directory });
    const after = Date.now();
    expect(result.status).toBe(0);
    const rows = lines(join(directory, 'out.jsonl'));
    expect(sum(rows, 'rows')).toBe(500);
    expect(new Set(rows.map((row) => row.n)).size).toBe(7);
    // Each row's window holds the wall-clock time of the run (the hour of reading; 2 hours if the run spans one).
    for (const row of rows) {
      expect(Number(row.window_end)).toBeGreaterThan(before - 3_600_000);
      expect(Number(row.window_start)).toBeLessThanOrEqual(after);
    }
  });

  it('dedupes across source shards read by different tasks: each key is deduped in the task that owns it', () => {
    const directory = workspace();
    writeFileSync(join(directory, 'dedupe.yaml'), `pipeline: dedupe_shards
sources:
  orders: { connector: generator, dataset: orders, count: 20000, shards: 4, event_time: { field: ts } }
steps:
  - id: first_per_user
    from: orders
    dedupe: { key: user_id, within: 1000d }
sinks:
  all: { from: orders, connector: file, path: all.jsonl }
  unique: { from: first_per_user, connector: file, path: unique.jsonl }
`);
    const result = pipec(['run', 'dedupe.yaml', '--parallelism', '4', '--output-path', directory], { cwd: directory });
    expect(result.status).toBe(0);
    const all = lines(join(directory, 'all.jsonl'));
    const unique = lines(join(directory, 'unique.jsonl'));
    expect(all).toHaveLength(20000);
    // Within 1000 days every user is one key kept once, whatever order the shards arrive in.
    const users = new Set(all.map((row) => row.user_id));
    expect(unique).toHaveLength(users.size);
    expect(new Set(unique.map((row) => row.user_id)).size).toBe(users.size);
  });

  it('reports a missing input file in one line and exits 1', () => {
    const directory = workspace();
    writeFileSync(join(directory, 'missing.yaml'), `pipeline: missing
types:
  Row: { id: string }
sources:
  rows: { connector: file, path: nowhere.jsonl, type: Row }
sinks:
  out: { from: rows, connector: file, path: out.jsonl }
`);
    const result = pipec(['run', 'missing.yaml'], { cwd: directory });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^pipec: file source: cannot open 'nowhere\.jsonl' .*no such file \(PIPEC_DEBUG=1 shows where\)$/)]);
  });
});
