// The benchmark's smoke run (`npm run bench -- --smoke`), so it cannot rot: every case runs and measures, the
// interpreter's output equals the compiled output, and the outputs are what the dataset implies. No timing assertions
// beyond what event time implies (a window's result cannot reach its sink before the watermark passes its end).

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBenchmark } from '../../bench/run.ts';
import { caseNamed, formatReport, recordsPerSecond, type BenchReport, type CaseResult } from '../../bench/report.ts';

const CASES = [
  'floor: read + JSON.parse (revenue data)',
  'revenue compiled p1',
  'revenue compiled p2',
  'revenue interpreted p1',
  'revenue compiled p1, no checkpoints',
  'revenue compiled p1, checkpoints every 1 s',
  'floor: read + JSON.parse (windows data)',
  'tumbling 1h compiled',
  'tumbling 1h interpreted',
  'sliding 1h/5m compiled',
  'sliding 1h/5m interpreted',
  'session 30m compiled',
  'session 30m interpreted',
  'global count 100 compiled',
  'global count 100 interpreted',
  'state: a key per order, checkpoint + restore',
  'revenue live p1, 20,000 records/s',
];

const LIVE = 'revenue live p1, 20,000 records/s';
/** The smoke profile's live case: 20,000 orders a second for 8 s. */
const LIVE_RECORDS = 160_000;
/** bench/specs/revenue-live.yaml's max_out_of_orderness: how far the watermark trails the newest event time. */
const OUT_OF_ORDERNESS_MS = 5_000;

interface Order {
  order_id: string;
  product_id: string;
  price: number;
  quantity: number;
  event_type: string;
  ts: number;
}

let report: BenchReport;

beforeAll(async () => {
  report = await runBenchmark({ profile: 'smoke', log: () => {} });
});

function result(name: string): CaseResult {
  return caseNamed(report, name);
}

function outputLines(name: string, file: string): number {
  const output = result(name).outputs.find((digest) => digest.file === file);
  if (output === undefined) throw new Error(`case ${name} wrote no ${file}`);
  return output.lines;
}

function orders(dataset: string): Order[] {
  const path = report.datasets.find((candidate) => candidate.name === dataset)!.path;
  return readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Order);
}

describe('npm run bench -- --smoke', () => {
  it('runs every case on the whole dataset and measures a positive rate and peak RSS', () => {
    expect(report.results.map((r) => r.name)).toEqual(CASES);
    for (const r of report.results) {
      expect(r.measurement.records, r.name).toBe(r.name === LIVE ? LIVE_RECORDS : 10_000);
      expect(recordsPerSecond(r), r.name).toBeGreaterThan(0);
      expect(r.measurement.maxRssBytes, r.name).toBeGreaterThan(0);
    }
  });

  it('prints a table row for every case', () => {
    const table = formatReport(report);
    for (const name of CASES) expect(table).toContain(`| ${name} `);
  });

  it('the interpreter writes exactly what the compiled job writes, for every spec', () => {
    const exact = report.comparisons.filter((c) => c.mode === 'exact');
    expect(exact.map((c) => `${c.candidate} = ${c.reference}`)).toEqual([
      'revenue interpreted p1 = revenue compiled p1',
      'revenue compiled p1, no checkpoints = revenue compiled p1',
      'revenue compiled p1, checkpoints every 1 s = revenue compiled p1',
      'tumbling 1h interpreted = tumbling 1h compiled',
      'sliding 1h/5m interpreted = sliding 1h/5m compiled',
      'session 30m interpreted = session 30m compiled',
      'global count 100 interpreted = global count 100 compiled',
    ]);
    for (const comparison of exact) expect(comparison.differing, comparison.candidate).toEqual([]);
    expect(result('revenue interpreted p1').outputs.map((o) => o.file)).toEqual([
      'bad_orders.jsonl', 'high_value.jsonl', 'late_orders.jsonl', 'popularity.jsonl', 'revenue.jsonl',
    ]);
  });

  it('takes checkpoints as the spec says, none when asked not to, and restores a key per order', () => {
    expect(result('revenue compiled p1').measurement.checkpoints?.count).toBeGreaterThanOrEqual(1);
    expect(result('revenue compiled p1, checkpoints every 1 s').measurement.checkpoints?.count).toBeGreaterThanOrEqual(1);
    expect(result('revenue compiled p1, no checkpoints').measurement.checkpoints).toBeUndefined();
    // The window specs declare no checkpoints, so their cases take none, as `pipec run` would.
    expect(result('tumbling 1h compiled').measurement.checkpoints).toBeUndefined();
    const keys = new Set(orders('windows').map((o) => o.order_id)).size;
    const state = result('state: a key per order, checkpoint + restore').measurement.checkpoints;
    expect(state).toMatchObject({ stateRows: keys, restoredRows: keys });
    expect(state!.stateBytes).toBeGreaterThan(0);
    expect(state!.restoreMs).toBeGreaterThan(0);
  });

  it('measures event-to-sink latency of the live case: window results behind the watermark, orders passed through soon', () => {
    const latency = result(LIVE).measurement.latency!;
    expect(Object.keys(latency).sort()).toEqual(['high_value_out', 'popularity_out', 'revenue_out']);
    expect(latency.revenue_out.field).toBe('window_end');
    expect(latency.popularity_out.field).toBe('window_end');
    expect(latency.high_value_out.field).toBe('ts');
    for (const [sink, measured] of Object.entries(latency)) {
      expect(measured.rows, sink).toBeGreaterThan(0);
      expect(measured.p50Ms!, sink).toBeLessThanOrEqual(measured.p99Ms!);
      expect(measured.p99Ms!, sink).toBeLessThanOrEqual(measured.maxMs!);
      // Windows still open when the input ended fired in the drain, unsampled; every row went to the sink.
      expect(measured.rows + measured.afterInputEnded, sink).toBe(result(LIVE).measurement.written[sink]);
    }
    // A window fires once the watermark, OUT_OF_ORDERNESS_MS behind the newest event time, passes its end; the
    // newest event time is never ahead of the wall clock.
    for (const windowed of [latency.revenue_out, latency.popularity_out]) {
      expect(windowed.p50Ms).toBeGreaterThanOrEqual(OUT_OF_ORDERNESS_MS);
      expect(windowed.afterInputEnded).toBeGreaterThan(0);
    }
    // Most orders reach their sink in the batch they were generated in, long before any window that holds them.
    expect(latency.high_value_out.p50Ms!).toBeLessThan(latency.revenue_out.p50Ms! / 2);
    expect(formatReport(report)).toMatch(/\| revenue live p1, 20,000 records\/s \| revenue_out +\| window_end +\| +[\d,]+ \| +[\d,]+ \|/);
  });

  it('parallelism 2 writes the same rows as parallelism 1', () => {
    const parallel = report.comparisons.find((c) => c.candidate === 'revenue compiled p2');
    expect(parallel?.mode).toBe('rounded');
    expect(parallel?.differing).toEqual([]);
  });

  it('writes the rows the dataset implies, so equal outputs are not equally empty', () => {
    const revenueOrders = orders('revenue');
    const purchases = revenueOrders.filter((o) => o.event_type === 'purchase' && o.quantity > 0);
    expect(outputLines('revenue compiled p1', 'high_value.jsonl')).toBe(purchases.filter((o) => o.price * o.quantity > 1000).length);
    expect(outputLines('revenue compiled p1', 'bad_orders.jsonl')).toBe(0);

    // The windows dataset is out of order by less than the watermark's bound, so no record is late.
    const windowOrders = orders('windows');
    const hour = 3_600_000;
    const slide = 300_000;
    const tumblingRows = new Set(windowOrders.map((o) => `${o.product_id} ${Math.floor(o.ts / hour)}`));
    expect(outputLines('tumbling 1h compiled', 'rows.jsonl')).toBe(tumblingRows.size);
    const slidingRows = new Set<string>();
    for (const o of windowOrders) {
      const lastStart = Math.floor(o.ts / slide) * slide;
      for (let start = lastStart; start > o.ts - hour; start -= slide) slidingRows.add(`${o.product_id} ${start}`);
    }
    expect(outputLines('sliding 1h/5m compiled', 'rows.jsonl')).toBe(slidingRows.size);
    const perProduct = new Map<string, number>();
    for (const o of windowOrders) perProduct.set(o.product_id, (perProduct.get(o.product_id) ?? 0) + 1);
    const globalRows = [...perProduct.values()].reduce((total, count) => total + Math.floor(count / 100), 0);
    expect(outputLines('global count 100 compiled', 'rows.jsonl')).toBe(globalRows);
  });
});
