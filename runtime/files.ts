// Durable file steps: checkpoints, state backends and committing sinks need what they wrote to survive a crash.

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
