// The `rocksdb` state backend: keyed state in a RocksDB database, checkpointed by hard-linking its SST files.
//
// A row's key is its key group (2 bytes, big-endian), the step's uid in UTF-8, a 0x00 byte and the UTF-8 JSON of
// [key, namespace]; its value is the UTF-8 JSON of the row's value. Keys sort by key group first, so the rows of a
// range of key groups are one contiguous range of keys: a task restores its share with one range scan.
//
// A checkpoint is what RocksDB's own Checkpoint makes (the binding does not expose it): flush the memtable, then
// hard-link every SST file and copy the small files that say which SSTs make the database (CURRENT, MANIFEST-*,
// OPTIONS-*). SST files never change once written, so a file linked into one checkpoint is shared by the next
// ones for as long as it lives: a checkpoint costs the bytes written since the previous one.

import { copyFile, link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type RocksDB from 'rocksdb-native';
import type { CheckpointStateStats, KeyGroupRange, StateBackend, StateRow, StateRowAddress } from './backend.ts';
import { syncToDisk } from '../files.ts';

/**
 * The binding, loaded on first use: a run without the rocksdb backend, and every worker thread (state reaches the
 * backend through the main thread), skips loading the native addon.
 */
async function rocksDB(): Promise<typeof RocksDB> {
  return (await import('rocksdb-native')).default;
}

/** The file every RocksDB database has: it names the current MANIFEST. */
const ROCKSDB_MARKER_FILE = 'CURRENT';

/** Key groups are filed in two bytes. */
const MAX_KEY_GROUP = 0xffff;

/**
 * Rows fetched per call into the binding when scanning. Small batches are garbage before the next one arrives:
 * scanning 1M rows measured 2.6-3.5 s with 256-1024 rows a call, 5-7 s with 16k.
 */
const SCAN_CAPACITY = 512;

/**
 * No bloom filter: state is only ever scanned by key-group range, never looked up by key. The database in the
 * work directory is disposable (a restore starts from a checkpoint), so closing it need not flush. Two background
 * jobs (the binding's default is six): flushes and compactions share the cores with the pipeline's tasks.
 */
const databaseOptions = { filterPolicy: null, avoidFlushDuringShutdown: true, maxBackgroundJobs: 2 };

export class RocksDBStateBackend implements StateBackend {
  readonly kind = 'rocksdb';
  readonly incremental = true;

  private constructor(
    private readonly database: RocksDB,
    private readonly directory: string,
    /** Names of the SST files in the latest checkpoint (or the one restored from): what the next one shares. */
    private checkpointedTables: ReadonlySet<string>,
  ) {}

  /**
   * Opens the database of one run in `workDirectory`, which must be empty, absent or an earlier run's database
   * (deleted: what a run starts with is the checkpoint, never what a crashed run left). With `restoreFrom` (a
   * checkpoint's state directory), its files are linked in first; the checkpoint itself is never modified.
   */
  static async open(workDirectory: string, restoreFrom?: string): Promise<RocksDBStateBackend> {
    await clearWorkDirectory(workDirectory);
    let restoredTables: ReadonlySet<string> = new Set();
    if (restoreFrom !== undefined) restoredTables = (await linkDatabaseFiles(restoreFrom, workDirectory, new Set())).tables;
    const database = new (await rocksDB())(workDirectory, databaseOptions);
    await database.ready();
    return new RocksDBStateBackend(database, workDirectory, restoredTables);
  }

  async write(rows: readonly StateRow[]): Promise<void> {
    if (rows.length === 0) return;
    const batch = this.database.write({ capacity: rows.length });
    try {
      for (const row of rows) {
        const key = encodeRowKey(row);
        if (row.value === undefined) batch.tryDelete(key);
        else batch.tryPut(key, Buffer.from(JSON.stringify(row.value)));
      }
      await batch.flush();
    } finally {
      batch.destroy();
    }
  }

  async read(rows: readonly StateRowAddress[]): Promise<unknown[]> {
    if (rows.length === 0) return [];
    const batch = this.database.read({ capacity: rows.length });
    try {
      const gets = rows.map((row) => batch.get(encodeRowKey(row)));
      // Together, so that a failed batch, which rejects every get too, leaves no rejection unhandled.
      const [, values] = await Promise.all([batch.flush(), Promise.all(gets)]);
      return values.map((value) => (value === null ? undefined : JSON.parse(value.toString('utf8'))));
    } finally {
      batch.destroy();
    }
  }

  async checkpoint(directory: string): Promise<CheckpointStateStats> {
    await this.database.flush();
    // Suspended, no flush or compaction runs and no file is deleted: the files listed are the database, and stay.
    await this.database.suspend();
    try {
      const linked = await linkDatabaseFiles(this.directory, directory, this.checkpointedTables);
      this.checkpointedTables = linked.tables;
      return { bytes: linked.bytes, sharedBytes: linked.sharedBytes };
    } finally {
      await this.database.resume();
    }
  }

  /** Closes the database and deletes the work directory: its state lives on only in the checkpoints. */
  async close(): Promise<void> {
    await this.database.close();
    await rm(this.directory, { recursive: true, force: true });
  }
}

/**
 * Reads the rows of key groups [first, last] of a rocksdb checkpoint's state directory, opened read-only (which
 * writes nothing into it).
 */
export async function readRocksDBCheckpoint(
  directory: string,
  keyGroups: KeyGroupRange,
  visit: (row: StateRow) => void,
): Promise<number> {
  const database = new (await rocksDB())(directory, { ...databaseOptions, readOnly: true, createIfMissing: false });
  await database.ready().catch((error: Error) => {
    throw new Error(
      `cannot open the rocksdb checkpoint state in ${directory} (${error.message}); ` +
        `pass the state directory of a completed checkpoint`,
    );
  });
  try {
    let count = 0;
    for await (const entry of database.iterator(keyGroupScan(keyGroups), { capacity: SCAN_CAPACITY })) {
      visit(decodeRow(entry.key, entry.value));
      count++;
    }
    return count;
  } finally {
    await database.close();
  }
}

function encodeRowKey(row: StateRowAddress): Buffer {
  const keyGroup = row.keyGroup;
  if (!(keyGroup >= 0 && keyGroup <= MAX_KEY_GROUP)) {
    throw new Error(
      `key group ${keyGroup} of state '${row.uid}' is outside 0..${MAX_KEY_GROUP}, the key groups the rocksdb state ` +
        `backend can file; run with --max-parallelism ${MAX_KEY_GROUP + 1} or less`,
    );
  }
  // '\0' is one 0x00 byte in UTF-8: the first two are overwritten by the key group, the third ends the uid.
  const bytes = Buffer.from(`\0\0${row.uid}\0${JSON.stringify([row.key, row.namespace])}`);
  bytes[0] = keyGroup >> 8;
  bytes[1] = keyGroup & 0xff;
  return bytes;
}

function decodeRow(key: Buffer, value: Buffer): StateRow {
  const uidEnd = key.indexOf(0, 2);
  const [rowKey, namespace] = JSON.parse(key.toString('utf8', uidEnd + 1));
  return {
    keyGroup: (key[0] << 8) | key[1],
    uid: key.toString('utf8', 2, uidEnd),
    key: rowKey,
    namespace,
    value: JSON.parse(value.toString('utf8')),
  };
}

/** The keys of key groups [first, last]: from the first's prefix up to the next one's (none after the last group). */
function keyGroupScan(keyGroups: KeyGroupRange): { gte: Buffer; lt: Buffer } {
  return {
    gte: keyGroupPrefix(keyGroups.first),
    lt: keyGroups.last >= MAX_KEY_GROUP ? Buffer.alloc(0) : keyGroupPrefix(keyGroups.last + 1),
  };
}

function keyGroupPrefix(keyGroup: number): Buffer {
  return Buffer.from([keyGroup >> 8, keyGroup & 0xff]);
}

async function clearWorkDirectory(directory: string): Promise<void> {
  const names = await readdir(directory).catch((error: NodeJS.ErrnoException): string[] => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (names.length > 0) {
    if (!names.includes(ROCKSDB_MARKER_FILE)) {
      throw new Error(
        `state work directory ${directory} holds files that are not a RocksDB database; ` +
          `give the rocksdb state backend an empty directory of its own`,
      );
    }
    await rm(directory, { recursive: true, force: true });
  }
  await mkdir(directory, { recursive: true });
}

interface LinkedFiles extends CheckpointStateStats {
  /** Names of the SST files linked. */
  readonly tables: ReadonlySet<string>;
}

/**
 * Makes `to` a copy of the database in `from`: SST files hard-linked (copied only across file systems); CURRENT,
 * MANIFEST and OPTIONS copied, as RocksDB goes on appending to or replacing them; the write-ahead log left out,
 * as it holds nothing after a flush. Bytes of SSTs named in `shared` and linked count as shared.
 */
async function linkDatabaseFiles(from: string, to: string, shared: ReadonlySet<string>): Promise<LinkedFiles> {
  const tables = new Set<string>();
  let bytes = 0;
  let sharedBytes = 0;
  for (const name of await readdir(from)) {
    const source = join(from, name);
    const target = join(to, name);
    if (name.endsWith('.sst')) {
      const linked = await linkOrCopy(source, target);
      const size = (await stat(target)).size;
      tables.add(name);
      bytes += size;
      if (linked && shared.has(name)) sharedBytes += size;
    } else if (name === ROCKSDB_MARKER_FILE || name.startsWith('MANIFEST-') || name.startsWith('OPTIONS-')) {
      await copyFile(source, target);
      await syncToDisk(target);
      bytes += (await stat(target)).size;
    }
  }
  await syncToDisk(to);
  return { tables, bytes, sharedBytes };
}

/** Hard-links `source` to `target`; true if linked, false if copied because they are on different file systems. */
async function linkOrCopy(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(source, target);
    await syncToDisk(target);
    return false;
  }
}
