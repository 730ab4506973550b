// The capturing sink of `pipec test`: keeps what a sink receives, as the JSON a file sink would have written.

import type { SinkConnector } from '../../api.ts';

export class MemorySink<T = unknown> implements SinkConnector<T> {
  written = 0;
  /**
   * Each record's JSON text, taken at write time like the file sink's line: a record object that changes later
   * does not change what was written, and what the test compares is exactly what a run would write (NaN as null,
   * undefined fields left out).
   */
  private readonly lines: string[] = [];

  async open(): Promise<void> {}

  write(record: T): void {
    this.lines.push(JSON.stringify(record));
    this.written++;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  /** The records written so far, in the order they arrived, parsed back from their JSON. */
  records(): unknown[] {
    return this.lines.map((line) => JSON.parse(line) as unknown);
  }
}
