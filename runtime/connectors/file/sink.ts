// The `file` sink connector: JSON lines, buffered in memory and written out with one write per flush.

import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { SinkConnector, SinkContext } from '../../api.ts';

export interface FileSinkOptions {
  /** As written in the spec; resolved against the context's output path. */
  readonly path: string;
  readonly format: 'json';
}

export function parseFileSinkOptions(options: Readonly<Record<string, unknown>>): FileSinkOptions {
  const { path, format = 'json' } = options;
  if (typeof path !== 'string' || path === '') throw new Error(`file sink: option 'path' must be a file path, got ${JSON.stringify(path)}`);
  if (format !== 'json') throw new Error(`file sink '${path}': option 'format' must be json (JSON lines), got ${JSON.stringify(format)}`);
  return { path, format };
}

/**
 * The file a task writes. With parallelism 1 it is the spec's path; with more tasks every task writes its own file,
 * the task index inserted before the extension (`out/revenue.jsonl` → `out/revenue-0.jsonl`, `out/revenue-1.jsonl`),
 * so tasks never interleave partial lines in one file.
 */
export function taskFilePath(path: string, context: SinkContext): string {
  const absolute = resolve(context.outputPath, path);
  if (context.parallelism === 1) return absolute;
  const extension = extname(absolute);
  return join(dirname(absolute), `${basename(absolute, extension)}-${context.taskIndex}${extension}`);
}

export function createFileSink<T = unknown>(options: Readonly<Record<string, unknown>>, context: SinkContext): SinkConnector<T> {
  return new FileSink<T>(parseFileSinkOptions(options), taskFilePath(String(options.path), context));
}

class FileSink<T> implements SinkConnector<T> {
  written = 0;
  private readonly options: FileSinkOptions;
  private readonly filePath: string;
  private handle: FileHandle | undefined;
  /**
   * Lines not yet written. A growing string: measured on 1M small records flushed every 4096, appending to a
   * string took ~765 ms against ~815 ms for an array joined at flush (JSON.stringify alone: ~600 ms).
   */
  private pending = '';

  constructor(options: FileSinkOptions, filePath: string) {
    this.options = options;
    this.filePath = filePath;
  }

  /** Creates the parent directories and truncates the file. */
  async open(): Promise<void> {
    try {
      await mkdir(dirname(this.filePath), { recursive: true });
      this.handle = await open(this.filePath, 'w');
    } catch (error) {
      throw new Error(`file sink: cannot open '${this.options.path}' (${this.filePath}): ${(error as Error).message}`);
    }
  }

  write(record: T): void {
    this.pending += JSON.stringify(record) + '\n';
    this.written++;
  }

  async flush(): Promise<void> {
    if (this.pending === '') return;
    const handle = this.handle;
    if (handle === undefined) throw new Error(`file sink '${this.options.path}': flush() before open() or after close()`);
    const data = Buffer.from(this.pending);
    this.pending = '';
    // One write call; the loop only matters if the system writes less than asked.
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
  }

  async close(): Promise<void> {
    if (this.handle === undefined) return;
    await this.flush();
    const handle = this.handle;
    this.handle = undefined;
    await handle.close();
  }
}
