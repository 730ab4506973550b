// `pipec state inspect`: prints what a checkpoint holds, for debugging (in the spirit of Flink's State Processor API).

import { join } from 'node:path';
import { findCheckpoint, readMetadata, STATE_DIRECTORY } from '../../runtime/checkpoints/storage.ts';
import { readCheckpointState } from '../../runtime/state/index.ts';
import type { StateRow } from '../../runtime/state/backend.ts';
import { relativeToCwd, UsageError, type CliIo } from './io.ts';

export interface InspectOptions {
  readonly step?: string;
  readonly key?: string;
  readonly limit: number;
  readonly format: 'text' | 'json';
}

/**
 * Text: the checkpoint's metadata (job, watermark, source positions, sinks' pending output), then per step the
 * number of rows and the first `limit` rows (all rows of `--key`). JSON: one row per line, for jq.
 */
export async function inspectCheckpoint(io: CliIo, target: string, options: InspectOptions): Promise<number> {
  let location;
  try {
    location = await findCheckpoint(target, undefined);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^--restore /, ''));
  }
  const metadata = await readMetadata(location.path);
  const steps = Object.entries(metadata.stateSchema);
  const uid = options.step === undefined ? undefined : (steps.find(([uid, schema]) => uid === options.step || schema.step === options.step)?.[0] ?? options.step);
  // `--key` matches a key as written: a string as it is, a number as its digits, a composite key as its JSON.
  const matches = (row: StateRow) => (uid === undefined || row.uid === uid) && (options.key === undefined || String(row.key) === options.key);

  const rowsByStep = new Map<string, StateRow[]>();
  const countByStep = new Map<string, number>();
  await readCheckpointState(join(location.path, STATE_DIRECTORY), metadata.backend, { first: 0, last: metadata.maxParallelism - 1 }, (row) => {
    if (!matches(row)) return;
    if (options.format === 'json') {
      io.out(JSON.stringify({ step: row.uid, keyGroup: row.keyGroup, key: row.key, namespace: row.namespace, value: row.value }) + '\n');
      return;
    }
    countByStep.set(row.uid, (countByStep.get(row.uid) ?? 0) + 1);
    const shown = rowsByStep.get(row.uid) ?? [];
    if (options.key !== undefined || shown.length < options.limit) shown.push(row);
    rowsByStep.set(row.uid, shown);
  });
  if (options.format === 'json') return 0;

  const lines = [
    `checkpoint ${metadata.id} of pipeline ${metadata.job} (${metadata.spec}, pipec ${metadata.pipecVersion}): ${relativeToCwd(location.path)}`,
    `  completed ${metadata.completedAt}; watermark ${metadata.watermark === null ? 'none yet' : `${metadata.watermark} (${new Date(metadata.watermark).toISOString()})`}`,
    `  parallelism ${metadata.parallelism}, ${metadata.maxParallelism} key groups, ${metadata.backend} state: ${metadata.stateRows} rows, ${metadata.stateBytes} bytes`,
    `  ${metadata.recordsIn} source records read by the run that took it`,
  ];
  for (const [source, splits] of Object.entries(metadata.sources)) {
    for (const [split, { position, maxEventTime }] of Object.entries(splits)) {
      lines.push(`  source ${source} split ${split}: resumes at ${JSON.stringify(position)}, max event time ${maxEventTime ?? 'none'}`);
    }
  }
  for (const [sink, prepared] of Object.entries(metadata.sinks)) lines.push(`  sink ${sink}: ${JSON.stringify(prepared)}`);
  for (const [stepUid, schema] of steps) {
    if (uid !== undefined && stepUid !== uid) continue;
    const fields = Object.entries(schema.fields).map(([field, aggregate]) => `${field}: ${aggregate}`).join(', ');
    lines.push(``, `step ${schema.step}${stepUid === schema.step ? '' : ` (uid ${stepUid})`}: ${schema.operator} keyed by ${schema.key}${fields === '' ? '' : `; ${fields}`}`);
    const count = countByStep.get(stepUid) ?? 0;
    const shown = rowsByStep.get(stepUid) ?? [];
    lines.push(`  ${count} rows${options.key === undefined ? '' : ` of key ${options.key}`}${shown.length < count ? `, the first ${shown.length}:` : count > 0 ? ':' : ''}`);
    for (const row of shown) lines.push(`  key ${String(row.key)}  ${row.namespace === '' ? '' : `namespace ${row.namespace}  `}${JSON.stringify(row.value)}`);
  }
  io.out(lines.join('\n') + '\n');
  return 0;
}
