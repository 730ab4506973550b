// The checkpoint directory: complete checkpoints only, atomic writes, `latest` and paths, retention, work directories.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findCheckpoint,
  listCheckpoints,
  nextCheckpointId,
  pruneCheckpoints,
  readMetadata,
  workDirectory,
  writeCheckpoint,
  type CheckpointMetadata,
} from '../../../runtime/checkpoints/storage.ts';

function metadata(id: number): CheckpointMetadata {
  return {
    format: 1,
    id,
    job: 'job',
    spec: 'job.yaml',
    pipecVersion: 'test',
    completedAt: '2026-11-25T00:00:00.000Z',
    parallelism: 1,
    maxParallelism: 128,
    backend: 'memory',
    stateSchema: {},
    watermark: null,
    sources: {},
    sinks: {},
    recordsIn: id * 10,
    stateRows: 0,
    stateBytes: 0,
    sharedBytes: 0,
  };
}

async function write(directory: string, id: number): Promise<string> {
  const { path } = await writeCheckpoint(
    directory,
    id,
    async (state) => {
      writeFileSync(join(state, 'state.jsonl'), '');
      return { stateBytes: 0, sharedBytes: 0 };
    },
    () => metadata(id),
  );
  return path;
}

const temporary = () => mkdtempSync(join(tmpdir(), 'pipec-storage-'));

describe('the checkpoint directory', () => {
  it('lists complete checkpoints oldest first, and finds the newest as `latest`', async () => {
    const directory = temporary();
    expect(await listCheckpoints(directory)).toEqual([]);
    for (const id of [2, 10, 1]) await write(directory, id);
    expect((await listCheckpoints(directory)).map((checkpoint) => checkpoint.id)).toEqual([1, 2, 10]);
    expect(await findCheckpoint('latest', directory)).toEqual({ id: 10, path: join(directory, 'chk-000010') });
    expect(await nextCheckpointId(directory)).toBe(11);
    expect((await readMetadata(join(directory, 'chk-000002'))).recordsIn).toBe(20);
  });

  it('never shows a checkpoint whose writing did not finish', async () => {
    const directory = temporary();
    await write(directory, 1);
    const failing = writeCheckpoint(directory, 2, async () => Promise.reject(new Error('disk full')), () => metadata(2));
    await expect(failing).rejects.toThrow('disk full');
    expect(readdirSync(directory).sort()).toEqual(['chk-000001', 'chk-000002.inprogress']);
    expect((await findCheckpoint('latest', directory)).id).toBe(1);
    // A directory named like a checkpoint but without metadata (a copy cut short) is not one either.
    mkdirSync(join(directory, 'chk-000003'));
    expect((await findCheckpoint('latest', directory)).id).toBe(1);
  });

  it('finds a checkpoint by its own path or by the directory holding it, and says what is wrong otherwise', async () => {
    const directory = temporary();
    const path = await write(directory, 4);
    await write(directory, 5);
    expect(await findCheckpoint(path, undefined)).toEqual({ id: 4, path });
    expect((await findCheckpoint(directory, undefined)).id).toBe(5);
    await expect(findCheckpoint(join(directory, 'nothing'), undefined)).rejects.toThrow(/not a checkpoint/);
    await expect(findCheckpoint('latest', undefined)).rejects.toThrow(/--checkpoint-dir/);
    await expect(findCheckpoint('latest', temporary())).rejects.toThrow(/no complete checkpoint/);
  });

  it('keeps the newest `retain` checkpoints and drops leftovers of crashed writes', async () => {
    const directory = temporary();
    for (let id = 1; id <= 5; id++) await write(directory, id);
    mkdirSync(join(directory, 'chk-000006.inprogress'));
    await pruneCheckpoints(directory, 2);
    expect(readdirSync(directory).sort()).toEqual(['chk-000004', 'chk-000005']);
  });

  it('refuses a checkpoint of another format', async () => {
    const directory = temporary();
    const path = await write(directory, 1);
    writeFileSync(join(path, '_metadata.json'), JSON.stringify({ ...metadata(1), format: 99 }));
    await expect(readMetadata(path)).rejects.toThrow(/format 99/);
  });

  it('gives a run its own work directory and removes those of runs that are gone', async () => {
    const directory = temporary();
    mkdirSync(join(directory, 'work', '999999999-1'), { recursive: true });
    const mine = await workDirectory(directory);
    expect(existsSync(mine)).toBe(true);
    expect(readdirSync(join(directory, 'work'))).toEqual([mine.split('/').at(-1)]);
    // A live run's directory (this process's) stays.
    const second = await workDirectory(directory);
    expect(readdirSync(join(directory, 'work')).sort()).toEqual([mine, second].map((path) => path.split('/').at(-1)).sort());
  });
});
