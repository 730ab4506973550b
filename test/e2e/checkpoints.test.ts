// End to end: exactly-once recovery. `pipec run` is killed with SIGKILL at random instants, several times, and
// restored with `--restore latest` (at changing parallelism); the committed output must equal that of a run that was
// never killed: every row once. Also: an incompatible restore is refused, and `pipec state inspect` reads a checkpoint.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipec } from '../support/cli.ts';
import { checkpointsIn, runAndKill as killAfterCheckpoint } from '../support/kill.ts';
import { roundedFractions } from '../../bench/report.ts';

/**
 * Orders at a steady rate through a stateless filter, a tumbling window per category and sessions per user, with a
 * checkpoint every 300 ms. Records are at most 2 s out of order and the watermark allows 3 s, so no record is ever
 * late: the rows do not depend on how records fall into batches, and a run at another rate must give the same.
 */
const SPEC = `pipeline: crashy
params:
  rate: { type: float, default: 8000 }
  backend: { type: string, default: rocksdb }
  revenue: { type: string, default: sum(price * quantity) }
sources:
  orders:
    connector: generator
    dataset: orders
    seed: 11
    count: 30000
    rate: \${params.rate}
    interval: 10ms
    out_of_order: 0.1
    max_lateness: 2s
    event_time: { field: ts, max_out_of_orderness: 3s }
steps:
  - id: purchases
    from: orders
    filter: event_type == 'purchase'
  - id: per_category
    from: orders
    key_by: category
    window: { tumbling: 10s }
    aggregate: { orders: count(), units: sum(quantity), users: count_distinct(user_id), revenue: \${params.revenue}, top: max(price) }
  - id: sessions
    from: orders
    key_by: user_id
    window: { session: { gap: 20s } }
    aggregate: { events: count(), spend: sum(price * quantity), first_product: first(product_id) }
sinks:
  windows_out: { from: per_category, connector: file, path: out/windows.jsonl }
  sessions_out: { from: sessions, connector: file, path: out/sessions.jsonl }
  purchases_out: { from: purchases, connector: file, path: out/purchases.jsonl }
checkpoints: { interval: 300ms, retain: 2 }
state: { backend: '\${params.backend}' }
`;

const OUTPUTS = ['windows.jsonl', 'sessions.jsonl', 'purchases.jsonl'];

function workspace(): string {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-checkpoints-'));
  writeFileSync(join(directory, 'crashy.yaml'), SPEC);
  return directory;
}

/**
 * The committed output: each file's lines, sorted (tasks may order rows differently; a repeat still shows), with
 * fractions to 12 significant digits (a run restored at another parallelism may add a float sum in another order).
 */
function committed(directory: string): Record<string, string[]> {
  const read = (file: string) => {
    const path = join(directory, 'out', file);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '').map(roundedFractions).sort() : [];
  };
  return Object.fromEntries(OUTPUTS.map((file) => [file, read(file)]));
}

function checkpointDirectory(directory: string): string {
  return join(directory, '.pipec', 'checkpoints', 'crashy');
}

/** Runs the spec in `directory` and kills it after its next checkpoint and `delayMs` more. */
function runAndKill(directory: string, args: readonly string[], delayMs: number): Promise<'killed' | 'finished'> {
  return killAfterCheckpoint(directory, ['crashy.yaml', ...args], checkpointDirectory(directory), delayMs);
}

describe.each(['rocksdb', 'memory'])('exactly-once recovery with the %s backend', (backend) => {
  it('commits every row once through SIGKILLs at random instants and restores at other parallelisms', async () => {
    const reference = workspace();
    const uninterrupted = pipec(['run', 'crashy.yaml', '--param', 'rate=0', '--param', `backend=${backend}`], { cwd: reference });
    expect(uninterrupted.status, uninterrupted.stderr).toBe(0);
    const expected = committed(reference);
    expect(expected['windows.jsonl'].length).toBeGreaterThan(50);
    expect(expected['sessions.jsonl'].length).toBeGreaterThan(100);
    expect(expected['purchases.jsonl'].length).toBeGreaterThan(1000);

    const directory = workspace();
    const expectedLines = new Set(Object.values(expected).flat());
    const kills: string[] = [];
    let outcome = await runAndKill(directory, ['--param', `backend=${backend}`], Math.random() * 400);
    while (outcome === 'killed' && kills.length < 4) {
      kills.push(checkpointsIn(checkpointDirectory(directory)).sort().at(-1)!);
      // What is visible after a kill is committed output only: whole rows of the uninterrupted run, no repeats.
      for (const [file, rows] of Object.entries(committed(directory))) {
        for (const row of rows) expect(expectedLines.has(row), `${file}: ${row}`).toBe(true);
        expect(new Set(rows).size).toBe(rows.length);
      }
      const parallelism = String(1 + (kills.length % 3));
      outcome = await runAndKill(directory, ['--restore', 'latest', '--parallelism', parallelism, '--param', `backend=${backend}`], Math.random() * 600);
    }
    if (outcome === 'killed') {
      const last = pipec(['run', 'crashy.yaml', '--restore', 'latest', '--param', `backend=${backend}`], { cwd: directory });
      expect(last.status, last.stderr).toBe(0);
      expect(last.stderr).toMatch(/restored from \.pipec\/checkpoints\/crashy\/chk-\d+ \(\d+ state rows in \d+\.\d\d s\)/);
    }
    // Killed mid-run at least twice, each time after a checkpoint of its own.
    expect(kills.length).toBeGreaterThanOrEqual(2);
    expect(committed(directory)).toEqual(expected);
  });
});

describe('restoring a checkpoint', () => {
  it('refuses a checkpoint whose state no longer fits the pipeline, and takes it with a new uid', () => {
    const directory = workspace();
    // Stopped early by --records, the final checkpoint keeps open windows: state to refuse, or to drop.
    const first = pipec(['run', 'crashy.yaml', '--param', 'rate=0', '--records', '5000'], { cwd: directory });
    expect(first.status, first.stderr).toBe(0);

    const changed = pipec(['run', 'crashy.yaml', '--restore', 'latest', '--param', 'revenue=max(price * quantity)'], { cwd: directory });
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain('PC401');
    expect(changed.stderr).toContain('per_category');
    expect(changed.stderr).toContain('revenue');
    expect(changed.stderr).toMatch(/new `uid`/);

    writeFileSync(join(directory, 'crashy.yaml'), SPEC.replace('  - id: per_category\n', '  - id: per_category\n    uid: per_category_v2\n'));
    const renamed = pipec(['run', 'crashy.yaml', '--restore', 'latest', '--param', 'revenue=max(price * quantity)'], { cwd: directory });
    expect(renamed.status, renamed.stderr).toBe(0);
    expect(renamed.stderr).toMatch(/dropped \d+ state rows of 'per_category', which no step of the pipeline has now/);
  });

  it('resets a migrated field when restoring the old version, and not again when restoring a checkpoint of the new one', () => {
    // Sessions migrate too: many of them get no record between a restore and the next checkpoint, so a backend that
    // kept their old sums (rather than the reset values) would hand those back to the restore after the crash.
    const migrated = SPEC.replace('    window: { tumbling: 10s }\n', '    window: { tumbling: 10s }\n    migrate: { reset: [revenue] }\n')
      .replace('    window: { session: { gap: 20s } }\n', '    window: { session: { gap: 20s } }\n    migrate: { reset: [spend] }\n')
      .replace('spend: sum(price * quantity)', 'spend: max(price * quantity)');
    const toMax = ['--param', 'rate=0', '--param', 'revenue=max(price * quantity)'];
    /** Old version for 5000 records, the new one for 5000 more, then (`crash`) stopped and restored, or on to the end. */
    const windowRows = (directory: string) => readFileSync(join(directory, 'out', 'windows.jsonl'), 'utf8').split('\n').filter((line) => line !== '');
    const run = (crash: boolean) => {
      const directory = workspace();
      expect(pipec(['run', 'crashy.yaml', '--param', 'rate=0', '--records', '5000'], { cwd: directory }).status).toBe(0);
      const before = windowRows(directory).length;
      writeFileSync(join(directory, 'crashy.yaml'), migrated);
      const steps = crash ? [['--records', '5000'], []] : [[]];
      for (const extra of steps) {
        const result = pipec(['run', 'crashy.yaml', '--restore', 'latest', ...toMax, ...extra], { cwd: directory });
        expect(result.status, result.stderr).toBe(0);
      }
      // Every row of the new version is a largest order value: at most 5 (the generator's largest quantity) times
      // the largest price, which the old version's sums (carried over if the reset were missing) are far above; null
      // for a window restored with the field reset that got no record since.
      const after = windowRows(directory).slice(before).map((line) => JSON.parse(line) as { revenue: number | null; top: number });
      expect(after.filter((row) => row.revenue !== null).length).toBeGreaterThan(50);
      for (const row of after) if (row.revenue !== null) expect(row.revenue).toBeLessThanOrEqual(5 * row.top);
      const { 'windows.jsonl': windows, 'sessions.jsonl': sessions } = committed(directory);
      return { windows, sessions };
    };
    const straight = run(false);
    expect(straight.windows.length).toBeGreaterThan(50);
    expect(run(true)).toEqual(straight);
  });

  it('refuses a checkpoint with another number of key groups, saying which to use', () => {
    const directory = workspace();
    expect(pipec(['run', 'crashy.yaml', '--param', 'rate=0'], { cwd: directory }).status).toBe(0);
    const result = pipec(['run', 'crashy.yaml', '--restore', 'latest', '--max-parallelism', '64'], { cwd: directory });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('--max-parallelism 128');
  });

  it('says so when there is no checkpoint to restore', () => {
    const directory = workspace();
    const result = pipec(['run', 'crashy.yaml', '--restore', 'latest'], { cwd: directory });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('no complete checkpoint');
  });
});

describe('pipec state inspect', () => {
  it("prints a checkpoint's positions and a step's rows, and one key's rows as JSON", async () => {
    const directory = workspace();
    // Stopped early by --records, the final checkpoint keeps the open windows and sessions.
    const run = pipec(['run', 'crashy.yaml', '--param', 'rate=0', '--records', '5000'], { cwd: directory });
    expect(run.status, run.stderr).toBe(0);
    const text = pipec(['state', 'inspect', '.pipec/checkpoints/crashy', '--step', 'per_category'], { cwd: directory });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^checkpoint \d+ of pipeline crashy/);
    expect(text.stdout).toContain('source orders split 0: resumes at');
    expect(text.stdout).toMatch(/step per_category: tumbling keyed by string; orders: count\(\)/);
    expect(text.stdout).not.toContain('step sessions');
    expect(text.stdout).toMatch(/key (electronics|books|clothing|home|sports|toys|beauty|grocery) {2}namespace \d+ {2}\{/);

    const json = pipec(['state', 'inspect', '.pipec/checkpoints/crashy', '--step', 'per_category', '--key', 'books', '--format', 'json'], { cwd: directory });
    expect(json.status, json.stderr).toBe(0);
    const rows = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { step: string; key: string; value: { acc: { orders: number } } });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect([row.step, row.key]).toEqual(['per_category', 'books']);
    expect(rows.every((row) => row.value.acc.orders > 0)).toBe(true);
  });

  it('exits 2 with one line for a path that holds no checkpoint', () => {
    const result = pipec(['state', 'inspect', tmpdir() + '/no-such-checkpoint']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
