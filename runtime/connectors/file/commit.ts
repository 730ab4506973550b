// The files of the file sink's two-phase commit, as in Flink's FileSink: output goes to a hidden in-progress file
// beside the visible one, a checkpoint turns it into a pending part, and committing appends parts to the visible file.

import { constants } from 'node:fs';
import { open, readdir, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncToDisk } from '../../files.ts';

/** What the file sink's prepareCommit returns for a checkpoint: plain JSON, kept in the checkpoint. */
export interface FileSinkPrepared {
  readonly checkpoint: number;
  /** The visible file's length once every earlier checkpoint is committed. */
  readonly committedBytes: number;
  /** The pending part's file name, beside the visible file; null under at_least_once, whose output is visible already. */
  readonly part: string | null;
  readonly partBytes: number;
}

interface Part {
  readonly checkpoint: number;
  readonly path: string;
}

/** Parts are copied into the visible file through a buffer of at most this many bytes. */
const COPY_BYTES = 1 << 20;

/**
 * A visible file and its hidden companions: `.revenue.jsonl.inprogress` and `.revenue.jsonl.part-<checkpoint>`. The
 * parts on disk are always the output of prepared checkpoints that is not yet known to be in the visible file:
 * parts are appended in checkpoint order and each is deleted only once the bytes appended are synced.
 */
export class CommittedFile {
  readonly directory: string;
  readonly inProgressPath: string;
  private readonly partPrefix: string;

  constructor(readonly visiblePath: string) {
    this.directory = dirname(visiblePath);
    const name = basename(visiblePath);
    this.inProgressPath = join(this.directory, `.${name}.inprogress`);
    this.partPrefix = `.${name}.part-`;
  }

  partName(checkpoint: number): string {
    return this.partPrefix + checkpoint;
  }

  /** A fresh run: an empty visible file, and no in-progress file or part of an earlier run. */
  async startAfresh(): Promise<void> {
    await this.removeAfter(-1);
    await writeFile(this.visiblePath, '');
  }

  async openInProgress(): Promise<FileHandle> {
    return open(this.inProgressPath, 'w');
  }

  /** Makes what `inProgress` holds durable as the part of `checkpoint`, and closes it. Returns the part's name. */
  async preparePart(inProgress: FileHandle, checkpoint: number): Promise<string> {
    await inProgress.sync();
    await inProgress.close();
    const name = this.partName(checkpoint);
    await rename(this.inProgressPath, join(this.directory, name));
    await syncToDisk(this.directory);
    return name;
  }

  /**
   * Appends every part up to `prepared.checkpoint` to the visible file, in checkpoint order, so that its length
   * becomes committedBytes + partBytes. Idempotent: with no part left there is nothing to do, and when parts are
   * left the file is first cut back to where the first of them starts, which drops a half-done append.
   * With `exact`, a visible file longer than that (output of later checkpoints) is cut back to it too.
   */
  async commit(prepared: FileSinkPrepared, exact: boolean): Promise<void> {
    const target = prepared.committedBytes + prepared.partBytes;
    const parts = (await this.parts()).filter((part) => part.checkpoint <= prepared.checkpoint);
    const sizes = await Promise.all(parts.map(async (part) => (await stat(part.path)).size));
    const start = target - sizes.reduce((sum, size) => sum + size, 0);
    const lastIsPrepared = parts.length > 0 && parts[parts.length - 1].checkpoint === prepared.checkpoint;
    const visible = await open(this.visiblePath, constants.O_RDWR | constants.O_CREAT);
    try {
      const length = (await visible.stat()).size;
      if (length < start || start < 0 || (lastIsPrepared && sizes[sizes.length - 1] !== prepared.partBytes)) {
        throw new Error(
          `cannot commit checkpoint ${prepared.checkpoint} to ${this.visiblePath}: it should hold ${target} bytes, it holds ${length} ` +
            `and the parts beside it (${sizes.length === 0 ? 'none' : sizes.join(' + ') + ' bytes'}) do not make up the difference, ` +
            `so the output was changed outside pipec; restore a later checkpoint, or run without restoring one to write the output afresh`,
        );
      }
      if (parts.length === 0 && !(exact && length > target)) return;
      await visible.truncate(parts.length === 0 ? target : start);
      let position = start;
      for (const part of parts) position += await copyInto(visible, position, part.path);
      await visible.sync();
    } finally {
      await visible.close();
    }
    for (const part of parts) await unlink(part.path);
    if (parts.length > 0) await syncToDisk(this.directory);
  }

  /** Deletes the in-progress file and the parts of checkpoints after `checkpoint`: output no checkpoint to keep covers. */
  async removeAfter(checkpoint: number): Promise<void> {
    await unlink(this.inProgressPath).catch(ignoreMissing);
    for (const part of await this.parts()) {
      if (part.checkpoint > checkpoint) await unlink(part.path);
    }
  }

  /** The parts on disk, in checkpoint order. */
  private async parts(): Promise<Part[]> {
    const parts: Part[] = [];
    for (const name of await readdir(this.directory)) {
      if (!name.startsWith(this.partPrefix)) continue;
      const suffix = name.slice(this.partPrefix.length);
      if (/^\d+$/.test(suffix)) parts.push({ checkpoint: Number(suffix), path: join(this.directory, name) });
    }
    return parts.sort((a, b) => a.checkpoint - b.checkpoint);
  }
}

/** Copies the file at `path` into `target` from `position` on; returns the bytes copied. */
async function copyInto(target: FileHandle, position: number, path: string): Promise<number> {
  const source = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(COPY_BYTES, Math.max(1, (await source.stat()).size)));
    let copied = 0;
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, buffer.length, copied);
      if (bytesRead === 0) return copied;
      let written = 0;
      while (written < bytesRead) written += (await target.write(buffer, written, bytesRead - written, position + copied + written)).bytesWritten;
      copied += bytesRead;
    }
  } finally {
    await source.close();
  }
}


function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
