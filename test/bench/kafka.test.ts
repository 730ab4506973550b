// The benchmark's Kafka cases (`npm run bench -- --smoke --only kafka`) on the private broker they start: every
// produced order is read, and the rows committed to the topics (read read_committed) are the rows the orders imply.
// No timing assertions.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBenchmark } from '../../bench/run.ts';
import type { Order } from '../../runtime/connectors/generator/datasets.ts';
import { caseNamed, formatReport, recordsPerSecond, type BenchReport, type CaseResult } from '../../bench/report.ts';

const REFERENCE = 'kafka: revenue p1, file → files (reference)';
const KAFKA_CASES = ['kafka: revenue p1, topic → topics, exactly once', 'kafka: revenue p2, topic → topics, exactly once'];

let report: BenchReport;

beforeAll(async () => {
  report = await runBenchmark({ profile: 'smoke', only: 'kafka', log: () => {} });
}, 180_000);

function result(name: string): CaseResult {
  return caseNamed(report, name);
}

describe('npm run bench -- --smoke --only kafka', () => {
  it('produces the dataset into the input topic and reads all of it in every case', () => {
    expect(report.results.map((r) => r.name)).toEqual([REFERENCE, ...KAFKA_CASES]);
    expect(report.kafka).toMatchObject({ records: 10_000, partitions: 4 });
    expect(report.kafka!.elapsedMs).toBeGreaterThan(0);
    for (const r of report.results) {
      expect(r.measurement.records, r.name).toBe(10_000);
      expect(recordsPerSecond(r), r.name).toBeGreaterThan(0);
    }
  });

  it('commits to the topics exactly the rows the orders imply, at parallelism 1 and 2', () => {
    const path = report.datasets.find((dataset) => dataset.name === 'kafka')!.path;
    const orders = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Order);
    const purchases = orders.filter((o) => o.event_type === 'purchase' && o.quantity > 0);
    // Out of order by at most 4 s, under the 5 s bound, also within each partition: every window fires once.
    const expected = {
      revenue_out: new Set(purchases.map((o) => `${o.category} ${Math.floor(o.ts / 60_000)}`)).size,
      high_value_out: purchases.filter((o) => o.price * o.quantity > 1000).length,
      popularity_out: new Set(purchases.map((o) => `${o.product_id} ${Math.floor(o.ts / 300_000)}`)).size,
    };
    for (const name of KAFKA_CASES) expect(result(name).committed, name).toEqual(expected);
    expect(result(REFERENCE).measurement.written).toMatchObject(expected);
  });

  it('compares each Kafka case with the file run and prints the end-to-end rates', () => {
    expect(report.comparisons.map((c) => [c.candidate, c.reference, c.mode, c.equal])).toEqual(KAFKA_CASES.map((name) => [name, REFERENCE, 'count', true]));
    const text = formatReport(report);
    expect(text).toMatch(/- Kafka end to end \(topic → revenue → topics, exactly once\): [\d,]+ records\/s at p1, [\d,]+ records\/s at p2; produce [\d,]+ msg\/s/);
  });
});
