// End to end: late data through `pipec run` on a hand-written timeline; every row, late record and dropped count
// is pinned, worked out by hand from Flink's rules (fire at end - 1, keep state until end - 1 + allowed lateness).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipec } from '../support/cli.ts';

interface Reading {
  id: string;
  key: string;
  amount: number;
  ts: number;
}

/** Every time below is T + the number written. */
const T = Date.UTC(2026, 2, 1, 12, 0, 0);

/**
 * The watermark moves only between source polls (`max event time read so far - 2 s - 1 ms`, computed after each
 * batch the file source hands over, up to 4096 records; on worker threads after up to 16 such batches). To set it
 * exactly whatever the batching, each phase ends with a barrier: BARRIER_LINES records, all at one time, dropped by
 * the spec before any window. The barrier is longer than a poll, so a poll ends inside it and the watermark becomes
 * barrier time - 2001. Every record of the
 * next phase is at or behind that barrier time (except the very last record of the file), so it cannot move the
 * watermark: each record below sees exactly the watermark written above its phase. (Only within the first phase can
 * small polls move it, to T+4999 at most, which fires the same rows a little earlier.) Run through the executor with
 * polls of 1 to 70000 records the outputs are the same; with polls longer than a barrier they are not.
 */
const BARRIER_LINES = 70_000;
const MAX_OUT_OF_ORDERNESS_MS = 2000;

const reading = (id: string, key: string, amount: number, at: number): Reading => ({ id, key, amount, ts: T + at });

/** The barrier that sets the watermark to T + `watermark`. */
function barrier(watermark: number): Reading[] {
  const at = watermark + MAX_OUT_OF_ORDERNESS_MS + 1;
  return Array.from({ length: BARRIER_LINES }, () => reading('barrier', 'barrier', 0, at));
}

/*
 * Step `totals`: tumbling 10 s windows per key (keys `tA`, `tB`), allowed lateness 5 s. W1 = [T, T+10000) fires when
 * the watermark reaches T+9999 and keeps its state until T+14999; W2 = [T+10000, T+20000) fires at T+19999.
 * Step `visits`: sessions with a 3 s gap per key (`sS`, `sT`), allowed lateness 10 s; a session [s, e) fires at
 * e - 1 and keeps its state until e - 1 + 10000.
 * Step `moving`: sliding windows of 10 s every 5 s per key (`wK`), allowed lateness 6 s; [s, s + 10000) fires at
 * s + 9999 and keeps its state until s + 15999: [-5000, 5000) fires at 4999 (kept until 10999), [0, 10000) at 9999
 * (15999), [5000, 15000) at 14999 (20999), [10000, 20000) at 19999.
 */
const PHASES: readonly (readonly Reading[])[] = [
  // Watermark: none yet.
  [
    reading('t1', 'sT', 1, 0), // session [0, 3000)
    reading('t2', 'sT', 2, 3000), // [3000, 6000) touches [0, 3000): they merge (Flink's TimeWindow.intersects)
    reading('a1', 'tA', 1, 1000),
    reading('a2', 'tA', 2, 4000),
    reading('b1', 'tB', 4, 5000),
    reading('s1', 'sS', 1, 1000), // session [1000, 4000)
    reading('s2', 'sS', 2, 6000), // session [6000, 9000)
    reading('w1', 'wK', 1, 3000), // windows [-5000, 5000) and [0, 10000)
    reading('w2', 'wK', 2, 7000), // windows [0, 10000) and [5000, 15000)
  ],
  barrier(9998),
  // Watermark T+9998: W1 not fired (one short). Both sessions fired with the barrier (at 3999 and 8999), and the
  // sliding window [-5000, 5000).
  [
    reading('w3', 'wK', 4, 4000), // updates the fired [-5000, 5000); [0, 10000) has not fired
    reading('a3', 'tA', 8, 9000), // on time into W1: no row yet
    reading('s3', 'sS', 4, 3500), // [3500, 6500) bridges the two fired sessions: merged [1000, 9000) fires again at once
  ],
  barrier(9999),
  // Watermark T+9999: W1 fired with the barrier: tA (a1 a2 a3), tB (b1); so did the sliding [0, 10000).
  [
    reading('w4', 'wK', 8, 1000), // updates both fired windows it is in, the older first
    reading('a4', 'tA', 16, 2000), // W1 within lateness: updated tA row
    reading('c1', 'tA', 32, 10000), // on time into W2
    reading('b2', 'tB', 64, 9999), // W1 within lateness: updated tB row
    reading('s4', 'sS', 8, 9500), // [9500, 12500) touches nothing: a new session
  ],
  barrier(14998),
  // Watermark T+14998: the session [9500, 12500) fired with the barrier; W1 is kept until the watermark reaches 14999.
  // The sliding [-5000, 5000) is gone.
  [
    reading('w5', 'wK', 16, 4999), // [0, 10000) only: updated
    reading('w6', 'wK', 32, 12000), // on time into [5000, 15000) and [10000, 20000)
    reading('a5', 'tA', 128, 5000), // W1, one millisecond before the end of its lateness: updated tA row
    reading('s5', 'sS', 16, 2000), // joins the fired session [1000, 9000), kept until 18999: updated row
  ],
  barrier(14999),
  // Watermark T+14999: W1 is gone; the sliding [5000, 15000) fired with the barrier.
  [
    reading('w7', 'wK', 64, -1000), // [-10000, 0) and [-5000, 5000) are both past their lateness: late
    reading('w8', 'wK', 128, 6000), // updates [0, 10000) and then [5000, 15000)
    reading('a6', 'tA', 256, 9999), // W1 past its lateness: late
    reading('b3', 'tB', 512, 0), // late
    reading('s6', 'sS', 32, -5000), // [-5000, -2000) touches no live session and is past 7999: late
    reading('c2', 'tA', 1024, 19999), // on time into W2; the last record, so it moves the watermark only after all others
  ],
  // End of input: the final watermark fires W2.
];

const SPEC = `
pipeline: late_e2e
types:
  Reading: { id: string, key: string, amount: int, ts: timestamp }
sources:
  readings:
    connector: file
    path: readings.jsonl
    type: Reading
    event_time: { field: ts, max_out_of_orderness: 2s }
steps:
  - id: by_kind
    from: readings
    split:
      tumbling: "starts_with(key, 't')"
      session: "starts_with(key, 's')"
      sliding: "starts_with(key, 'w')"
  - id: totals
    from: by_kind.tumbling
    key_by: key
    window: { tumbling: 10s, allowed_lateness: 5s, late_output: late_totals }
    aggregate: { count: count(), amount: sum(amount), ids: collect(id) }
  - id: visits
    from: by_kind.session
    key_by: key
    window: { session: { gap: 3s }, allowed_lateness: 10s, late_output: late_visits }
    aggregate: { count: count(), amount: sum(amount), ids: collect(id) }
  - id: moving
    from: by_kind.sliding
    key_by: key
    window: { sliding: { size: 10s, slide: 5s }, allowed_lateness: 6s, late_output: late_moving }
    aggregate: { count: count(), amount: sum(amount), ids: collect(id) }
sinks:
  moving_out: { from: moving, connector: file, path: moving.jsonl }
  late_moving_out: { from: late_moving, connector: file, path: late_moving.jsonl }
  totals_out: { from: totals, connector: file, path: totals.jsonl }
  visits_out: { from: visits, connector: file, path: visits.jsonl }
  late_totals_out: { from: late_totals, connector: file, path: late_totals.jsonl }
  late_visits_out: { from: late_visits, connector: file, path: late_visits.jsonl }
`;

/** The same pipeline without late outputs: records too late are counted as dropped. */
const SPEC_WITHOUT_LATE_OUTPUTS = SPEC.replace(/, late_output: \w+/g, '').replace(/ {2}late_\w+_out: .*\n/g, '');

const row = (key: string, start: number, end: number, count: number, amount: number, ids: string[]) => ({
  key,
  window_start: T + start,
  window_end: T + end,
  count,
  amount,
  ids,
});

/** In output order: rows come out when the watermark or a late record makes them. */
const EXPECTED_TOTALS = [
  row('tA', 0, 10000, 3, 11, ['a1', 'a2', 'a3']), // on time, watermark 9999
  row('tB', 0, 10000, 1, 4, ['b1']), // on time, watermark 9999
  row('tA', 0, 10000, 4, 27, ['a1', 'a4', 'a2', 'a3']), // a4, late within lateness
  row('tB', 0, 10000, 2, 68, ['b1', 'b2']), // b2, late within lateness
  row('tA', 0, 10000, 5, 155, ['a1', 'a4', 'a2', 'a5', 'a3']), // a5, at the edge of the lateness
  row('tA', 10000, 20000, 2, 1056, ['c1', 'c2']), // W2 at end of input
];

const EXPECTED_VISITS = [
  row('sS', 1000, 4000, 1, 1, ['s1']), // on time, watermark 9998
  row('sT', 0, 6000, 2, 3, ['t1', 't2']), // on time, watermark 9998 (sessions due together fire by end)
  row('sS', 6000, 9000, 1, 2, ['s2']), // on time, watermark 9998
  row('sS', 1000, 9000, 3, 7, ['s1', 's3', 's2']), // s3 merged the two
  row('sS', 9500, 12500, 1, 8, ['s4']), // on time, watermark 14998
  row('sS', 1000, 9000, 4, 23, ['s1', 's5', 's3', 's2']), // s5, late within lateness
];

const EXPECTED_MOVING = [
  row('wK', -5000, 5000, 1, 1, ['w1']), // on time, watermark 9998
  row('wK', -5000, 5000, 2, 5, ['w1', 'w3']), // w3
  row('wK', 0, 10000, 3, 7, ['w1', 'w3', 'w2']), // on time, watermark 9999
  row('wK', -5000, 5000, 3, 13, ['w4', 'w1', 'w3']), // w4, the older window
  row('wK', 0, 10000, 4, 15, ['w4', 'w1', 'w3', 'w2']), // w4, the newer window
  row('wK', 0, 10000, 5, 31, ['w4', 'w1', 'w3', 'w5', 'w2']), // w5
  row('wK', 5000, 15000, 2, 34, ['w2', 'w6']), // on time, watermark 14999
  row('wK', 0, 10000, 6, 159, ['w4', 'w1', 'w3', 'w5', 'w8', 'w2']), // w8, the older window
  row('wK', 5000, 15000, 3, 162, ['w8', 'w2', 'w6']), // w8, the newer window
  row('wK', 10000, 20000, 1, 32, ['w6']), // at end of input
];

function readRows(file: string): unknown[] {
  const text = readFileSync(file, 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as unknown);
}

/** Runs the spec on the readings in one task (so rows of different keys come out in one pinned order), or as `parallel` says. */
function run(spec: string, parallel: readonly string[] = ['--parallelism', '1']): { directory: string; status: number | null; stderr: string } {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-e2e-late-'));
  writeFileSync(join(directory, 'readings.jsonl'), PHASES.flat().map((record) => JSON.stringify(record)).join('\n') + '\n');
  writeFileSync(join(directory, 'late.yaml'), spec);
  const { status, stderr } = pipec(['run', 'late.yaml', ...parallel, '--output-path', directory], { cwd: directory });
  return { directory, status, stderr };
}

/** Rows per key, each key's in their order: tasks write rows of different keys in no order between them. */
function byKey(rows: readonly unknown[]): Map<string, unknown[]> {
  const keys = new Map<string, unknown[]>();
  for (const row of rows) {
    const key = (row as { key: string }).key;
    keys.set(key, [...(keys.get(key) ?? []), row]);
  }
  return keys;
}

describe('pipec run: late data within and beyond allowed lateness', () => {
  let withOutputs: ReturnType<typeof run>;
  let withoutOutputs: ReturnType<typeof run>;
  const byId = new Map(PHASES.flat().map((record) => [record.id, record]));

  beforeAll(() => {
    withOutputs = run(SPEC);
    withoutOutputs = run(SPEC_WITHOUT_LATE_OUTPUTS);
  });

  it('tumbling: the on-time rows, one updated row per late record within lateness, then the next window', () => {
    expect(withOutputs.status).toBe(0);
    expect(readRows(join(withOutputs.directory, 'totals.jsonl'))).toEqual(EXPECTED_TOTALS);
  });

  it('tumbling: records past the lateness go to the late output, unchanged', () => {
    expect(readRows(join(withOutputs.directory, 'late_totals.jsonl'))).toEqual([byId.get('a6'), byId.get('b3')]);
    expect(withOutputs.stderr).toContain('step totals: 2 late records to its late output');
  });

  it('sessions: a late record bridging two fired sessions merges them and fires again; later ones are late', () => {
    expect(readRows(join(withOutputs.directory, 'visits.jsonl'))).toEqual(EXPECTED_VISITS);
    expect(readRows(join(withOutputs.directory, 'late_visits.jsonl'))).toEqual([byId.get('s6')]);
    expect(withOutputs.stderr).toContain('step visits: 1 late records to its late output');
  });

  it('sliding: a late record updates every fired window it is in that is within lateness, oldest first', () => {
    expect(readRows(join(withOutputs.directory, 'moving.jsonl'))).toEqual(EXPECTED_MOVING);
    expect(readRows(join(withOutputs.directory, 'late_moving.jsonl'))).toEqual([byId.get('w7')]);
    expect(withOutputs.stderr).toContain('step moving: 1 late records to its late output');
  });

  it('without a late output the same rows come out and the late records are counted as dropped', () => {
    expect(withoutOutputs.status).toBe(0);
    expect(readRows(join(withoutOutputs.directory, 'totals.jsonl'))).toEqual(EXPECTED_TOTALS);
    expect(readRows(join(withoutOutputs.directory, 'visits.jsonl'))).toEqual(EXPECTED_VISITS);
    expect(readRows(join(withoutOutputs.directory, 'moving.jsonl'))).toEqual(EXPECTED_MOVING);
    expect(withoutOutputs.stderr).toContain('step totals: 2 records dropped as too late');
    expect(withoutOutputs.stderr).toContain('step visits: 1 records dropped as too late');
    expect(withoutOutputs.stderr).toContain('step moving: 1 records dropped as too late');
    expect(withoutOutputs.stderr).not.toContain('late output');
  });
});

describe('pipec run: late data on worker threads', () => {
  let parallel: ReturnType<typeof run>;
  const byId = new Map(PHASES.flat().map((record) => [record.id, record]));

  beforeAll(() => {
    parallel = run(SPEC, ['--parallelism', '16', '--workers', '2']);
  });

  it('the same rows, late records and updates as in one task, where records for another thread cross folded into accumulators', () => {
    expect(parallel.status).toBe(0);
    expect(byKey(readRows(join(parallel.directory, 'totals.jsonl')))).toEqual(byKey(EXPECTED_TOTALS));
    expect(byKey(readRows(join(parallel.directory, 'visits.jsonl')))).toEqual(byKey(EXPECTED_VISITS));
    expect(readRows(join(parallel.directory, 'moving.jsonl'))).toEqual(EXPECTED_MOVING);
    expect(readRows(join(parallel.directory, 'late_totals.jsonl'))).toEqual([byId.get('a6'), byId.get('b3')]);
    expect(parallel.stderr).toContain('step totals: 2 late records to its late output');
    // tA belongs to a task on the thread that reads the file, tB to one on the other: b1 crossed folded into an
    // accumulator of W1, which had not fired; b2 (within the lateness) and b3 (past it) came after W1 fired, so
    // they crossed as records, to update the row and to go to the late output.
    expect(parallel.stderr).toContain('step totals: 1 records crossed to other worker threads folded into 1 window accumulators');
  });
});
