// Durable file steps shared by the state backends: a checkpoint's files must survive a crash once it is reported.

import { open } from 'node:fs/promises';

/** fsync: makes a file's contents, or a directory's names (new files, links, renames), durable. */
export async function syncToDisk(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
