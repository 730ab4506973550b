// The benchmark's results and how they print: a Markdown table with ratios against the baselines of the same run.

import { availableParallelism, loadavg } from 'node:os';
import type { CaseMeasurement } from './child.ts';
import type { Dataset, DatasetName } from './datasets.ts';

/**
 * A JSON line with every fraction rounded to 12 significant digits. At parallelism above 1 a window's float sums and
 * averages may add the same records in another order (records of a key from several splits, accumulators folded on
 * another worker thread), which changes their last bits and nothing else. The end-to-end tests compare runs at other
 * parallelisms with it too.
 */
export function roundedFractions(line: string): string {
  return JSON.stringify(JSON.parse(line), (_, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(12)) : value));
}

export interface OutputDigest {
  readonly file: string;
  readonly lines: number;
  /** sha256 of the file as written. */
  readonly exact: string;
  /** sha256 of its lines sorted, every fractional number rounded to 12 significant digits. */
  readonly rounded: string;
}

export interface CaseResult {
  readonly name: string;
  readonly kind: 'floor' | 'compiled' | 'interpreted' | 'live';
  /** The bench spec (bench/specs/<spec>.yaml); undefined for the floor. */
  readonly spec: string | undefined;
  readonly parallelism: number | undefined;
  /** A variant of its spec's case (other checkpoint settings): not the one ratios of other cases refer to. */
  readonly variant: boolean;
  /** The file it read; undefined for a live case (the generator, paced). */
  readonly dataset: DatasetName | undefined;
  /** Size of the dataset file. */
  readonly bytes: number | undefined;
  readonly measurement: CaseMeasurement;
  readonly outputs: readonly OutputDigest[];
  /** A Kafka case's messages per Kafka sink, read `read_committed` from its topics after the run. */
  readonly committed?: Readonly<Record<string, number>>;
}

/** The Kafka cases' input topic, produced before they run. */
export interface KafkaInput {
  readonly records: number;
  readonly partitions: number;
  /** Producing every record, acknowledged by every replica. */
  readonly elapsedMs: number;
}

export interface OutputComparison {
  readonly candidate: string;
  readonly reference: string;
  /**
   * `exact`: the same bytes; `rounded`: the same lines in any order, fractional numbers to 12 significant digits;
   * `count`: as many Kafka messages per sink as rows.
   */
  readonly mode: 'exact' | 'rounded' | 'count';
  /** Files compared, or Kafka sinks with `count`. */
  readonly files: number;
  readonly differing: readonly string[];
  readonly equal: boolean;
}

export interface BenchReport {
  readonly profile: string;
  /** Runs per case; the fastest is reported. */
  readonly repeat: number;
  readonly datasets: readonly Dataset[];
  readonly results: readonly CaseResult[];
  readonly comparisons: readonly OutputComparison[];
  /** When Kafka cases ran. */
  readonly kafka?: KafkaInput;
  readonly elapsedMs: number;
}

/** The result of the case of this name; a case that did not run is an error. */
export function caseNamed(report: BenchReport, name: string): CaseResult {
  const found = report.results.find((result) => result.name === name);
  if (found === undefined) throw new Error(`no case ${name}`);
  return found;
}

export function recordsPerSecond(result: CaseResult): number {
  return result.measurement.records / (result.measurement.elapsedMs / 1000);
}

function floorOf(report: BenchReport, result: CaseResult): CaseResult | undefined {
  return report.results.find((other) => other.kind === 'floor' && other.dataset === result.dataset);
}

function interpreterOf(report: BenchReport, result: CaseResult): CaseResult | undefined {
  return find(report, result.spec, 'interpreted', 1, result.dataset);
}

function find(report: BenchReport, spec: string | undefined, kind: CaseResult['kind'], parallelism: number, dataset: DatasetName = 'revenue'): CaseResult | undefined {
  return report.results.find(
    (result) => result.spec === spec && result.dataset === dataset && result.kind === kind && result.parallelism === parallelism && !result.variant,
  );
}

const MIB = 1024 * 1024;

const grouped = (value: number): string => Math.round(value).toLocaleString('en-US');
const ratio = (value: number): string => `${value.toFixed(2)}×`;

export function formatReport(report: BenchReport): string {
  const header = ['case', 'records', 'records/s', 'MB/s', 'peak RSS', 'rows out', '× floor', '× interpreter'];
  const rows = report.results.map((result) => {
    const { measurement } = result;
    const seconds = measurement.elapsedMs / 1000;
    const floor = floorOf(report, result);
    const interpreter = result.kind === 'compiled' ? interpreterOf(report, result) : undefined;
    const written = Object.values(measurement.written).reduce((total, count) => total + count, 0);
    return [
      result.name,
      grouped(measurement.records),
      grouped(recordsPerSecond(result)),
      result.bytes === undefined ? '' : (result.bytes / 1e6 / seconds).toFixed(1),
      `${Math.round(measurement.maxRssBytes / MIB)} MiB`,
      result.kind === 'floor' ? '' : grouped(written),
      floor === undefined || floor === result ? '' : ratio(recordsPerSecond(result) / recordsPerSecond(floor)),
      interpreter === undefined ? '' : ratio(recordsPerSecond(result) / recordsPerSecond(interpreter)),
    ];
  });
  const datasets = report.datasets.map((dataset) => `${dataset.name} ${grouped(dataset.records)} orders (${(dataset.bytes / 1e6).toFixed(0)} MB)`);
  const out = [
    `pipec benchmark, ${report.profile} profile (node ${process.version}, ${report.results.length} cases, ${(report.elapsedMs / 1000).toFixed(0)} s)${
      datasets.length === 0 ? '' : `; datasets: ${datasets.join(', ')}`
    }`,
    '',
    ...markdownTable(header, rows, 1),
    '',
    'records/s and MB/s (10^6 bytes of input) over the wall time of the run (job built, sources opened, sinks flushed and closed);',
    'peak RSS is the maxRSS of the case\'s own process; × floor and × interpreter divide records/s by the floor\'s on the same',
    `dataset and by the interpreter's on the same spec. Cases run one at a time, in this order; ${
      report.repeat === 1 ? 'each once' : `each ${report.repeat} times, the fastest run reported`
    }.`,
    'A live case reads no file: its records/s is the rate its generator paces, less if the pipeline fell behind.',
    '',
    ...latencyLines(report),
    ...summaryLines(report),
  ];
  return `${out.join('\n')}\n`;
}

/** A Markdown table, its first `leftColumns` columns aligned left, the others (numbers) right. */
function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], leftColumns: number): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column < leftColumns ? `${'-'.repeat(width + 2)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)];
}

/** Per live case and measured sink, the latency from a row's event time to its sink; nothing when no live case ran. */
function latencyLines(report: BenchReport): string[] {
  const live = report.results.filter((result) => result.measurement.latency !== undefined);
  if (live.length === 0) return [];
  const milliseconds = (value: number | undefined) => (value === undefined ? '' : grouped(value));
  const rows = live.flatMap((result) =>
    Object.entries(result.measurement.latency!).map(([sink, latency]) => [
      result.name,
      sink,
      latency.field,
      grouped(latency.rows),
      milliseconds(latency.p50Ms),
      milliseconds(latency.p99Ms),
      milliseconds(latency.maxMs),
    ]),
  );
  return [
    'Event-to-sink latency of the live cases, ms:',
    '',
    ...markdownTable(['case', 'sink', 'event time', 'rows sampled', 'p50', 'p99', 'max'], rows, 3),
    '',
    'Latency is the wall clock when a row reaches its sink minus the row\'s event time: `window_end` for window results (the',
    'earliest moment a result could exist; the window fires once the watermark, 5 s behind the newest order, passes it), `ts`',
    'for orders passed through (5 % of orders are generated up to 4 s late, which makes the tail). Only rows written before the',
    'input ended are sampled: the end of input fires the open windows at once, early. The sinks are exactly-once, so a row',
    'becomes visible at the next checkpoint (every 10 s); the latency stops when the row reaches the sink, without that wait.',
    '',
  ];
}

/** The ratios the issues set targets for, and whether the interpreter and the parallel run agree with the compiled job. */
function summaryLines(report: BenchReport): string[] {
  const lines: string[] = [];
  const compiled = find(report, 'revenue', 'compiled', 1);
  const parallel = find(report, 'revenue', 'compiled', 2);
  const interpreted = find(report, 'revenue', 'interpreted', 1);
  if (compiled !== undefined && interpreted !== undefined) {
    lines.push(`- revenue, compiled vs interpreted at parallelism 1: ${ratio(recordsPerSecond(compiled) / recordsPerSecond(interpreted))} (target ≥ 3×)`);
  }
  for (const run of [compiled, parallel]) {
    const floor = run && floorOf(report, run);
    if (run === undefined || floor === undefined) continue;
    lines.push(`- revenue, compiled at parallelism ${run.parallelism} vs the floor: ${ratio(recordsPerSecond(run) / recordsPerSecond(floor))} (target ≥ 1.0× at parallelism 2)`);
  }
  if (compiled !== undefined && parallel !== undefined) {
    lines.push(`- revenue, compiled at parallelism 2 vs 1: ${ratio(recordsPerSecond(parallel) / recordsPerSecond(compiled))} (target ≥ 1.7× on 2 cores; the machine has ${availableParallelism()})`);
  }
  if (compiled !== undefined) {
    lines.push(
      `- revenue, compiled, peak RSS on ${grouped(compiled.measurement.records)} records: ${Math.round(compiled.measurement.maxRssBytes / MIB)} MiB (target ≤ 300 MB on 10M)`,
    );
  }
  const tumbling = find(report, 'window-tumbling', 'compiled', 1, 'windows');
  const sliding = find(report, 'window-sliding', 'compiled', 1, 'windows');
  if (tumbling !== undefined && sliding !== undefined) {
    lines.push(`- sliding 1h/5m costs ${ratio(recordsPerSecond(tumbling) / recordsPerSecond(sliding))} tumbling 1h per record, same input and aggregates (target ≤ 1.5×)`);
  }
  const unchecked = report.results.find((result) => result.name === 'revenue compiled p1, no checkpoints');
  const everySecond = report.results.find((result) => result.name === 'revenue compiled p1, checkpoints every 1 s');
  if (unchecked !== undefined && everySecond !== undefined) {
    lines.push(`- revenue with exactly-once checkpoints every 1 s vs none: ${ratio(recordsPerSecond(everySecond) / recordsPerSecond(unchecked))} of the records/s (target ≥ 0.9×)`);
  }
  for (const result of report.results) {
    const checkpoints = result.measurement.checkpoints;
    if (checkpoints === undefined) continue;
    const restore =
      checkpoints.restoreMs === undefined ? '' : `; restoring it (${grouped(checkpoints.restoredRows ?? 0)} rows) took ${(checkpoints.restoreMs / 1000).toFixed(2)} s`;
    lines.push(
      `- ${result.name}: ${checkpoints.count} checkpoints, ${(checkpoints.totalMs / 1000).toFixed(2)} s in all; the final one ${grouped(checkpoints.lastMs)} ms for ` +
        `${grouped(checkpoints.stateRows)} state rows, ${(checkpoints.stateBytes / MIB).toFixed(1)} MiB (${(checkpoints.sharedBytes / MIB).toFixed(1)} MiB shared with the one before)${restore}`,
    );
  }
  lines.push(...kafkaLines(report));
  const how = {
    exact: 'byte for byte',
    rounded: 'the same rows in any order, fractions to 12 significant digits (float sums add in another order)',
    count: 'as many messages read read_committed as rows, per sink',
  };
  for (const comparison of report.comparisons) {
    const what = comparison.mode === 'count' ? 'Kafka sink' : 'file';
    const verdict = comparison.equal ? `equal, ${how[comparison.mode]} (${comparison.files} ${what}${comparison.files === 1 ? '' : 's'})` : `DIFFERENT in ${comparison.differing.join(', ')}`;
    lines.push(`- output of ${comparison.candidate} vs ${comparison.reference}: ${verdict}`);
  }
  if (parallel !== undefined) {
    lines.push(`- parallelism 2 runs its tasks on ${Math.min(2, availableParallelism())} worker threads (as \`pipec run\`: as many as cores), each reading its splits of the dataset file (split_size in bench/specs/revenue.yaml)`);
  }
  if (!report.results.some((result) => result.kind === 'live')) {
    lines.push('- event-to-sink latency is measured by the live cases only (`--only live`): the datasets\' event times are historical');
  }
  lines.push(`- load average (1, 5, 15 min) at the end: ${loadavg().map((load) => load.toFixed(2)).join(', ')} on ${availableParallelism()} cores (other work on the machine slows the cases)`);
  return lines;
}

/** The Kafka end-to-end rates the issue asks for, and the producer's rate that filled the input topic. */
function kafkaLines(report: BenchReport): string[] {
  const { kafka } = report;
  if (kafka === undefined) return [];
  const rates = report.results
    .filter((result) => result.committed !== undefined)
    .map((result) => `${grouped(recordsPerSecond(result))} records/s at p${result.parallelism}`);
  const produce = kafka.records / (kafka.elapsedMs / 1000);
  return [
    `- Kafka end to end (topic → revenue → topics, exactly once): ${rates.join(', ')}; produce ${grouped(produce)} msg/s ` +
      `(${grouped(kafka.records)} orders into ${kafka.partitions} partitions with kafkajs, acks=all, before the cases; a private broker on loopback)`,
  ];
}
