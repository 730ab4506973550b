// The benchmark runner: compiled pipelines against the floor (read + JSON.parse) and an unfused interpreter of the same
// spec, each case in a child process of its own.
//   npm run bench [-- --quick | --smoke] [--kafka] [--repeat N] [--only TEXT] [--cpu-prof]
//
// Every case runs the way `pipec run` runs a spec: the spec is compiled by compiler/index.ts and bundled by
// compiler/bundle, and the child imports the bundle and calls the runJob it exports. Datasets are generated once
// into .pipec/bench-data/ and reused; builds and outputs go under .pipec/bench-run-<pid>/ and are removed at the end.
// The Kafka cases (full profile, or --kafka) start a private broker (scripts/kafka/broker.ts), fill its input topic
// from their dataset, and stop it at the end. The live cases read no dataset: the generator paces orders at a rate
// with event times from the wall clock (bench/specs/revenue-live.yaml), and their sinks measure event-to-sink latency.

import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { compile, PIPEC_ROOT } from '../compiler/index.ts';
import { bundle, nativeAddons } from '../compiler/bundle/index.ts';
import { formatDiagnostics } from '../compiler/diagnostics/format.ts';
import type { CaseMeasurement, CaseTask } from './child.ts';
import { ensureDataset, type Dataset, type DatasetName } from './datasets.ts';
import { typedPipelineToJson } from './ir-json.ts';
import type { EventTimeFields } from './latency.ts';
import { countCommitted, createTopics, INPUT_PARTITIONS, KAFKA_SINKS, produceFile } from './kafka.ts';
import { formatReport, roundedFractions, type BenchReport, type CaseResult, type KafkaInput, type OutputComparison, type OutputDigest } from './report.ts';
import { startBroker, type KafkaBroker } from '../scripts/kafka/broker.ts';

export type ProfileName = 'smoke' | 'quick' | 'full';

/** Records per dataset for each profile. */
const profiles: Readonly<Record<ProfileName, Readonly<Record<DatasetName, number>>>> = {
  smoke: { revenue: 10_000, windows: 10_000, kafka: 10_000 },
  quick: { revenue: 300_000, windows: 300_000, kafka: 100_000 },
  full: { revenue: 10_000_000, windows: 1_000_000, kafka: 1_000_000 },
};

/**
 * How long each live case feeds orders, per profile. A window's result is written once the watermark, 5 s behind
 * the newest event time, passes its end: a shorter run would end before any window closed on its own.
 */
const liveSeconds: Readonly<Record<ProfileName, number>> = { smoke: 8, quick: 10, full: 30 };

/** The specs the cases run, under bench/specs/. */
type SpecName = 'revenue' | 'revenue-kafka' | 'revenue-live' | 'window-tumbling' | 'window-sliding' | 'window-session' | 'window-global' | 'state-keys';

/** How a case that reads a dataset file runs. */
type FileRun =
  | { readonly kind: 'floor' }
  | {
      readonly kind: 'compiled' | 'interpreted';
      readonly spec: SpecName;
      readonly parallelism: number;
      /**
       * Checkpoints as the spec declares them (default), none, or every `intervalMs`; a variant other than the
       * default is named in the report and compared only with its own spec's default case.
       */
      readonly checkpoints?: 'none' | { readonly intervalMs: number };
      /** Restore the final checkpoint afterwards and measure how long that takes. */
      readonly restore?: boolean;
      /** Reads and writes the bench's broker: its input topic holds the dataset, its output topics are counted after. */
      readonly broker?: boolean;
    };

/** A live case: the generator paces orders at `rate` per second of wall time, for the profile's liveSeconds. */
interface LiveRun {
  readonly kind: 'live';
  readonly spec: 'revenue-live';
  readonly parallelism: 1;
  readonly rate: number;
}

type CaseDefinition =
  | (CaseCommon & { readonly dataset: DatasetName; readonly run: FileRun })
  | (CaseCommon & { readonly dataset?: undefined; readonly run: LiveRun });

interface CaseCommon {
  readonly name: string;
  /** Runs only in these profiles (default: all). */
  readonly profiles?: readonly ProfileName[];
}

/** revenue-live's sinks and the field their latency counts from: the earliest moment a window's result can exist, an order's own time. */
const revenueLatencyFields: EventTimeFields = { revenue_out: 'window_end', popularity_out: 'window_end', high_value_out: 'ts' };

const windowCases: readonly { readonly spec: SpecName; readonly label: string }[] = [
  { spec: 'window-tumbling', label: 'tumbling 1h' },
  { spec: 'window-sliding', label: 'sliding 1h/5m' },
  { spec: 'window-session', label: 'session 30m' },
  { spec: 'window-global', label: 'global count 100' },
];

/** In the order they run and print. */
export const caseDefinitions: readonly CaseDefinition[] = [
  { name: 'floor: read + JSON.parse (revenue data)', dataset: 'revenue', run: { kind: 'floor' } },
  { name: 'revenue compiled p1', dataset: 'revenue', run: { kind: 'compiled', spec: 'revenue', parallelism: 1 } },
  { name: 'revenue compiled p2', dataset: 'revenue', run: { kind: 'compiled', spec: 'revenue', parallelism: 2 } },
  { name: 'revenue interpreted p1', dataset: 'revenue', run: { kind: 'interpreted', spec: 'revenue', parallelism: 1 } },
  { name: 'revenue compiled p1, no checkpoints', dataset: 'revenue', run: { kind: 'compiled', spec: 'revenue', parallelism: 1, checkpoints: 'none' } },
  {
    name: 'revenue compiled p1, checkpoints every 1 s',
    dataset: 'revenue',
    run: { kind: 'compiled', spec: 'revenue', parallelism: 1, checkpoints: { intervalMs: 1000 } },
  },
  { name: 'floor: read + JSON.parse (windows data)', dataset: 'windows', run: { kind: 'floor' } },
  ...windowCases.flatMap(({ spec, label }): CaseDefinition[] => [
    { name: `${label} compiled`, dataset: 'windows', run: { kind: 'compiled', spec, parallelism: 1 } },
    { name: `${label} interpreted`, dataset: 'windows', run: { kind: 'interpreted', spec, parallelism: 1 } },
  ]),
  { name: 'state: a key per order, checkpoint + restore', dataset: 'windows', run: { kind: 'compiled', spec: 'state-keys', parallelism: 1, restore: true } },
  // The Kafka cases: the same orders from a file (the reference for their row counts), then from a topic to topics.
  { name: 'kafka: revenue p1, file → files (reference)', dataset: 'kafka', run: { kind: 'compiled', spec: 'revenue', parallelism: 1 } },
  { name: 'kafka: revenue p1, topic → topics, exactly once', dataset: 'kafka', run: { kind: 'compiled', spec: 'revenue-kafka', parallelism: 1, broker: true } },
  { name: 'kafka: revenue p2, topic → topics, exactly once', dataset: 'kafka', run: { kind: 'compiled', spec: 'revenue-kafka', parallelism: 2, broker: true } },
  { name: 'revenue live p1, 20,000 records/s', run: { kind: 'live', spec: 'revenue-live', parallelism: 1, rate: 20_000 } },
  // Latency under load: five times the orders per batch and per window, on the same one thread.
  { name: 'revenue live p1, 100,000 records/s', run: { kind: 'live', spec: 'revenue-live', parallelism: 1, rate: 100_000 }, profiles: ['quick', 'full'] },
];

export interface BenchOptions {
  readonly profile: ProfileName;
  /** Run only the cases whose name contains this text (the floor of their dataset always runs). */
  readonly only?: string;
  /** Run the Kafka cases (a broker starts for them); default: in the full profile. `only` naming them runs them too. */
  readonly kafka?: boolean;
  /** Runs of each case; the fastest counts (the others were slowed by something else on the machine). Default 1. */
  readonly repeat?: number;
  /** Write a CPU profile of every child here (node --cpu-prof). */
  readonly cpuProfileDirectory?: string;
  readonly log: (line: string) => void;
}

export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const started = performance.now();
  const sizes = profiles[options.profile];
  const repeat = options.repeat ?? 1;
  const kafka = options.kafka ?? options.profile === 'full';
  const selected = caseDefinitions.filter(
    (definition) =>
      (definition.profiles === undefined || definition.profiles.includes(options.profile)) &&
      (options.only === undefined ? kafka || definition.dataset !== 'kafka' : definition.run.kind === 'floor' || definition.name.includes(options.only)),
  );
  const needed = selected.filter((definition) => definition.run.kind !== 'floor' || selected.some((other) => other.run.kind !== 'floor' && other.dataset === definition.dataset));
  const workDirectory = join(PIPEC_ROOT, '.pipec', `bench-run-${process.pid}`);
  rmSync(workDirectory, { recursive: true, force: true });
  mkdirSync(workDirectory, { recursive: true });
  let broker: KafkaBroker | undefined;
  try {
    const datasets = new Map<DatasetName, Dataset>();
    for (const definition of needed) {
      if (definition.dataset !== undefined && !datasets.has(definition.dataset)) {
        datasets.set(definition.dataset, await ensureDataset(join(PIPEC_ROOT, '.pipec', 'bench-data'), definition.dataset, sizes[definition.dataset], options.log));
      }
    }
    const buildDirectory = join(workDirectory, 'build');
    const child = await buildChild(buildDirectory);
    const builds = new Map<string, BuiltSpec>();
    for (const definition of needed) {
      const run = definition.run;
      if (run.kind === 'floor') continue;
      const key = buildKey(run.spec, definition);
      if (builds.has(key)) continue;
      options.log(`compiling bench/specs/${run.spec}.yaml`);
      // A directory per build: the module is named after the pipeline, which several specs share.
      const params = definition.dataset === undefined ? liveParams(definition.run, options.profile) : fileParams(run.spec, datasets.get(definition.dataset)!);
      builds.set(key, await buildSpec(run.spec, params, join(buildDirectory, key)));
    }
    let kafkaInput: KafkaInput | undefined;
    if (needed.some((definition) => definition.run.kind === 'compiled' && definition.run.broker)) {
      const dataset = datasets.get('kafka')!;
      options.log('starting a Kafka broker');
      broker = await startBroker();
      await createTopics(broker.bootstrapServers);
      options.log(`producing ${dataset.records} orders into ${INPUT_PARTITIONS} partitions`);
      const produced = await produceFile(broker.bootstrapServers, dataset.path);
      if (produced.records !== dataset.records) throw new Error(`produced ${produced.records} records of a ${dataset.records}-record dataset`);
      kafkaInput = { ...produced, partitions: INPUT_PARTITIONS };
    }
    // What earlier runs committed to the output topics, which every run writes to in turn.
    let committedBefore: Readonly<Record<string, number>> = {};
    const committedSince = async (servers: string): Promise<Record<string, number>> => {
      const total = await countCommitted(servers);
      const since = Object.fromEntries(Object.entries(total).map(([sink, count]) => [sink, count - (committedBefore[sink] ?? 0)]));
      committedBefore = total;
      return since;
    };
    const results: CaseResult[] = [];
    for (const [index, definition] of needed.entries()) {
      const dataset = definition.dataset === undefined ? undefined : datasets.get(definition.dataset)!;
      const records = definition.dataset === undefined ? liveRecords(definition.run, options.profile) : sizes[definition.dataset];
      const outputPath = join(workDirectory, 'output', String(index));
      mkdirSync(outputPath, { recursive: true });
      options.log(`running ${definition.name} on ${records} records`);
      const onBroker = definition.run.kind === 'compiled' && definition.run.broker === true ? broker!.bootstrapServers : undefined;
      const paths = { output: outputPath, checkpoints: join(workDirectory, 'checkpoints', String(index)) };
      const built = definition.run.kind === 'floor' ? undefined : builds.get(buildKey(definition.run.spec, definition));
      const task = caseTask(definition, dataset, built, paths, onBroker);
      let measurement: CaseMeasurement | undefined;
      let committed: Record<string, number> | undefined;
      for (let attempt = 1; attempt <= repeat; attempt++) {
        const name = repeat === 1 ? slug(definition.name) : `${slug(definition.name)}-${attempt}`;
        const attemptMeasurement = await runChild(child, task, options.cpuProfileDirectory, name);
        // Every run appends to the same output topics: its own messages are what the topics gained.
        const attemptCommitted = onBroker === undefined ? undefined : await committedSince(onBroker);
        if (measurement === undefined || attemptMeasurement.elapsedMs < measurement.elapsedMs) {
          measurement = attemptMeasurement;
          committed = attemptCommitted;
        }
      }
      if (measurement === undefined) throw new Error('repeat must be at least 1');
      if (measurement.records !== records) {
        throw new Error(`${definition.name} read ${measurement.records} records of ${records}`);
      }
      const run = definition.run;
      results.push({
        name: definition.name,
        kind: run.kind,
        variant: (run.kind === 'compiled' || run.kind === 'interpreted') && run.checkpoints !== undefined,
        spec: run.kind === 'floor' ? undefined : run.spec,
        parallelism: run.kind === 'floor' ? undefined : run.parallelism,
        dataset: definition.dataset,
        bytes: dataset?.bytes,
        measurement,
        outputs: digestOutputs(outputPath),
        committed,
      });
      rmSync(outputPath, { recursive: true, force: true });
    }
    return {
      profile: options.profile,
      repeat,
      datasets: [...datasets.values()],
      results,
      comparisons: compareOutputs(results),
      kafka: kafkaInput,
      elapsedMs: performance.now() - started,
    };
  } finally {
    await broker?.stop();
    rmSync(workDirectory, { recursive: true, force: true });
  }
}

// ---- building

interface BuiltSpec {
  readonly bundle: string;
  readonly ir: string;
}

/** A spec is built per dataset, a live spec per rate: the file's path and the rate are parameters, compiled into the bundle. */
function buildKey(spec: SpecName, definition: CaseDefinition): string {
  return definition.dataset === undefined ? `${spec}-${definition.run.rate}` : `${spec}-${definition.dataset}`;
}

/** Sink paths stay relative ('./x.jsonl'): each run resolves them against its own output directory. */
function fileParams(spec: SpecName, dataset: Dataset): Record<string, string> {
  return spec === 'revenue-kafka' ? { output: '.' } : { input: dataset.path, output: '.' };
}

function liveParams(run: LiveRun, profile: ProfileName): Record<string, string> {
  return { count: String(liveRecords(run, profile)), rate: String(run.rate), output: '.' };
}

function liveRecords(run: LiveRun, profile: ProfileName): number {
  return run.rate * liveSeconds[profile];
}

/** The case runner as one plain ESM file, so every child is a bare `node` process (no TypeScript loader in its RSS). */
async function buildChild(directory: string): Promise<string> {
  const outfile = join(directory, 'child.mjs');
  await build({
    entryPoints: [join(PIPEC_ROOT, 'bench', 'child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    plugins: [nativeAddons],
    banner: { js: "import { createRequire as benchCreateRequire } from 'node:module'; const require = benchCreateRequire(import.meta.url);" },
  });
  return outfile;
}

/** Compiles a bench spec for a dataset as `pipec build` does (verified, bundled), and keeps its typed IR for the interpreter. */
async function buildSpec(spec: SpecName, params: Readonly<Record<string, string>>, directory: string): Promise<BuiltSpec> {
  const specFile = join(PIPEC_ROOT, 'bench', 'specs', `${spec}.yaml`);
  const specPath = relative(process.cwd(), specFile);
  mkdirSync(directory, { recursive: true });
  const result = compile(readFileSync(specFile, 'utf8'), { specPath, params, verify: true, moduleDir: directory });
  if (result.output === undefined || result.moduleFile === undefined || result.typed === undefined) {
    throw new Error(`bench spec ${specPath} does not compile:\n${formatDiagnostics(result.diagnostics, 'text')}`);
  }
  writeFileSync(result.moduleFile, result.output.code);
  writeFileSync(`${result.moduleFile}.map`, result.output.sourceMap);
  const bundleFile = join(directory, `${spec}.mjs`);
  await bundle({ modulePath: result.moduleFile, outFile: bundleFile });
  const ir = join(directory, `${spec}.ir.json`);
  writeFileSync(ir, typedPipelineToJson(result.typed));
  return { bundle: bundleFile, ir };
}

/** `dataset`: the file it reads, undefined for a live case; `built`: its spec built for it, undefined for the floor. */
function caseTask(
  definition: CaseDefinition,
  dataset: Dataset | undefined,
  built: BuiltSpec | undefined,
  paths: { readonly output: string; readonly checkpoints: string },
  kafkaServers: string | undefined,
): CaseTask {
  const run = definition.run;
  if (run.kind === 'floor') return { kind: 'floor', input: dataset!.path };
  // As `pipec run`: checkpoints when the spec declares them (or the case asks for them at an interval).
  const every = run.kind === 'live' ? undefined : run.checkpoints;
  const checkpoints = every === 'none' ? undefined : { directory: paths.checkpoints, intervalMs: every?.intervalMs };
  const common = { parallelism: run.parallelism, cwd: PIPEC_ROOT, outputPath: paths.output, checkpoints, kafkaServers: kafkaServers === undefined ? undefined : [kafkaServers] };
  switch (run.kind) {
    case 'compiled':
      return { kind: 'compiled', bundle: built!.bundle, restore: run.restore, ...common };
    case 'interpreted':
      return { kind: 'interpreted', ir: built!.ir, restore: run.restore, ...common };
    case 'live':
      return { kind: 'live', bundle: built!.bundle, eventTimeFields: revenueLatencyFields, ...common };
  }
}

// ---- running

function slug(name: string): string {
  return name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
}

/** Runs one case in a fresh `node` and reads its measurement; the child's stderr (bad-record logs) passes through. */
function runChild(child: string, task: CaseTask, cpuProfileDirectory: string | undefined, name: string): Promise<CaseMeasurement> {
  const flags = cpuProfileDirectory === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDirectory}`, `--cpu-prof-name=${name}.cpuprofile`];
  return new Promise((resolve, reject) => {
    const running = spawn(process.execPath, [...flags, child, JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    running.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    running.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    running.on('error', reject);
    running.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') {
        reject(new Error(`benchmark case ${name} failed (exit code ${code}):\n${stderr}`));
        return;
      }
      resolve(JSON.parse(line) as CaseMeasurement);
    });
  });
}

// ---- outputs

/**
 * Each output file's lines, hashed as written, and sorted with every fractional number to 12 significant digits:
 * tasks of a parallel run interleave rows differently, and a window's float sum adds its records in the order they
 * arrive, which differs between parallelisms in the last bits.
 */
function digestOutputs(directory: string): OutputDigest[] {
  return readdirSync(directory)
    .sort()
    .map((file) => {
      const text = readFileSync(join(directory, file), 'utf8');
      const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
      const hash = (data: string) => createHash('sha256').update(data).digest('hex');
      const rounded = lines.map(roundedFractions);
      return { file, lines: lines.length, exact: hash(text), rounded: hash(rounded.sort().join('\n')) };
    });
}

/**
 * The interpreter against the compiled job (byte for byte), and the compiled job at parallelism 2 against 1 (the
 * same rows, in any order, fractions to 12 significant digits), for each spec and dataset that ran both. A Kafka case's rows against the file run of the
 * same orders (counts: their window sums add in another order).
 */
function compareOutputs(results: readonly CaseResult[]): OutputComparison[] {
  const comparisons: OutputComparison[] = [];
  for (const result of results) {
    if (result.committed === undefined) continue;
    const reference = results.find((other) => other.spec === 'revenue' && other.dataset === result.dataset && other.kind === 'compiled' && other.parallelism === 1);
    if (reference !== undefined) comparisons.push(compareCommitted(result, reference));
  }
  const fileResults = results.filter((result) => result.committed === undefined);
  const find = (spec: string | undefined, dataset: DatasetName | undefined, kind: CaseResult['kind'], parallelism: number) =>
    fileResults.find((result) => result.spec === spec && result.dataset === dataset && result.kind === kind && result.parallelism === parallelism && !result.variant);
  for (const compiled of fileResults) {
    if (compiled.kind !== 'compiled' || compiled.parallelism !== 1) continue;
    if (compiled.variant) {
      const reference = find(compiled.spec, compiled.dataset, 'compiled', 1);
      if (reference !== undefined) comparisons.push(compare(compiled, reference, 'exact'));
      continue;
    }
    const interpreted = find(compiled.spec, compiled.dataset, 'interpreted', 1);
    if (interpreted !== undefined) comparisons.push(compare(interpreted, compiled, 'exact'));
    const parallel = find(compiled.spec, compiled.dataset, 'compiled', 2);
    if (parallel !== undefined) comparisons.push(compare(parallel, compiled, 'rounded'));
  }
  return comparisons;
}

function compare(candidate: CaseResult, reference: CaseResult, mode: 'exact' | 'rounded'): OutputComparison {
  const files = new Set([...candidate.outputs.map((o) => o.file), ...reference.outputs.map((o) => o.file)]);
  const differing = [...files].filter((file) => {
    const a = candidate.outputs.find((o) => o.file === file);
    const b = reference.outputs.find((o) => o.file === file);
    return a === undefined || b === undefined || a[mode] !== b[mode];
  });
  return { candidate: candidate.name, reference: reference.name, mode, files: files.size, differing, equal: differing.length === 0 };
}

/**
 * Per Kafka sink: the messages read `read_committed` against the rows the file run wrote, and against what the Kafka
 * run itself says it wrote (exactly once: each row committed once). Nothing written at all is a difference too.
 */
function compareCommitted(candidate: CaseResult, reference: CaseResult): OutputComparison {
  const sinks = Object.keys(KAFKA_SINKS);
  const differing = sinks.flatMap((sink) => {
    const committed = candidate.committed![sink];
    const expected = reference.measurement.written[sink];
    const written = candidate.measurement.written[sink];
    return committed === expected && committed === written && committed > 0 ? [] : [`${sink} (committed ${committed}, written ${written}, the file run ${expected})`];
  });
  return { candidate: candidate.name, reference: reference.name, mode: 'count', files: sinks.length, differing, equal: differing.length === 0 };
}

// ---- command line

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      kafka: { type: 'boolean' },
      repeat: { type: 'string', default: '1' },
      'cpu-prof': { type: 'boolean', default: false },
    },
  });
  const profile: ProfileName = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
  const cpuProfileDirectory = values['cpu-prof'] ? join(PIPEC_ROOT, '.pipec', 'bench-profiles') : undefined;
  const repeat = Number(values.repeat);
  if (!Number.isSafeInteger(repeat) || repeat < 1) {
    process.stderr.write(`bench: --repeat takes a whole number ≥ 1, got "${values.repeat}"\n`);
    process.exitCode = 2;
    return;
  }
  const report = await runBenchmark({ profile, only: values.only, kafka: values.kafka, repeat, cpuProfileDirectory, log: (line) => process.stderr.write(`bench: ${line}\n`) });
  process.stdout.write(formatReport(report));
  if (cpuProfileDirectory !== undefined) process.stdout.write(`\nCPU profiles of each case: ${relative(process.cwd(), cpuProfileDirectory)}/\n`);
  if (report.comparisons.some((comparison) => !comparison.equal)) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
