// Records waiting for their key's evicted state to come back from the backend: the operator's side of spilling.
import type { Key, RowAddress } from '../api.ts';

interface ParkedRecord<K extends Key, In> {
  readonly key: K;
  readonly record: In;
  readonly time: number;
}

const NO_ROWS: readonly RowAddress[] = Object.freeze([]);

/**
 * A keyed operator under a memory budget never handles a record against evicted state and never waits on the hot
 * path: it parks the record, asks for the rows it needs, and parks every later record of the key behind it, so a
 * key's records keep their order. A key whose rows are asked for (by a record, or by a firing) holds its records
 * too, until the rows are back. Once the executor has loaded them (OperatorState.loaded), `replay` hands the
 * parked records back to the operator in the order they came.
 */
export class ParkedRecords<K extends Key, In> {
  private records: ParkedRecord<K, In>[] = [];
  /** Keys whose records park: they have records parked or rows asked for. */
  private readonly keys = new Set<K>();
  private requests: RowAddress[] = [];

  constructor(private readonly uid: string) {}

  /** Whether a record of `key` must park: rows of its key are on their way, or its earlier records wait. */
  holds(key: K): boolean {
    return this.keys.size > 0 && this.keys.has(key);
  }

  park(key: K, record: In, time: number): void {
    this.records.push({ key, record, time });
    this.keys.add(key);
  }

  /** Asks for the row (key, namespace): the next `take` returns it. The caller asks for each row once. */
  request(key: K, namespace: number | string): void {
    this.requests.push({ key, namespace });
    this.keys.add(key);
  }

  /** OperatorState.pendingLoads: the rows asked for since the previous call. */
  take(): readonly RowAddress[] {
    if (this.requests.length === 0) return NO_ROWS;
    const requests = this.requests;
    this.requests = [];
    return requests;
  }

  /** The rows asked for are back: processes the parked records in order. */
  replay(process: (key: K, record: In, time: number) => void): void {
    const records = this.records;
    this.records = [];
    this.keys.clear();
    for (const { key, record, time } of records) process(key, record, time);
  }

  /** A snapshot must not miss what parked records will change, nor rows on their way. */
  requireNone(): void {
    if (this.records.length > 0 || this.keys.size > 0) {
      throw new Error(
        `state '${this.uid}' was snapshotted with ${this.records.length} records waiting for evicted rows of ${this.keys.size} keys: ` +
          'the executor loads them before a checkpoint',
      );
    }
  }
}
