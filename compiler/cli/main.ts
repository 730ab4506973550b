// The pipec command line (DESIGN §3): validate, build, run, test, graph.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { PIPEC_VERSION } from '../version.ts';
import { loadSpec } from '../load/index.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { renderGraph, type GraphFormat } from './graph.ts';
import { bundle, cachedBundle, compile, compileFile, readSpec } from './compiling.ts';
import { isTestFile, specsOf } from './spec-tests/files.ts';
import { processIo, relativeToCwd, report, UsageError, type CliIo, type OutputFormat } from './io.ts';
import type { InspectOptions } from './state-command.ts';
import type { JobDefinition, StateSchema } from '../../runtime/api.ts';
import { formatStateSchema } from '../state/format.ts';
import type { RunOptions, RunSummary } from '../../runtime/executor.ts';

export type { CliIo } from './io.ts';

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('pipec')
    .description('Compile and run streaming pipelines written as YAML.')
    .version(PIPEC_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text), outputError: () => {} })
    .showSuggestionAfterError(true);

  const formatOption = () =>
    new Option('--format <format>', 'diagnostics as text, json or github (Actions annotations)').choices(['text', 'json', 'github']).default('text');

  program
    .command('validate')
    .description('check specs: schema, graph and types; exit 1 on any error')
    .argument('<spec...>', 'pipeline specs (YAML)')
    .addOption(formatOption())
    .option('--param <name=value>', 'override a parameter (repeatable)', collectParam, {})
    .action(async (targets: string[], options: { format: OutputFormat; param: Record<string, string> }) => {
      exitCode = await validate(io, targets, options);
    });

  program
    .command('build')
    .description('validate, write generated/<pipeline>.ts and bundle it into dist/<pipeline>.mjs')
    .argument('<spec...>', 'pipeline specs (YAML)')
    .option('--check', 'write nothing; exit 1 when generated/ differs from what build would write')
    .option('--out-dir <dir>', 'directory of the generated modules', 'generated')
    .option('--bundle-dir <dir>', 'directory of the bundles', 'dist')
    .addOption(formatOption())
    .action(async (specs: string[], options: { check?: boolean; outDir: string; bundleDir: string; format: OutputFormat }) => {
      exitCode = await build(io, specs, options);
    });

  program
    .command('run')
    .description('run a pipeline from its spec (built as needed, cached by content) or from a bundle')
    .argument('<spec-or-bundle>', 'a pipeline spec (YAML) or a bundle built by `pipec build` (.mjs)')
    .option('--app-name <name>', 'name of the run in logs and metrics')
    .option('--parallelism <n>', 'tasks, each owning a range of key groups', positiveInt('--parallelism'), 4)
    .option('--max-parallelism <n>', 'key groups (the most tasks a checkpoint can be restored to)', positiveInt('--max-parallelism'), 128)
    .option('--workers <n>', 'worker threads the tasks run on (at most one per task; 1 = all on the main thread)', positiveInt('--workers'), availableParallelism())
    .option('--duration <seconds>', 'stop after this many seconds (0 = until the sources end or SIGINT/SIGTERM)', nonNegativeNumber('--duration'), 0)
    .option('--records <n>', 'stop after this many source records', nonNegativeInt('--records'), 0)
    .option('--distributed', 'run as one member of a run over several processes: the Kafka group <app>.members assigns the tasks (see the README)')
    .option('--kafka-servers <list>', 'bootstrap servers of every Kafka source and sink, HOST:PORT[,HOST:PORT…] (default localhost:9092)', kafkaServers)
    .option('--output-path <dir>', 'sets the `output` parameter when the spec declares one; relative file sink paths resolve against it')
    .option('--checkpoint-dir <dir>', "where checkpoints are written; turns them on (default with `checkpoints:` in the spec: .pipec/checkpoints/<pipeline>)")
    .option('--restore <latest|path>', 'go on from a checkpoint: the newest in the checkpoint directory, or a checkpoint path')
    .option(
      '--state-memory <size>',
      'memory for keyed state rows (e.g. 64MB, 1GB; KB, MB, GB are 1024-based): past it, clean rows go to the rocksdb backend after each checkpoint and come back when needed; turns checkpoints on',
      byteSize('--state-memory'),
    )
    .option('--param <name=value>', 'override a parameter (repeatable)', collectParam, {})
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port', positiveInt('--metrics-port'))
    .addOption(formatOption())
    .action(async (target: string, options: RunCliOptions) => {
      exitCode = await run(io, target, options);
    });

  program
    .command('test')
    .description("run the spec's test cases (`tests:` in the spec, or <name>.test.yaml beside it); exit 1 when one fails")
    .argument('<spec...>', 'pipeline specs (YAML); a <name>.test.yaml stands for its spec')
    .option('--param <name=value>', 'override a parameter (repeatable)', collectParam, {})
    .option('--parallelism <n>', 'tasks each case runs on; 1 gives `ordered: true` the order of one task', positiveInt('--parallelism'), 1)
    .option('--max-parallelism <n>', 'key groups', positiveInt('--max-parallelism'), 128)
    .action(async (targets: string[], options: { param: Record<string, string>; parallelism: number; maxParallelism: number }) => {
      const { testSpecs } = await import('./test-command.ts');
      exitCode = await testSpecs(io, targets, options);
    });

  program
    .command('state')
    .description('look into checkpoints')
    .command('inspect')
    .description("print a checkpoint: its sources' positions, sinks' pending output and keyed state rows")
    .argument('<checkpoint>', 'a checkpoint (chk-NNNNNN) or a checkpoint directory (then its newest)')
    .option('--step <id>', 'only the state of this step (its uid or id)')
    .option('--key <key>', 'only the rows of this key')
    .option('--limit <n>', 'rows shown per step without --key', nonNegativeInt('--limit'), 20)
    .addOption(new Option('--format <format>', 'text or json (one row per line)').choices(['text', 'json']).default('text'))
    .action(async (checkpoint: string, options: InspectOptions) => {
      const { inspectCheckpoint } = await import('./state-command.ts');
      exitCode = await inspectCheckpoint(io, checkpoint, options);
    });

  program
    .command('graph')
    .description('print the pipeline graph')
    .argument('<spec>', 'a pipeline spec (YAML)')
    .addOption(new Option('--format <format>', 'text, mermaid or dot').choices(['text', 'mermaid', 'dot']).default('text'))
    .action(async (spec: string, options: { format: GraphFormat }) => {
      const result = await compileFile(spec, { params: {}, verify: false, moduleDir: resolve('generated') });
      if (result.typed === undefined) {
        exitCode = report(io, result.diagnostics, 'text');
        return;
      }
      io.out(renderGraph(result.typed, options.format));
    });

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      io.err(`pipec: ${error.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      io.err(`pipec: ${error.message}\n`);
      return 2;
    }
    // A failing run (a missing input, an unwritable output) says what failed in one line; the stack, for
    // reporting a bug, with PIPEC_DEBUG=1.
    const failure = error as Error;
    io.err(process.env.PIPEC_DEBUG ? `pipec: ${failure.stack ?? String(failure)}\n` : `pipec: ${failure.message ?? String(failure)} (PIPEC_DEBUG=1 shows where)\n`);
    return 1;
  }
}

// ---- arguments

function collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError(`expected name=value, got "${value}"`);
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

function positiveInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${flag} takes a whole number ≥ 1, got "${value}"`);
    return Number(value);
  };
}

/** `--kafka-servers`: a comma-separated list of HOST:PORT. */
function kafkaServers(value: string): string[] {
  const servers = value.split(',').map((server) => server.trim());
  const bad = servers.find((server) => !/^[^\s:]+:\d{1,5}$/.test(server) || Number(server.slice(server.lastIndexOf(':') + 1)) > 65535);
  if (bad !== undefined) throw new InvalidArgumentError(`--kafka-servers takes HOST:PORT[,HOST:PORT…], got "${bad}" in "${value}"`);
  return servers;
}

function nonNegativeInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} takes a whole number ≥ 0, got "${value}"`);
    return Number(value);
  };
}

const BYTE_UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };

/** A size in bytes with an optional unit: `512`, `64MB`, `1.5GiB` (KB, MB and GB are 1024-based, as the JVM's -Xmx). */
function byteSize(flag: string) {
  return (value: string): number => {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
    const unit = match === null ? undefined : BYTE_UNITS[match[2].toLowerCase() || 'b'];
    const bytes = unit === undefined ? NaN : Math.floor(Number(match![1]) * unit);
    if (!(bytes >= 1)) throw new InvalidArgumentError(`${flag} takes a size such as 512MB or 2GB (units B, KB, MB, GB), got "${value}"`);
    return bytes;
  };
}

function nonNegativeNumber(flag: string) {
  return (value: string): number => {
    if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError(`${flag} takes a number of seconds ≥ 0, got "${value}"`);
    return Number(value);
  };
}

// ---- validating and building

/**
 * Validates each spec once, a `<name>.test.yaml` standing for its spec; the test cases of a spec (its `tests:` and
 * its test file) are checked once the spec itself has no errors, since they name its sources and sinks.
 */
async function validate(io: CliIo, targets: readonly string[], options: { format: OutputFormat; param: Record<string, string> }): Promise<number> {
  const diagnostics: Diagnostic[] = [];
  for (const spec of specsOf(targets)) {
    const text = readSpec(spec);
    const result = await compile(text, { specPath: spec, params: options.param, verify: true, moduleDir: resolve('generated') });
    diagnostics.push(...result.diagnostics);
    if (result.output === undefined) continue;
    const { collectSpecTests, loadTestFile } = await import('./spec-tests/cases.ts');
    diagnostics.push(...collectSpecTests(loadSpec(text, spec, options.param), loadTestFile(spec)).diagnostics);
  }
  return report(io, diagnostics, options.format);
}

async function build(io: CliIo, specs: readonly string[], options: { check?: boolean; outDir: string; bundleDir: string; format: OutputFormat }): Promise<number> {
  const moduleDir = resolve(options.outDir);
  let exitCode = 0;
  const diagnostics: Diagnostic[] = [];
  // A test file has nothing to build: `pipec build pipelines/*.yaml` passes over `<name>.test.yaml`.
  for (const spec of specs.filter((spec) => !isTestFile(spec))) {
    // The state schema the last build wrote stands for the existing checkpoints: a change that breaks them is PC401.
    const result = await compileFile(spec, { params: {}, verify: true, moduleDir, recordedState: (name) => readStateSchema(join(moduleDir, `${name}.state.json`)) });
    diagnostics.push(...result.diagnostics);
    if (result.output === undefined || result.moduleFile === undefined || result.stateSchema === undefined) {
      exitCode = 1;
      continue;
    }
    const files: [string, string][] = [
      [result.moduleFile, result.output.code],
      [`${result.moduleFile}.map`, result.output.sourceMap],
      [result.moduleFile.replace(/\.ts$/, '.state.json'), formatStateSchema(result.stateSchema)],
    ];
    if (options.check) {
      const stale = files.filter(([file, content]) => !existsSync(file) || readFileSync(file, 'utf8') !== content);
      for (const [file] of stale) io.err(`${relativeToCwd(file)} is stale: run \`pipec build ${spec}\` and commit the result\n`);
      if (stale.length > 0) exitCode = 1;
      continue;
    }
    mkdirSync(moduleDir, { recursive: true });
    for (const [file, content] of files) {
      if (!existsSync(file) || readFileSync(file, 'utf8') !== content) writeFileSync(file, content);
    }
    const outFile = resolve(options.bundleDir, `${result.typed!.pipeline.name}.mjs`);
    await bundle({ modulePath: result.moduleFile, outFile });
    io.err(`built ${relativeToCwd(result.moduleFile)} and ${relativeToCwd(outFile)}\n`);
  }
  const reported = report(io, diagnostics, options.format);
  return Math.max(exitCode, reported);
}

/** A <pipeline>.state.json that `pipec build` wrote, or undefined when there is none yet. */
function readStateSchema(file: string): StateSchema | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StateSchema;
  } catch (error) {
    throw new Error(
      `${relativeToCwd(file)} is not the JSON \`pipec build\` writes (${(error as Error).message}): restore it from version control, or delete it to accept any change of state`,
    );
  }
}

// ---- running

interface RunCliOptions {
  appName?: string;
  parallelism: number;
  maxParallelism: number;
  workers: number;
  duration: number;
  records: number;
  kafkaServers?: string[];
  distributed?: boolean;
  outputPath?: string;
  checkpointDir?: string;
  restore?: string;
  stateMemory?: number;
  param: Record<string, string>;
  metricsPort?: number;
  format: OutputFormat;
}

interface LoadedBundle {
  readonly default: JobDefinition;
  readonly runJob: (job: JobDefinition, options: RunOptions) => Promise<RunSummary>;
  /** Present in bundles that can serve tasks on worker threads (all but those of older pipec versions). */
  readonly serveTasks?: unknown;
}

async function run(io: CliIo, target: string, options: RunCliOptions): Promise<number> {
  if (options.maxParallelism < options.parallelism) {
    throw new UsageError(`--max-parallelism (${options.maxParallelism}) must be at least --parallelism (${options.parallelism})`);
  }
  if (options.metricsPort !== undefined) throw new UsageError('--metrics-port: not supported by this version of pipec yet');
  let bundlePath: string;
  let outputPath = process.cwd();
  if (/\.(mjs|js)$/.test(target)) {
    if (!existsSync(target)) throw new UsageError(`no such bundle: ${target}`);
    if (Object.keys(options.param).length > 0) throw new UsageError('--param needs the spec: parameters are bound when a spec is built');
    bundlePath = resolve(target);
    if (options.outputPath !== undefined) outputPath = resolve(options.outputPath);
  } else {
    const params = { ...options.param };
    const text = readSpec(target);
    if (options.outputPath !== undefined) {
      if ('output' in loadSpec(text, target).params) params.output ??= options.outputPath;
      else outputPath = resolve(options.outputPath);
    }
    const built = await cachedBundle(target, text, params);
    if (built.diagnostics.length > 0) report(io, built.diagnostics, options.format);
    if (built.bundlePath === undefined) return 1;
    bundlePath = built.bundlePath;
  }
  // The bundle's source map leads through the generated module to the spec: stack traces name YAML lines.
  process.setSourceMapsEnabled(true);
  const loaded = (await import(pathToFileURL(bundlePath).href)) as LoadedBundle;
  const job = loaded.default;
  const checkpoints = checkpointSettings(job, options);
  if (options.distributed === true && checkpoints === undefined) {
    throw new UsageError('--distributed needs checkpoints, in a directory every member can reach: pass --checkpoint-dir (or declare `checkpoints:` in the spec)');
  }
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    const how = checkpoints === undefined
      ? 'windows drained, sinks flushed'
      : 'a final checkpoint keeps open windows for --restore and commits the output';
    io.err(`\npipec: ${signal}: stopping cleanly (${how}); send it again to exit now\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const name = options.appName ?? job.name;
  try {
    const summary = await loaded.runJob(job, {
      checkpoints,
      restore: options.restore,
      parallelism: options.parallelism,
      maxParallelism: options.maxParallelism,
      workers: loaded.serveTasks === undefined ? undefined : { module: pathToFileURL(bundlePath).href, count: options.workers },
      maxRecords: options.records,
      durationMs: options.duration * 1000,
      cwd: process.cwd(),
      outputPath,
      kafkaServers: options.kafkaServers,
      appName: name,
      distributed: options.distributed,
      signal: controller.signal,
      log: (line) => io.err(`${name}: ${line}\n`),
      onProgress: io.isTerminal
        ? (progress) => {
            const seconds = progress.elapsedMs / 1000;
            const lag = Number.isFinite(progress.watermark) ? `, watermark ${new Date(progress.watermark).toISOString()}` : '';
            const checkpoint = progress.checkpoint === undefined ? '' : `, checkpoint ${progress.checkpoint.id}`;
            io.err(`\r${name}: ${progress.recordsIn} in (${Math.round(progress.recordsIn / seconds)}/s), ${progress.recordsOut} out${lag}${checkpoint}   `);
          }
        : undefined,
    });
    io.err(formatSummary(name, summary));
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Checkpoints are on when the spec declares `checkpoints:`, or `--checkpoint-dir`, `--restore` or `--state-memory`
 * asks for them (then with the defaults: evicted rows live in the backend, written at checkpoints). The directory:
 * `--checkpoint-dir`, else the one holding the checkpoint `--restore` names, else .pipec/checkpoints/<pipeline>.
 */
function checkpointSettings(job: JobDefinition, options: RunCliOptions): RunOptions['checkpoints'] {
  if (options.stateMemory !== undefined && job.state.backend !== 'rocksdb') {
    throw new UsageError(
      `--state-memory needs the rocksdb state backend, which keeps the rows evicted from memory; the spec has \`state: { backend: ${job.state.backend} }\`: set rocksdb (the default) or leave out --state-memory`,
    );
  }
  const asked = options.checkpointDir !== undefined || options.restore !== undefined || options.stateMemory !== undefined;
  if (job.checkpoints === undefined && !asked) return undefined;
  const restoreParent = options.restore === undefined || options.restore === 'latest' ? undefined : checkpointParent(resolve(options.restore));
  const directory = resolve(options.checkpointDir ?? restoreParent ?? join('.pipec', 'checkpoints', job.name));
  const { intervalMs, mode, retain } = job.checkpoints ?? { intervalMs: 10_000, mode: 'exactly_once', retain: 3 };
  return { directory, intervalMs, mode, retain, backend: job.state.backend, memoryBudgetBytes: options.stateMemory };
}

/** The checkpoint directory a `--restore` path lies in: the parent of a chk-NNNNNN, else the path itself. */
function checkpointParent(path: string): string {
  return /^chk-\d+$/.test(basename(path)) ? dirname(path) : path;
}

function formatSummary(name: string, summary: RunSummary): string {
  const seconds = summary.elapsedMs / 1000;
  const lines = [`\n${name}: stopped by ${summary.stoppedBy} after ${seconds.toFixed(2)} s`];
  const restored = summary.restoredFrom;
  if (restored !== undefined) lines.push(`  restored from ${relativeToCwd(restored.path)} (${restored.stateRows} state rows in ${(restored.durationMs / 1000).toFixed(2)} s)`);
  if (summary.restarts > 0) lines.push(`  restarted ${summary.restarts} times after failures`);
  if (summary.reassignments !== undefined && summary.reassignments > 0) {
    lines.push(`  the group assigned the tasks anew ${summary.reassignments} times; what follows covers the last assignment`);
  }
  for (const [source, count] of summary.recordsIn) {
    const bad = summary.badRecords.get(source) ?? 0;
    lines.push(`  source ${source}: ${count} records (${Math.round(count / Math.max(seconds, 0.001))}/s), ${bad} bad`);
  }
  for (const [sink, count] of summary.written) lines.push(`  sink ${sink}: ${count} records`);
  for (const [step, count] of summary.lateRecords) lines.push(`  step ${step}: ${count} late records to its late output`);
  for (const [step, count] of summary.droppedRecords) lines.push(`  step ${step}: ${count} records dropped as too late`);
  for (const [step, { records, accumulators }] of summary.preAggregated) {
    lines.push(`  step ${step}: ${records} records crossed to other worker threads folded into ${accumulators} window accumulators`);
  }
  const state = summary.state;
  if (state.peakRows > 0) {
    const budget = state.memoryBudgetBytes === undefined ? '' : ` (--state-memory ${formatBytes(state.memoryBudgetBytes)}: ${state.evictedRows} rows evicted, ${state.loadedRows} loaded back)`;
    lines.push(
      `  state: ${state.rows} rows at the end, ${state.residentRows} of them in memory; at most ${state.peakRows} rows, ` +
        `${state.peakResidentRows} in memory${budget}`,
    );
  }
  const last = summary.lastCheckpoint;
  if (last !== undefined) {
    lines.push(
      `  checkpoints: ${summary.checkpoints} (${(summary.checkpointMs / 1000).toFixed(2)} s in all), the last ${relativeToCwd(last.path)} (${last.stateRows} state rows, ` +
        `${formatBytes(last.stateBytes)} of which ${formatBytes(last.sharedBytes)} shared with earlier ones, ${last.durationMs.toFixed(0)} ms)`,
    );
  }
  return lines.join('\n') + '\n';
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
