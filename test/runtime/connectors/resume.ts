// Test harness for source checkpoints: read a source whole, or stop after some polls, keep the checkpoint positions
// and read on with fresh readers resumed there; either way, what each split gave, in order.

import type { SourceReader } from '../../../runtime/api.ts';

/** What one split gave: its values and their positions, in the order polled. */
export interface SplitRead {
  readonly values: unknown[];
  readonly positions: number[];
}

export type Resume = ReadonlyMap<number, unknown>;

/** The readers of every task of one source, resumed from `resume` when given. */
export type ReaderFactory = (resume?: Resume) => SourceReader[];

/** Every value of every split, each reader polled `maxRecords` at a time until it ends. */
export async function readWhole(createReaders: ReaderFactory, maxRecords: number): Promise<Map<number, SplitRead>> {
  const read = new Map<number, SplitRead>();
  for (const reader of createReaders()) {
    await reader.open();
    await pollInto(reader, maxRecords, Infinity, read);
    await reader.close();
  }
  return read;
}

/**
 * Polls every reader at most `pollsBefore` times, takes the checkpoint positions of all their splits (through JSON,
 * as a checkpoint keeps them), closes them, and reads on to the end with fresh readers (`createResumedReaders`, of
 * another parallelism say) that all get every position. Returns what each split gave before and after, together,
 * and the positions the checkpoint kept.
 */
export async function readAcrossCheckpoint(
  createReaders: ReaderFactory,
  maxRecords: number,
  pollsBefore: number,
  createResumedReaders: ReaderFactory = createReaders,
): Promise<{ read: Map<number, SplitRead>; checkpoint: Resume }> {
  const read = new Map<number, SplitRead>();
  const checkpoint = new Map<number, unknown>();
  for (const reader of createReaders()) {
    await reader.open();
    await pollInto(reader, maxRecords, pollsBefore, read);
    for (const split of reader.splits) checkpoint.set(split, JSON.parse(JSON.stringify(reader.checkpointPosition(split))));
    await reader.close();
  }
  for (const reader of createResumedReaders(checkpoint)) {
    await reader.open();
    await pollInto(reader, maxRecords, Infinity, read);
    await reader.close();
  }
  return { read, checkpoint };
}

async function pollInto(reader: SourceReader, maxRecords: number, polls: number, read: Map<number, SplitRead>): Promise<void> {
  for (let poll = 0; poll < polls; poll++) {
    const batch = await reader.poll(maxRecords);
    if (batch === null) return;
    let split = read.get(batch.split);
    if (split === undefined) read.set(batch.split, (split = { values: [], positions: [] }));
    split.values.push(...batch.values);
    split.positions.push(...batch.positions);
  }
}
