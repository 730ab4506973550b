// The `memory` state backend: each checkpoint writes every row into one JSON-lines file, state.jsonl.
//
// Nothing is kept on disk between checkpoints; the executor hands over every row at each one (`incremental` is
// false). A line is {"g":keyGroup,"u":uid,"k":key,"n":namespace,"v":value}; lines are sorted by key group, then
// uid, then key and namespace, so the same state always gives the same file, and a task reading its key groups
// back can stop at the first line past them.

import { createReadStream } from 'node:fs';
import { open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CheckpointStateStats, KeyGroupRange, StateBackend, StateRow, StateRowAddress } from './backend.ts';
import { syncToDisk } from '../files.ts';

/** The file of a memory checkpoint's state directory. */
const MEMORY_STATE_FILE = 'state.jsonl';

/** Characters of lines gathered before each write to the file. */
const WRITE_CHUNK = 1 << 20;

export class MemoryStateBackend implements StateBackend {
  readonly kind = 'memory';
  readonly incremental = false;
  private rows: readonly StateRow[] = [];

  /** Takes every row of the state (a full snapshot), replacing the previous one. */
  async write(rows: readonly StateRow[]): Promise<void> {
    for (const row of rows) {
      if (row.value === undefined) {
        throw new Error(
          `the memory state backend takes full snapshots, but got a delete for state '${row.uid}'; ` +
            `snapshot operators with full = true when the backend is not incremental`,
        );
      }
    }
    this.rows = rows.slice();
  }

  /** Nothing is evicted with this backend: every checkpoint takes every row from the operators, so they keep them all. */
  async read(rows: readonly StateRowAddress[]): Promise<unknown[]> {
    throw new Error(
      `the memory state backend cannot read rows back (asked for ${rows.length} of state '${rows[0]?.uid}'); ` +
        `a state memory budget needs the rocksdb state backend`,
    );
  }

  /** Writes state.jsonl under a temporary name, syncs it and renames it, so the file is whole or absent. */
  async checkpoint(directory: string): Promise<CheckpointStateStats> {
    const path = join(directory, MEMORY_STATE_FILE);
    const temporary = `${path}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      let chunk = '';
      for (const line of sortedLines(this.rows)) {
        chunk += line;
        if (chunk.length >= WRITE_CHUNK) {
          await handle.appendFile(chunk);
          chunk = '';
        }
      }
      await handle.appendFile(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    await syncToDisk(directory);
    return { bytes: (await stat(path)).size, sharedBytes: 0 };
  }

  async close(): Promise<void> {
    this.rows = [];
  }
}

/** Reads the rows of key groups [first, last] of a memory checkpoint's state directory. */
export async function readMemoryCheckpoint(
  directory: string,
  keyGroups: KeyGroupRange,
  visit: (row: StateRow) => void,
): Promise<number> {
  const input = createReadStream(join(directory, MEMORY_STATE_FILE));
  let count = 0;
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      const { g: keyGroup, u: uid, k: key, n: namespace, v: value } = JSON.parse(line) as StateLine;
      if (keyGroup < keyGroups.first) continue;
      if (keyGroup > keyGroups.last) break;
      visit({ keyGroup, uid, key, namespace, value });
      count++;
    }
  } finally {
    // Leaving early closes the lines but not the file.
    input.destroy();
  }
  return count;
}

interface StateLine {
  readonly g: number;
  readonly u: string;
  readonly k: StateRow['key'];
  readonly n: StateRow['namespace'];
  readonly v: unknown;
}

function* sortedLines(rows: readonly StateRow[]): Generator<string> {
  const entries = rows.map((row) => ({ row, order: JSON.stringify([row.key, row.namespace]) }));
  entries.sort(
    (a, b) =>
      a.row.keyGroup - b.row.keyGroup ||
      compareText(a.row.uid, b.row.uid) ||
      compareText(a.order, b.order),
  );
  for (const { row } of entries) {
    const line: StateLine = { g: row.keyGroup, u: row.uid, k: row.key, n: row.namespace, v: row.value };
    yield `${JSON.stringify(line)}\n`;
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
