// End to end: state larger than memory. A million orders, each its own key, make about 300k sessions open at once;
// `pipec run --state-memory 16MB` holds a small share of them in memory, stops, restores under the budget, and
// commits exactly the rows of a run without a budget. Every window kind does the same under a tiny budget. Also:
// what --state-memory refuses.

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipec, REPO_ROOT } from '../support/cli.ts';

/**
 * Sessions per order id (every order is a key of its own) with a 5 minute gap over orders 1 ms apart in event time:
 * some 300k sessions are open at any time, each firing 5 minutes after its order. Checkpoints every second (when the
 * spec takes them: the reference run takes none, and writes straight out).
 */
const spec = (checkpoints: string, backend = 'rocksdb') => `pipeline: huge
params:
  output: { type: string, default: out }
sources:
  orders:
    connector: generator
    dataset: orders
    seed: 23
    count: 1000000
    interval: 1ms
    out_of_order: 0.05
    max_lateness: 2s
    event_time: { field: ts, max_out_of_orderness: 3s }
steps:
  - id: per_order
    from: orders
    key_by: order_id
    window: { session: { gap: 5m } }
    aggregate: { events: count(), spend: sum(price * quantity), product: first(product_id), top: max(price) }
sinks:
  orders_out: { from: per_order, connector: file, path: '\${params.output}/sessions.jsonl' }
${checkpoints}
state: { backend: ${backend} }
`;

function workspace(): string {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-state-memory-'));
  writeFileSync(join(directory, 'reference.yaml'), spec(''));
  writeFileSync(join(directory, 'huge.yaml'), spec('checkpoints: { interval: 1s, retain: 2 }'));
  writeFileSync(join(directory, 'in-memory.yaml'), spec('', 'memory'));
  return directory;
}

function sessions(directory: string, output: string): string[] {
  const path = join(directory, output, 'sessions.jsonl');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').sort() : [];
}

/** The numbers of the summary's state line. */
function stateLine(stderr: string) {
  const match = /state: (\d+) rows at the end, (\d+) of them in memory; at most (\d+) rows, (\d+) in memory(?: \(--state-memory ([\d.]+ (?:B|KiB|MiB)): (\d+) rows evicted, (\d+) loaded back\))?/.exec(stderr);
  expect(match, stderr).not.toBeNull();
  const [, rows, resident, peakRows, peakResident, budget, evicted, loaded] = match!;
  return { rows: Number(rows), resident: Number(resident), peakRows: Number(peakRows), peakResident: Number(peakResident), budget, evicted: Number(evicted), loaded: Number(loaded) };
}

describe('pipec run --state-memory', () => {
  it('runs a million keys, hundreds of thousands open at once, in a 16 MB budget, through a stop and a restore, committing what a run without a budget does', () => {
    const directory = workspace();
    const reference = pipec(['run', 'reference.yaml', '--param', 'output=reference'], { cwd: directory });
    expect(reference.status, reference.stderr).toBe(0);
    const expected = sessions(directory, 'reference');
    expect(expected).toHaveLength(1_000_000);
    const unlimited = stateLine(reference.stderr);
    expect(unlimited.peakRows).toBeGreaterThan(250_000);
    expect(unlimited.peakResident).toBe(unlimited.peakRows);

    // Stopped by the record limit, the final checkpoint keeps the open sessions; the restore goes on under the budget.
    const first = pipec(['run', 'huge.yaml', '--state-memory', '16MB', '--records', '600000'], { cwd: directory });
    expect(first.status, first.stderr).toBe(0);
    const before = stateLine(first.stderr);
    expect(before.budget).toBe('16.0 MiB');
    expect(before.rows).toBeGreaterThan(250_000);
    expect(before.peakResident).toBeLessThan(before.peakRows / 4);
    expect(before.evicted).toBeGreaterThan(250_000);
    expect(before.loaded).toBeGreaterThan(100_000);

    const second = pipec(['run', 'huge.yaml', '--state-memory', '16MB', '--restore', 'latest'], { cwd: directory });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`restored from \\.pipec/checkpoints/huge/chk-\\d+ \\(${before.rows} state rows in [\\d.]+ s\\)`));
    const after = stateLine(second.stderr);
    // The restore leaves the rows past the budget in the backend, and the rest of the run loads them back.
    expect(after.rows).toBe(0);
    expect(after.peakResident).toBeLessThan(before.rows / 4);
    expect(after.evicted).toBeGreaterThan(before.rows / 2);
    expect(after.loaded).toBeGreaterThan(before.rows / 2);

    expect(sessions(directory, 'out')).toEqual(expected);
  }, 120_000);

  it('gives every window kind of pipelines/windowing.yaml the output it has without a budget, in a budget too small for it', () => {
    const directory = workspace();
    // On one thread either way (a budget keeps the tasks on the calling thread): the hour rollup adds the minute
    // rows' floats in the order they arrive, which worker threads change.
    const run = (output: string, budget: string[]) =>
      pipec(['run', join(REPO_ROOT, 'pipelines', 'windowing.yaml'), '--param', 'count=60000', '--param', `output=${output}`, '--checkpoint-dir', `checkpoints-${output}`, '--workers', '1', ...budget], { cwd: directory });
    const unlimited = run('unlimited', []);
    expect(unlimited.status, unlimited.stderr).toBe(0);
    const tight = run('tight', ['--state-memory', '64KB']);
    expect(tight.status, tight.stderr).toBe(0);
    // Sliding and global windows keep their rows in memory, more than the budget: it says so, and evicts the rest.
    expect(tight.stderr).toMatch(/state memory: the steps that keep all their rows in memory \(revenue_sliding, recent_purchases\) hold about \d+ KiB/);
    const { evicted, loaded } = stateLine(tight.stderr);
    expect(evicted).toBeGreaterThan(10_000);
    expect(loaded).toBeGreaterThan(10_000);
    const files = readdirSync(join(directory, 'unlimited'));
    expect(files).toHaveLength(7);
    for (const file of files) {
      const rows = (output: string) => readFileSync(join(directory, output, file), 'utf8').split('\n').sort();
      expect(rows('tight'), file).toEqual(rows('unlimited'));
    }
  });

  it('turns checkpoints on with the defaults when the spec takes none: evicted rows live in the backend they write', () => {
    const directory = workspace();
    const result = pipec(['run', 'reference.yaml', '--state-memory', '1MB', '--records', '20000'], { cwd: directory });
    expect(result.status, result.stderr).toBe(0);
    // More than the final one: a checkpoint comes whenever the rows in memory reach the budget.
    expect(result.stderr).toMatch(/checkpoints: ([2-9]|\d\d+) \([\d.]+ s in all\), the last \.pipec\/checkpoints\/huge\/chk-\d+ \(20000 state rows/);
    expect(stateLine(result.stderr).budget).toBe('1.0 MiB');
  });

  it.each([
    [['--state-memory', 'lots'], /--state-memory takes a size such as 512MB or 2GB \(units B, KB, MB, GB\), got "lots"/],
    [['--state-memory', '0'], /--state-memory takes a size/],
    [['--state-memory', '5XB'], /--state-memory takes a size/],
  ])('rejects %j with one line and exit code 2', (args, message) => {
    const result = pipec(['run', 'huge.yaml', ...args], { cwd: workspace() });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('refuses the memory backend, which cannot keep what is evicted, saying what to do', () => {
    const result = pipec(['run', 'in-memory.yaml', '--state-memory', '64MB'], { cwd: workspace() });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/--state-memory needs the rocksdb state backend.*`state: \{ backend: memory \}`: set rocksdb/);
  });
});
