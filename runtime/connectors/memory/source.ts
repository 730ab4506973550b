// The in-memory source of `pipec test`: a test case's records of one source, in order, with the watermarks the case pins.

import type { RawRecord, SourceBatch, SourceContext, SourceReader } from '../../api.ts';

/** After input record `after` (an index from 0), the source's watermark is `watermark` (epoch milliseconds). */
export interface PinnedWatermark {
  readonly after: number;
  readonly watermark: number;
}

/**
 * One split (0), read by task 0; other tasks read nothing. Positions are the records' indexes, described as
 * `test input #3`; the checkpoint position is the index of the next record. Records are handed over as `values`
 * batches, decoded by the job's decoder as in a run.
 *
 * Without pinned watermarks the reader leaves watermarks to the executor's bounded-out-of-orderness tracker, as
 * for any source. With them, it has a `watermark` method, which replaces that tracker: the watermark is -Infinity
 * until the first pin applies, and a batch never reaches past a record that a watermark follows, so the executor,
 * which reads the watermark after each round of polls, applies it right after that record and before the next.
 */
export function createMemoryReader(records: readonly RawRecord[], watermarks: readonly PinnedWatermark[], context: SourceContext): SourceReader {
  return new MemoryReader(records, watermarks, context);
}

class MemoryReader implements SourceReader {
  readonly splits: readonly number[];
  readonly watermark?: (split: number) => number;
  private readonly records: readonly RawRecord[];
  /** By `after`; a later entry with the same `after` comes later. */
  private readonly pins: readonly PinnedWatermark[];
  /** Index of the next record to hand over. */
  private next = 0;
  /** Index of the first pin not applied yet. */
  private nextPin = 0;
  private current = -Infinity;

  constructor(records: readonly RawRecord[], watermarks: readonly PinnedWatermark[], context: SourceContext) {
    for (const pin of watermarks) {
      if (!(Number.isInteger(pin.after) && pin.after >= 0 && pin.after < records.length)) {
        throw new RangeError(`a watermark after record ${pin.after}, but the input has records 0 to ${records.length - 1}`);
      }
    }
    this.records = records;
    this.pins = [...watermarks].sort((a, b) => a.after - b.after);
    this.splits = context.taskIndex === 0 ? [0] : [];
    if (this.pins.length > 0) this.watermark = () => this.current;
    const resumed = context.resume?.get(0);
    if (resumed !== undefined && this.splits.length > 0) {
      if (!(Number.isSafeInteger(resumed) && (resumed as number) >= 0 && (resumed as number) <= records.length)) {
        throw new RangeError(
          `the checkpoint resumes the test input at record ${JSON.stringify(resumed)}, but the input has ${records.length} records; restore a checkpoint taken with the same input`,
        );
      }
      this.next = resumed as number;
      this.applyPins();
    }
  }

  async open(): Promise<void> {}

  async poll(maxRecords: number): Promise<SourceBatch | null> {
    if (this.splits.length === 0 || this.next >= this.records.length) return null;
    let end = Math.min(this.records.length, this.next + Math.max(1, maxRecords));
    if (this.nextPin < this.pins.length) end = Math.min(end, this.pins[this.nextPin].after + 1);
    const values = this.records.slice(this.next, end);
    const positions = values.map((_, index) => this.next + index);
    this.next = end;
    this.applyPins();
    return { split: 0, encoding: 'values', values, positions, lenient: false };
  }

  describePosition(_split: number, position: number): string {
    return `test input #${position}`;
  }

  /** The index of the next record. */
  checkpointPosition(split: number): number {
    if (split !== 0 || this.splits.length === 0) throw new RangeError(`the test input is one split, 0, read by task 0; this reader does not read split ${split}`);
    return this.next;
  }

  /** Applies the pins of the records handed over so far, which a resumed reader has as if it had handed them over itself. */
  private applyPins(): void {
    // A source's watermark never goes back (Flink's sources emit monotonic watermarks): a lower pin changes nothing.
    while (this.nextPin < this.pins.length && this.pins[this.nextPin].after < this.next) {
      this.current = Math.max(this.current, this.pins[this.nextPin].watermark);
      this.nextPin++;
    }
  }

  async close(): Promise<void> {}
}
