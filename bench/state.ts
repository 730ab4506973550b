// What the state backends cost per checkpoint: write, checkpoint, a second checkpoint after a small change, restore.
//   node --import tsx bench/state.ts [--rows 1000000] [--changed 0.01] [--backend rocksdb|memory]
//
// Rows look like a window aggregate's: a customer key in its key group, a window start as namespace and a value
// of about 100 bytes of JSON. Everything lives in a temporary directory, removed at the end.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { keyGroupOf } from '../runtime/keys.ts';
import type { StateBackendKind, StateRow } from '../runtime/state/backend.ts';
import { openStateBackend, readCheckpointState } from '../runtime/state/index.ts';

const MAX_PARALLELISM = 128;
const WINDOW_START = 1_700_000_000_000;

function row(index: number, version: number): StateRow {
  const key = `customer-${index}`;
  const count = index % 997 + version;
  const value = { count, sum: count * 19.99, min: 4.5, max: 250.25 + version, last: `order-${index}-${version}`, region: 'eu-west' };
  return { keyGroup: keyGroupOf(key, MAX_PARALLELISM), uid: 'revenueByCustomer', key, namespace: WINDOW_START, value };
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await work();
  return { result, ms: performance.now() - start };
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function measure(kind: StateBackendKind, rowCount: number, changedShare: number, root: string): Promise<void> {
  const rows = Array.from({ length: rowCount }, (_, index) => row(index, 0));
  const payload = rows.reduce((sum, each) => sum + JSON.stringify(each.value).length + each.key.toString().length, 0);
  console.log(`\n${kind}: ${rowCount} rows, ${megabytes(payload)} of keys and values as JSON`);

  const backend = await openStateBackend(kind, join(root, `${kind}-work`));
  const write = await timed(() => backend.write(rows));
  console.log(`  write ${rowCount} rows in one batch   ${seconds(write.ms)}`);

  const first = join(root, `${kind}-checkpoint-1`);
  mkdirSync(first);
  const firstCheckpoint = await timed(() => backend.checkpoint(first));
  console.log(`  checkpoint 1                       ${seconds(firstCheckpoint.ms)}, ${megabytes(firstCheckpoint.result.bytes)}`);

  // A changed share of the rows, spread over the keys: what an incremental backend gets; a full one gets all rows.
  const step = Math.round(1 / changedShare);
  const changes: StateRow[] = [];
  for (let index = 0; index < rowCount; index += step) changes.push((rows[index] = row(index, 1)));
  const secondWrite = await timed(() => backend.write(backend.incremental ? changes : rows));
  const second = join(root, `${kind}-checkpoint-2`);
  mkdirSync(second);
  const secondCheckpoint = await timed(() => backend.checkpoint(second));
  const { bytes, sharedBytes } = secondCheckpoint.result;
  console.log(
    `  change ${changes.length} rows: write           ${seconds(secondWrite.ms)} (${backend.incremental ? 'changed rows' : 'every row'})`,
  );
  console.log(
    `  checkpoint 2                       ${seconds(secondCheckpoint.ms)}, ${megabytes(bytes)}: ${megabytes(bytes - sharedBytes)} new, ${megabytes(sharedBytes)} shared`,
  );
  await backend.close();

  let checksum = 0;
  const restore = await timed(() =>
    readCheckpointState(second, kind, { first: 0, last: MAX_PARALLELISM - 1 }, (restored) => {
      checksum += (restored.value as { count: number }).count;
    }),
  );
  const expected = rows.reduce((sum, each) => sum + (each.value as { count: number }).count, 0);
  if (restore.result !== rowCount || checksum !== expected) {
    throw new Error(`restore read ${restore.result} rows (sum ${checksum}), expected ${rowCount} (sum ${expected})`);
  }
  console.log(`  readCheckpointState (restore)      ${seconds(restore.ms)} for ${restore.result} rows`);
  const tables = readdirSync(second).filter((name) => name.endsWith('.sst'));
  if (tables.length > 0) {
    const tableBytes = tables.reduce((sum, name) => sum + statSync(join(second, name)).size, 0);
    console.log(`  SST files                          ${tables.length}, ${megabytes(tableBytes)}`);
  }
}

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    changed: { type: 'string', default: '0.01' },
    backend: { type: 'string' },
  },
});
const kinds: StateBackendKind[] = values.backend === undefined ? ['rocksdb', 'memory'] : [values.backend as StateBackendKind];
const root = mkdtempSync(join(tmpdir(), 'pipec-state-bench-'));
try {
  for (const kind of kinds) await measure(kind, Number(values.rows), Number(values.changed), root);
} finally {
  rmSync(root, { recursive: true, force: true });
}
