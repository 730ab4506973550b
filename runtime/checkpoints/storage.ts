// The checkpoint directory: numbered checkpoints, each written under a temporary name and renamed when complete.
//
//   <checkpoint-dir>/chk-000012/_metadata.json   what the checkpoint holds besides keyed state (CheckpointMetadata)
//   <checkpoint-dir>/chk-000012/state/           the state backend's copy of the keyed state
//   <checkpoint-dir>/chk-000013.inprogress/      being written; a crash leaves it behind, never mistaken for complete
//   <checkpoint-dir>/work/<run>/                 the live RocksDB of a running job (hard links need one file system)

import { mkdir, mkdtemp, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StateSchema } from '../api.ts';
import type { StateBackendKind } from '../state/backend.ts';
import { syncToDisk } from '../files.ts';

export const METADATA_FILE = '_metadata.json';
export const STATE_DIRECTORY = 'state';
const CHECKPOINT_NAME = /^chk-(\d+)$/;
const CHECKPOINT_FORMAT = 1;

/** Everything a checkpoint holds besides keyed state: enough to restore and to refuse what does not fit. */
export interface CheckpointMetadata {
  readonly format: number;
  readonly id: number;
  readonly job: string;
  readonly spec: string;
  readonly pipecVersion: string;
  /** When the checkpoint completed, ISO-8601. */
  readonly completedAt: string;
  readonly parallelism: number;
  /** Key groups: a checkpoint restores only with the same number. */
  readonly maxParallelism: number;
  readonly backend: StateBackendKind;
  readonly stateSchema: StateSchema;
  /** The job's watermark at the cut; null before the first (JSON has no -Infinity). */
  readonly watermark: number | null;
  /** Per source id, per split: where it resumes and the highest event time it had seen. */
  readonly sources: Readonly<Record<string, Readonly<Record<string, SplitCheckpoint>>>>;
  /** Per sink id: what its prepareCommit returned. */
  readonly sinks: Readonly<Record<string, unknown>>;
  /** Source records read up to the cut. */
  readonly recordsIn: number;
  /** Keyed state rows at the cut. */
  readonly stateRows: number;
  readonly stateBytes: number;
  readonly sharedBytes: number;
  /** In a distributed run (`pipec run --distributed`): the member that took it, and which tasks it holds. */
  readonly member?: MemberCheckpoint;
}

/** A member's part of a distributed run's state: its tasks, each restorable on its own by whichever member gets it. */
export interface MemberCheckpoint {
  readonly id: string;
  readonly tasks: readonly number[];
  /** Per task: the offset of its exchange partition where it resumes. */
  readonly exchangeOffsets: Readonly<Record<string, number>>;
  /** Per task: where its sources' splits resume (`sources` holds them all). */
  readonly taskSources: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, SplitCheckpoint>>>>>>;
}

export interface SplitCheckpoint {
  readonly position: unknown;
  /** null when the split had no record yet. */
  readonly maxEventTime: number | null;
}

export interface CheckpointLocation {
  readonly id: number;
  /** The checkpoint's directory. */
  readonly path: string;
}

/** The complete checkpoints under `directory`, oldest first. */
export async function listCheckpoints(directory: string): Promise<CheckpointLocation[]> {
  return completeCheckpoints(directory);
}

/**
 * As listCheckpoints, without waiting: a distributed run's member plans its restore in the Kafka consumer's join
 * callback, before the next fetch.
 */
export function completeCheckpoints(directory: string): CheckpointLocation[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: CheckpointLocation[] = [];
  for (const name of names) {
    const match = CHECKPOINT_NAME.exec(name);
    if (match !== null && existsSync(join(directory, name, METADATA_FILE))) found.push({ id: Number(match[1]), path: join(directory, name) });
  }
  return found.sort((a, b) => a.id - b.id);
}

/**
 * The checkpoint `--restore` names: `latest` is the newest complete checkpoint under the checkpoint directory; a
 * path is a checkpoint's own directory, or a checkpoint directory (then its newest).
 */
export async function findCheckpoint(restore: string, checkpointDirectory: string | undefined): Promise<CheckpointLocation> {
  if (restore === 'latest') {
    if (checkpointDirectory === undefined) throw new Error('--restore latest needs a checkpoint directory: pass --checkpoint-dir or declare `checkpoints:` in the spec');
    const newest = (await listCheckpoints(checkpointDirectory)).at(-1);
    if (newest === undefined) throw new Error(`--restore latest: no complete checkpoint in ${checkpointDirectory}`);
    return newest;
  }
  const path = resolve(restore);
  if (existsSync(join(path, METADATA_FILE))) {
    const match = CHECKPOINT_NAME.exec(path.split(/[\\/]/).at(-1) ?? '');
    return { id: match === null ? 0 : Number(match[1]), path };
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    const newest = (await listCheckpoints(path)).at(-1);
    if (newest !== undefined) return newest;
  }
  throw new Error(`--restore ${restore}: not a checkpoint (no ${METADATA_FILE}) nor a directory holding one`);
}

export async function readMetadata(checkpoint: string): Promise<CheckpointMetadata> {
  return checkedMetadata(checkpoint, await readFile(join(checkpoint, METADATA_FILE), 'utf8'));
}

/** As readMetadata, without waiting (completeCheckpoints says why). */
export function readMetadataNow(checkpoint: string): CheckpointMetadata {
  return checkedMetadata(checkpoint, readFileSync(join(checkpoint, METADATA_FILE), 'utf8'));
}

function checkedMetadata(checkpoint: string, text: string): CheckpointMetadata {
  const metadata = JSON.parse(text) as CheckpointMetadata;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`checkpoint ${checkpoint} has format ${metadata.format}; this pipec reads format ${CHECKPOINT_FORMAT}`);
  }
  return metadata;
}

/**
 * Writes checkpoint `id` atomically: `writeState` fills its state directory, then the metadata is written and
 * synced, and only then is the directory renamed to its final name (and the parent synced), so a crash at any
 * instant leaves either a complete checkpoint or an `.inprogress` directory that nothing reads.
 */
export async function writeCheckpoint(
  directory: string,
  id: number,
  writeState: (stateDirectory: string) => Promise<Pick<CheckpointMetadata, 'stateBytes' | 'sharedBytes'>>,
  metadata: (state: Pick<CheckpointMetadata, 'stateBytes' | 'sharedBytes'>) => CheckpointMetadata,
): Promise<CheckpointLocation & { readonly metadata: CheckpointMetadata }> {
  const name = `chk-${String(id).padStart(6, '0')}`;
  const temporary = join(directory, `${name}.inprogress`);
  await rm(temporary, { recursive: true, force: true });
  await mkdir(join(temporary, STATE_DIRECTORY), { recursive: true });
  const written = metadata(await writeState(join(temporary, STATE_DIRECTORY)));
  await writeSynced(join(temporary, METADATA_FILE), JSON.stringify(written, null, 2) + '\n');
  await syncToDisk(temporary);
  const path = join(directory, name);
  await rename(temporary, path);
  await syncToDisk(directory);
  return { id, path, metadata: written };
}

/** Deletes all but the newest `retain` complete checkpoints, and in-progress leftovers of crashed runs. */
export async function pruneCheckpoints(directory: string, retain: number): Promise<void> {
  const complete = await listCheckpoints(directory);
  for (const old of complete.slice(0, Math.max(0, complete.length - retain))) await rm(old.path, { recursive: true, force: true });
  for (const name of await readdir(directory)) {
    if (name.endsWith('.inprogress')) await rm(join(directory, name), { recursive: true, force: true });
  }
}

/** The id the next checkpoint of a run in `directory` takes: after every checkpoint there, restored or not. */
export async function nextCheckpointId(directory: string): Promise<number> {
  return ((await listCheckpoints(directory)).at(-1)?.id ?? 0) + 1;
}

/**
 * The directory of a run's live state (RocksDB), under the checkpoint directory so that checkpoints can hard-link
 * its files. Work directories of runs that are gone (killed) are removed first.
 */
export async function workDirectory(checkpointDirectory: string): Promise<string> {
  const parent = join(checkpointDirectory, 'work');
  await mkdir(parent, { recursive: true });
  for (const name of await readdir(parent)) {
    const pid = Number(name.split('-')[0]);
    if (!isAlive(pid)) await rm(join(parent, name), { recursive: true, force: true });
  }
  return mkdtemp(join(parent, `${process.pid}-`));
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function writeSynced(path: string, data: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

