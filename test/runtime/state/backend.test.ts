// The memory and rocksdb state backends on disk, against a plain Map of the rows each checkpoint must hold.

import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyGroupRange, StateBackend, StateBackendKind, StateRow } from '../../../runtime/state/backend.ts';
import { openStateBackend, readCheckpointState } from '../../../runtime/state/index.ts';
import { seededRandom } from '../../support/random.ts';

/** The rows a checkpoint must hold, by (key group, uid, key, namespace). */
type Model = Map<string, StateRow>;

const uids = ['revenueByCategory', 'sessions', 'dedupe'];
/** Key groups at the byte edges of the 2-byte encoding, besides the usual 0..127. */
const edgeKeyGroups = [0, 127, 255, 256, 65_534, 65_535];
const allKeyGroups: KeyGroupRange = { first: 0, last: 65_535 };

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pipec-state-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A new empty directory under the test's root. */
function directory(name: string): string {
  const path = join(root, name);
  mkdirSync(path, { recursive: true });
  return path;
}

function rowId(row: Pick<StateRow, 'keyGroup' | 'uid' | 'key' | 'namespace'>): string {
  return JSON.stringify([row.keyGroup, row.uid, row.key, row.namespace]);
}

/** Adds `count` new rows to the model, of every key and namespace type, and returns them. */
function addRows(model: Model, random: () => number, count: number): StateRow[] {
  const added: StateRow[] = [];
  while (added.length < count) {
    const pick = random();
    const keyGroup =
      pick < 0.05 ? edgeKeyGroups[Math.floor(random() * edgeKeyGroups.length)] : Math.floor(random() * 128);
    const id = Math.floor(random() * 1e9);
    const key = pick < 0.5 ? `customer-${id}` : pick < 0.6 ? `Zürich ☕ 東京 🚀 ${id}` : pick < 0.95 ? id : id % 2 === 0;
    const namespace = random() < 0.7 ? 1_700_000_000_000 + Math.floor(random() * 100) * 60_000 : `pane-${id % 7}`;
    const row = { keyGroup, uid: uids[Math.floor(random() * uids.length)], key, namespace, value: randomValue(random) };
    if (model.has(rowId(row))) continue;
    model.set(rowId(row), row);
    added.push(row);
  }
  return added;
}

function randomValue(random: () => number): unknown {
  const count = Math.floor(random() * 1000);
  return { count, sum: count * 1.25, last: `naïve-${count}`, distinct: [count, count + 1], empty: null };
}

/** Updates and deletes a share of the model's rows and adds a few: returns the change set (deletes without value). */
function changeRows(model: Model, random: () => number, share: number): StateRow[] {
  const changes: StateRow[] = [];
  for (const [id, row] of [...model]) {
    const pick = random();
    if (pick < share / 2) {
      model.delete(id);
      changes.push({ ...row, value: undefined });
    } else if (pick < share) {
      const updated = { ...row, value: randomValue(random) };
      model.set(id, updated);
      changes.push(updated);
    }
  }
  changes.push(...addRows(model, random, Math.ceil(model.size * share * 0.2)));
  return changes;
}

/** What the executor hands a backend: the changes when it is incremental, else every row. */
async function writeState(backend: StateBackend, model: Model, changes: readonly StateRow[]): Promise<void> {
  await backend.write(backend.incremental ? changes : [...model.values()]);
}

async function readRows(path: string, kind: StateBackendKind, keyGroups = allKeyGroups): Promise<StateRow[]> {
  const rows: StateRow[] = [];
  const count = await readCheckpointState(path, kind, keyGroups, (row) => rows.push(row));
  expect(count).toBe(rows.length);
  return rows;
}

/** Checkpoints `count` new rows once, in a backend of its own (closed): the rows and the checkpoint's directory. */
async function checkpointRows(kind: StateBackendKind, count: number, seed: number): Promise<{ model: Model; checkpoint: string }> {
  const model: Model = new Map();
  const backend = await openStateBackend(kind, join(root, `work-${seed}`));
  await writeState(backend, model, addRows(model, seededRandom(seed), count));
  const checkpoint = directory(`checkpoint-${seed}`);
  await backend.checkpoint(checkpoint);
  await backend.close();
  return { model, checkpoint };
}

/** The model's rows in key groups [first, last], in one order for comparing. */
function expectedRows(model: Model, keyGroups = allKeyGroups): StateRow[] {
  return byId([...model.values()].filter((row) => row.keyGroup >= keyGroups.first && row.keyGroup <= keyGroups.last));
}

function byId(rows: readonly StateRow[]): StateRow[] {
  const entries = rows.map((row) => ({ row, id: rowId(row) }));
  entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return entries.map((entry) => entry.row);
}

/** Every file in a directory with its size and content hash: equal before and after means untouched. */
function checksum(path: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(path).sort()) {
    const content = readFileSync(join(path, name));
    files[name] = `${content.length}:${createHash('sha256').update(content).digest('hex')}`;
  }
  return files;
}

describe.each<StateBackendKind>(['memory', 'rocksdb'])('%s state backend', (kind) => {
  it('checkpoints exactly the rows as of each checkpoint, and neither reading nor later writes change them', async () => {
    const random = seededRandom(11);
    const model: Model = new Map();
    const backend = await openStateBackend(kind, join(root, 'work'));
    expect(backend.kind).toBe(kind);

    await writeState(backend, model, addRows(model, random, 3000));
    const first = directory('checkpoint-1');
    const firstStats = await backend.checkpoint(first);
    const asOfFirst = expectedRows(model);
    const firstFiles = checksum(first);
    expect(firstStats.bytes).toBe(Object.keys(firstFiles).reduce((sum, name) => sum + statSync(join(first, name)).size, 0));
    expect(firstStats.sharedBytes).toBe(0);

    await writeState(backend, model, changeRows(model, random, 0.2));
    const second = directory('checkpoint-2');
    await backend.checkpoint(second);
    const asOfSecond = expectedRows(model);
    const secondFiles = checksum(second);

    // Writes after the last checkpoint touch neither checkpoint.
    await writeState(backend, model, changeRows(model, random, 0.5));

    expect(byId(await readRows(first, kind))).toEqual(asOfFirst);
    expect(byId(await readRows(second, kind))).toEqual(asOfSecond);
    expect(asOfSecond).not.toEqual(asOfFirst);
    expect(checksum(first)).toEqual(firstFiles);
    expect(checksum(second)).toEqual(secondFiles);
    await backend.close();
  });

  it('reads only the rows of a key-group range, sorted by key group', async () => {
    const { model, checkpoint } = await checkpointRows(kind, 4000, 12);
    const ranges: KeyGroupRange[] = [
      { first: 0, last: 0 },
      { first: 0, last: 63 },
      { first: 64, last: 127 },
      { first: 255, last: 256 },
      { first: 256, last: 65_534 },
      { first: 65_535, last: 65_535 },
      { first: 1000, last: 2000 },
    ];
    for (const range of ranges) {
      const rows = await readRows(checkpoint, kind, range);
      expect(byId(rows), JSON.stringify(range)).toEqual(expectedRows(model, range));
      for (let i = 1; i < rows.length; i++) expect(rows[i].keyGroup).toBeGreaterThanOrEqual(rows[i - 1].keyGroup);
    }
    expect(expectedRows(model, { first: 65_535, last: 65_535 }).length).toBeGreaterThan(0);
    expect(expectedRows(model, { first: 1000, last: 2000 })).toEqual([]);
  });

  it('continues from a checkpoint it is opened from, leaving that checkpoint as it was', async () => {
    const random = seededRandom(130);
    const { model, checkpoint: first } = await checkpointRows(kind, 2000, 13);
    const firstFiles = checksum(first);

    const after = await openStateBackend(kind, join(root, 'work-restored'), first);
    await writeState(after, model, changeRows(model, random, 0.1));
    const second = directory('checkpoint-2');
    const secondStats = await after.checkpoint(second);
    await after.close();

    expect(byId(await readRows(second, kind))).toEqual(expectedRows(model));
    expect(checksum(first)).toEqual(firstFiles);
    // rocksdb shares the restored SST files; memory copies everything every time.
    if (kind === 'rocksdb') expect(secondStats.sharedBytes).toBeGreaterThan(0);
    else expect(secondStats.sharedBytes).toBe(0);
  });

  it('round-trips 200k rows', async () => {
    const { model, checkpoint } = await checkpointRows(kind, 200_000, 14);
    expect(byId(await readRows(checkpoint, kind))).toEqual(expectedRows(model));
  });

  it('checkpoints an empty state as no rows', async () => {
    const backend = await openStateBackend(kind, join(root, 'work'));
    await backend.write([]);
    const checkpoint = directory('checkpoint');
    await backend.checkpoint(checkpoint);
    await backend.close();
    expect(await readRows(checkpoint, kind)).toEqual([]);
  });
});

describe('rocksdb state backend', () => {
  it('shares unchanged SST files with the previous checkpoint, which can then be deleted', async () => {
    const random = seededRandom(21);
    const model: Model = new Map();
    const backend = await openStateBackend('rocksdb', join(root, 'work'));
    await writeState(backend, model, addRows(model, random, 20_000));
    const first = directory('checkpoint-1');
    const firstStats = await backend.checkpoint(first);

    await writeState(backend, model, changeRows(model, random, 0.01));
    const second = directory('checkpoint-2');
    const secondStats = await backend.checkpoint(second);
    await backend.close();

    // Shared bytes, counted independently: files of the second checkpoint that are the first's inodes.
    const firstInodes = new Set(readdirSync(first).map((name) => statSync(join(first, name)).ino));
    const linkedBytes = readdirSync(second)
      .map((name) => statSync(join(second, name)))
      .filter((file) => firstInodes.has(file.ino))
      .reduce((sum, file) => sum + file.size, 0);
    expect(secondStats.sharedBytes).toBe(linkedBytes);
    expect(secondStats.sharedBytes).toBeGreaterThan(0);
    // A 1% change writes a small fraction of the state anew.
    expect(secondStats.bytes - secondStats.sharedBytes).toBeLessThan(firstStats.bytes / 4);

    rmSync(first, { recursive: true });
    expect(byId(await readRows(second, 'rocksdb'))).toEqual(expectedRows(model));
  });

  it('keeps every checkpoint exact while RocksDB compacts the files between them', async () => {
    const random = seededRandom(23);
    const model: Model = new Map();
    const backend = await openStateBackend('rocksdb', join(root, 'work'));
    const checkpoints: { path: string; rows: StateRow[]; files: Record<string, string> }[] = [];
    await writeState(backend, model, addRows(model, random, 5000));
    for (let round = 0; round < 10; round++) {
      await writeState(backend, model, changeRows(model, random, 0.3));
      const path = directory(`checkpoint-${round}`);
      await backend.checkpoint(path);
      checkpoints.push({ path, rows: expectedRows(model), files: checksum(path) });
    }
    await backend.close();

    // Ten flushes, each its own SST: fewer in the last checkpoint means compactions merged them on the way.
    const last = checkpoints[checkpoints.length - 1].path;
    expect(readdirSync(last).filter((name) => name.endsWith('.sst')).length).toBeLessThan(10);
    for (const checkpoint of checkpoints) {
      expect(byId(await readRows(checkpoint.path, 'rocksdb'))).toEqual(checkpoint.rows);
      expect(checksum(checkpoint.path)).toEqual(checkpoint.files);
    }
  });

  it('starts empty over the database a crashed run left in its work directory', async () => {
    const { checkpoint } = await checkpointRows('rocksdb', 100, 22);
    expect(await readRows(checkpoint, 'rocksdb')).toHaveLength(100);
    cpSync(checkpoint, join(root, 'work-crashed'), { recursive: true });

    const backend = await openStateBackend('rocksdb', join(root, 'work-crashed'));
    const fresh = directory('checkpoint-fresh');
    await backend.checkpoint(fresh);
    await backend.close();
    expect(await readRows(fresh, 'rocksdb')).toEqual([]);
  });

  it('refuses a work directory that holds other files, and touches none of them', async () => {
    const work = directory('work');
    writeFileSync(join(work, 'notes.txt'), 'mine');
    await expect(openStateBackend('rocksdb', work)).rejects.toThrow(/not a RocksDB database.*empty directory/);
    expect(readdirSync(work)).toEqual(['notes.txt']);
  });

  it('reads rows back in one batch, as of the last write, from a fresh database and one restored from a checkpoint', async () => {
    const random = seededRandom(24);
    const model: Model = new Map();
    const backend = await openStateBackend('rocksdb', join(root, 'work'));
    await writeState(backend, model, addRows(model, random, 5000));
    await writeState(backend, model, changeRows(model, random, 0.3));
    const deleted = addRows(new Map(model), random, 50);
    const asked = [...[...model.values()].filter(() => random() < 0.2), ...deleted].sort(() => random() - 0.5);
    const expected = asked.map((row) => model.get(rowId(row))?.value);
    expect(expected.filter((value) => value === undefined)).toHaveLength(50);
    expect(await backend.read(asked)).toEqual(expected);
    expect(await backend.read([])).toEqual([]);
    const checkpoint = directory('checkpoint');
    await backend.checkpoint(checkpoint);
    await backend.close();

    const restored = await openStateBackend('rocksdb', join(root, 'work-restored'), checkpoint);
    expect(await restored.read(asked)).toEqual(expected);
    await restored.close();
  });

  it('rejects a key group beyond two bytes, naming the option to lower', async () => {
    const backend = await openStateBackend('rocksdb', join(root, 'work'));
    const row: StateRow = { keyGroup: 65_536, uid: 'sessions', key: 'u-1', namespace: 0, value: 1 };
    await expect(backend.write([row])).rejects.toThrow(/--max-parallelism 65536 or less/);
    await backend.close();
  });
});

describe('memory state backend', () => {
  it('reads no rows back: a memory budget needs the rocksdb backend', async () => {
    const backend = await openStateBackend('memory', join(root, 'work'));
    const row = { keyGroup: 0, uid: 'sessions', key: 'u-1', namespace: 0 };
    await expect(backend.read([row])).rejects.toThrow(/memory state backend cannot read rows back.*needs the rocksdb state backend/);
    await backend.close();
  });

  it('writes the same file for the same rows in any order', async () => {
    const model: Model = new Map();
    const rows = addRows(model, seededRandom(31), 1000);
    const files: string[] = [];
    for (const order of [rows, [...rows].reverse()]) {
      const backend = await openStateBackend('memory', join(root, 'work'));
      await backend.write(order);
      const checkpoint = directory(`checkpoint-${files.length}`);
      await backend.checkpoint(checkpoint);
      await backend.close();
      files.push(readFileSync(join(checkpoint, 'state.jsonl'), 'utf8'));
    }
    expect(files[1]).toBe(files[0]);
    expect(files[0].split('\n').length).toBe(rows.length + 1);
  });

  it('rejects deletes: it takes every row at each checkpoint', async () => {
    const backend = await openStateBackend('memory', join(root, 'work'));
    const row: StateRow = { keyGroup: 1, uid: 'sessions', key: 'u-1', namespace: 0, value: undefined };
    await expect(backend.write([row])).rejects.toThrow(/full snapshots.*full = true/);
  });
});

describe('checkpoint state directories', () => {
  it('tell a directory without checkpoint state, and create none', async () => {
    const missing = join(root, 'missing');
    await expect(readRows(missing, 'rocksdb')).rejects.toThrow(/state directory of a completed checkpoint/);
    expect(existsSync(missing)).toBe(false);
  });
});
