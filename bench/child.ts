// One benchmark case in a process of its own, so that its peak RSS is its own: runs the case and prints its measurement.
//   node child.mjs '<CaseTask as JSON>'   (bench/run.ts bundles this file into child.mjs and starts it per case)

import { open, readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { JobDefinition, RunOptions, RunSummary } from '../runtime/index.ts';
import { runJob } from '../runtime/index.ts';
import { interpretJob } from './interpreter.ts';
import { typedPipelineFromJson } from './ir-json.ts';
import { LatencyProbe, type EventTimeFields, type SinkLatency } from './latency.ts';

/** What a child runs. */
export type CaseTask =
  /** The floor: read the file in large chunks and JSON.parse each line, nothing else. */
  | { readonly kind: 'floor'; readonly input: string }
  /** A bundle built by the compiler, run with the runJob it exports, as `pipec run` does. */
  | ({ readonly kind: 'compiled'; readonly bundle: string } & PipelineRun)
  /** The typed IR of a spec, run by the interpreter with the runtime's runJob. */
  | ({ readonly kind: 'interpreted'; readonly ir: string } & PipelineRun)
  /**
   * A bundle whose source paces its records with event times near now, run with its own runJob through the spec's
   * connectors wrapped to measure event-to-sink latency at each sink of `eventTimeFields` (RunOptions.connectors
   * keeps the tasks on this thread, next to the measuring connectors).
   */
  | ({ readonly kind: 'live'; readonly bundle: string; readonly eventTimeFields: EventTimeFields } & PipelineRun);

interface PipelineRun {
  readonly parallelism: number;
  /** Take checkpoints here (outside the output directory): with the spec's settings, or every `intervalMs`. */
  readonly checkpoints?: { readonly directory: string; readonly intervalMs?: number };
  /** Then restore the final checkpoint in a second run that reads one record: measures restore. */
  readonly restore?: boolean;
  /** Relative source paths resolve against it. */
  readonly cwd: string;
  /** Relative sink paths resolve against it. */
  readonly outputPath: string;
  /** The bootstrap servers of every Kafka source and sink (as `--kafka-servers`). */
  readonly kafkaServers?: readonly string[];
}

/** What a child prints, as one line of JSON. */
export interface CaseMeasurement {
  /** Source records read. */
  readonly records: number;
  readonly elapsedMs: number;
  /** Peak resident set size of the process, bytes. */
  readonly maxRssBytes: number;
  /** Records written per sink. */
  readonly written: Readonly<Record<string, number>>;
  /** Records the executor counted as bad, late or dropped, per source or step. */
  readonly bad: number;
  readonly late: number;
  readonly dropped: number;
  readonly checkpoints?: CheckpointMeasurement;
  /** A live case's latency per measured sink. */
  readonly latency?: Readonly<Record<string, SinkLatency>>;
}

export interface CheckpointMeasurement {
  readonly count: number;
  /** Time spent in checkpoints, processing waiting. */
  readonly totalMs: number;
  /** The final checkpoint's. */
  readonly lastMs: number;
  readonly stateRows: number;
  readonly stateBytes: number;
  readonly sharedBytes: number;
  /** With `restore`: the second run's time to be ready, and the rows it restored. */
  readonly restoreMs?: number;
  readonly restoredRows?: number;
}

interface LoadedBundle {
  readonly default: JobDefinition;
  readonly runJob: (job: JobDefinition, options: RunOptions) => Promise<RunSummary>;
}

const CHUNK_BYTES = 1 << 20;

/** The floor: the least any JSON-lines pipeline has to do, reading the file as the file source does and parsing each line. */
export async function readFloor(path: string): Promise<{ records: number; elapsedMs: number }> {
  const started = performance.now();
  const handle = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let records = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      const text = rest + (bytesRead === 0 ? decoder.end() : decoder.write(buffer.subarray(0, bytesRead)));
      let start = 0;
      for (let end = text.indexOf('\n', start); end >= 0; end = text.indexOf('\n', start)) {
        if (end > start) {
          JSON.parse(text.slice(start, end));
          records++;
        }
        start = end + 1;
      }
      rest = text.slice(start);
      if (bytesRead === 0) break;
    }
    if (rest.trim() !== '') {
      JSON.parse(rest);
      records++;
    }
  } finally {
    await handle.close();
  }
  return { records, elapsedMs: performance.now() - started };
}

/** `workerModule`: the bundle, whose tasks run on worker threads as `pipec run` runs them (as many as cores). */
function runOptions(job: JobDefinition, run: PipelineRun, workerModule: string | undefined): RunOptions {
  return {
    parallelism: run.parallelism,
    workers: workerModule === undefined ? undefined : { module: workerModule, count: availableParallelism() },
    maxParallelism: 128,
    maxRecords: 0,
    durationMs: 0,
    cwd: run.cwd,
    outputPath: run.outputPath,
    kafkaServers: run.kafkaServers,
    log: (line) => process.stderr.write(`${line}\n`),
    checkpoints: run.checkpoints && (run.checkpoints.intervalMs !== undefined || job.checkpoints !== undefined) ? {
      directory: run.checkpoints.directory,
      intervalMs: run.checkpoints.intervalMs ?? job.checkpoints?.intervalMs ?? 10_000,
      mode: job.checkpoints?.mode ?? 'exactly_once',
      retain: job.checkpoints?.retain ?? 3,
      backend: job.state.backend,
    } : undefined,
  };
}

async function timedRun(
  job: JobDefinition,
  run: PipelineRun,
  execute: typeof runJob,
  workerModule?: string,
  connectors?: RunOptions['connectors'],
): Promise<Omit<CaseMeasurement, 'maxRssBytes'>> {
  const options = { ...runOptions(job, run, workerModule), connectors };
  const started = performance.now();
  const summary = await execute(job, options);
  const elapsedMs = performance.now() - started;
  const sum = (counts: ReadonlyMap<string, number>) => [...counts.values()].reduce((total, count) => total + count, 0);
  const last = summary.lastCheckpoint;
  let checkpoints: CheckpointMeasurement | undefined;
  if (last !== undefined) {
    const { stateRows, stateBytes, sharedBytes } = last;
    checkpoints = { count: summary.checkpoints, totalMs: summary.checkpointMs, lastMs: last.durationMs, stateRows, stateBytes, sharedBytes };
    if (run.restore) {
      const restored = (await execute(job, { ...options, restore: 'latest', maxRecords: 1 })).restoredFrom!;
      checkpoints = { ...checkpoints, restoreMs: restored.durationMs, restoredRows: restored.stateRows };
    }
  }
  return {
    checkpoints,
    records: sum(summary.recordsIn),
    elapsedMs,
    written: Object.fromEntries(summary.written),
    bad: sum(summary.badRecords),
    late: sum(summary.lateRecords),
    dropped: sum(summary.droppedRecords),
  };
}

/** As `pipec run`: source maps on (stack traces name spec lines), the bundle imported, its own runJob called. */
async function loadBundle(path: string): Promise<{ bundle: string; loaded: LoadedBundle }> {
  process.setSourceMapsEnabled(true);
  const bundle = pathToFileURL(path).href;
  return { bundle, loaded: (await import(bundle)) as LoadedBundle };
}

async function runCase(task: CaseTask): Promise<Omit<CaseMeasurement, 'maxRssBytes'>> {
  switch (task.kind) {
    case 'floor': {
      const { records, elapsedMs } = await readFloor(task.input);
      return { records, elapsedMs, written: {}, bad: 0, late: 0, dropped: 0 };
    }
    case 'compiled': {
      const { bundle, loaded } = await loadBundle(task.bundle);
      return timedRun(loaded.default, task, loaded.runJob, bundle);
    }
    case 'live': {
      const { loaded } = await loadBundle(task.bundle);
      const probe = new LatencyProbe(task.eventTimeFields);
      const measured = await timedRun(loaded.default, task, loaded.runJob, undefined, probe.connectors);
      return { ...measured, latency: probe.measure() };
    }
    case 'interpreted': {
      const job = interpretJob(typedPipelineFromJson(await readFile(task.ir, 'utf8')));
      return timedRun(job, task, runJob);
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const measured = await runCase(JSON.parse(process.argv[2]) as CaseTask);
  // maxRSS is in kilobytes.
  const result: CaseMeasurement = { ...measured, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
