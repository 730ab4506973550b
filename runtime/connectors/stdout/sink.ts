// The `stdout` sink connector, for trying pipelines out: JSON lines or `key=value` text on standard output.

import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { SinkConnector, SinkContext } from '../../api.ts';

export type StdoutFormat = 'json' | 'text';

export function parseStdoutFormat(options: Readonly<Record<string, unknown>>): StdoutFormat {
  const { format = 'json' } = options;
  if (format !== 'json' && format !== 'text') throw new Error(`stdout sink: option 'format' must be json or text, got ${JSON.stringify(format)}`);
  return format;
}

/**
 * `output` is process.stdout except in tests. Every task writes to the same stream; lines never interleave because
 * each flush is one write. Whatever `context.delivery` asks, the sink writes straight out: a terminal or pipe cannot
 * take output back, so under exactly_once it delivers at least once (a restore writes the output since the restored
 * checkpoint again), and it has no prepareCommit or commit.
 */
export function createStdoutSink<T = unknown>(options: Readonly<Record<string, unknown>>, _context: SinkContext, output: Writable = process.stdout): SinkConnector<T> {
  return new StdoutSink<T>(parseStdoutFormat(options), output);
}

class StdoutSink<T> implements SinkConnector<T> {
  written = 0;
  private readonly format: StdoutFormat;
  private readonly output: Writable;
  private pending = '';

  constructor(format: StdoutFormat, output: Writable) {
    this.format = format;
    this.output = output;
  }

  async open(): Promise<void> {}

  write(record: T): void {
    this.pending += (this.format === 'json' ? JSON.stringify(record) : formatText(record)) + '\n';
    this.written++;
  }

  /** Waits for 'drain' when the stream's buffer is full, so a slow terminal or pipe slows the pipeline down instead of filling memory. */
  async flush(): Promise<void> {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    if (!this.output.write(text)) await once(this.output, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/** `key=value` pairs separated by spaces (logfmt); a string that is empty or holds spaces, quotes or `=` is JSON-quoted. */
export function formatText(record: unknown): string {
  if (typeof record !== 'object' || record === null) return formatValue(record);
  let line = '';
  for (const [key, value] of Object.entries(record)) {
    if (line !== '') line += ' ';
    line += key + '=' + formatValue(value);
  }
  return line;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
