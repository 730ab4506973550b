// What window operators share for checkpoints: rows of time slices (tumbling windows, sliding panes) and the order restored keys take.
import type { Key, StateRowWriter } from '../api.ts';
import type { WindowAggregation } from './aggregation.ts';

/** Stands in a slice for the accumulator of a row evicted to the backend under a memory budget. */
export const EVICTED = Symbol('evicted');
/** Stands in a slice for an evicted accumulator asked back from the backend. */
export const LOADING = Symbol('loading');
/** What a slice holds for a key instead of its accumulator while the row is in the backend only. */
export type Absent = typeof EVICTED | typeof LOADING;

/**
 * A slice of event time (a tumbling window, a sliding window's pane) with an accumulator per key, in the order the
 * keys first arrived in it. Keys are only ever added to a slice and the slice is freed as a whole, so a key's place
 * in `accumulators` never changes: it is what a checkpoint keeps of the order keys fire in. `Held` is what the slice
 * holds per key: the accumulator, or (in operators that evict) a stand-in `Absent` for an evicted row, which keeps
 * the key's place.
 */
export interface Slice<K extends Key, Held> {
  readonly start: number;
  readonly accumulators: Map<K, Held>;
  /** Keys whose accumulator changed since the last snapshot; filled only while changes are tracked. */
  changed: Set<K>;
  /** With `SliceRows.keepRecent`: the keys that changed in the interval before the last snapshot. */
  recentlyChanged: Set<K> | undefined;
  /** Keys holding an `Absent` stand-in. */
  evicted: number;
  /** Whether a snapshot wrote rows of this slice: freeing it must then delete them. */
  persisted: boolean;
}

/** A slice's row of one key: its accumulator, and its place among the slice's keys. */
export interface SliceRow {
  readonly arrival: number;
  readonly acc: unknown;
}

/** A row on its way back: the key, the place it had, the loaded accumulator (EVICTED for a row that stays in the backend). */
interface RestoredEntry<K extends Key, Acc> {
  readonly key: K;
  readonly arrival: number;
  readonly acc: Acc | typeof EVICTED;
}

/**
 * The checkpoint rows of an operator's slices: one row per (key, slice start), `{arrival, acc}` with the accumulator
 * as `aggregation.save` gives it. The operator adds a key to its slice's `changed` per record while `tracking`, and
 * hands every slice it frees to `free`; a snapshot then writes the changed rows and deletes the freed slices' rows.
 */
export class SliceRows<K extends Key, Acc> {
  /**
   * Whether changes are tracked: from the first snapshot or restore on. Until then nothing is in a checkpoint, so a
   * run without checkpoints tracks nothing, and the first snapshot writes every row.
   */
  tracking = false;
  /** Whether a snapshot keeps each slice's changed keys as `recentlyChanged`, for eviction to spare: set once an operator evicts. */
  keepRecent = false;
  /** Slices freed since the last snapshot that had rows in it. */
  private readonly freed: Slice<K, Acc | Absent>[] = [];
  /** Restored rows by slice start, until `restore` builds the slices. */
  private readonly restoring = new Map<number, RestoredEntry<K, Acc>[]>();

  constructor(
    private readonly uid: string,
    private readonly aggregation: Pick<WindowAggregation<K, unknown, Acc, unknown>, 'save' | 'load'>,
  ) {}

  /** The operator freed `slice`: its rows go at the next snapshot. */
  free(slice: Slice<K, Acc | Absent>): void {
    if (slice.persisted) this.freed.push(slice);
  }

  /** OperatorState.snapshot over the operator's live slices. A full snapshot needs every row in memory. */
  snapshot(out: StateRowWriter, slices: Iterable<Slice<K, Acc | Absent>>, full: boolean): void {
    const incremental = this.tracking && !full;
    if (incremental) {
      for (const slice of this.freed) for (const key of slice.accumulators.keys()) out.delete(key, slice.start);
    }
    this.freed.length = 0;
    for (const slice of slices) {
      if (!incremental || slice.changed.size > 0) this.write(out, slice, incremental);
      if (this.keepRecent) {
        slice.recentlyChanged = slice.changed.size > 0 ? slice.changed : undefined;
        slice.changed = new Set();
      } else {
        slice.changed.clear();
      }
      slice.persisted = true;
    }
    this.tracking = true;
  }

  /** A loaded row's accumulator. */
  load(key: K, value: unknown): Acc {
    return this.aggregation.load(key, (value as SliceRow).acc);
  }

  /** Writes the slice's changed rows, or all of them. */
  private write(out: StateRowWriter, slice: Slice<K, Acc | Absent>, incremental: boolean): void {
    let arrival = 0;
    for (const [key, acc] of slice.accumulators) {
      if (!incremental || slice.changed.has(key)) {
        if (acc === EVICTED || acc === LOADING) {
          throw new Error(`a full snapshot of state '${this.uid}' met an evicted row: evicted rows need an incremental backend (rocksdb)`);
        }
        const row: SliceRow = { arrival, acc: this.aggregation.save(acc) };
        out.put(key, slice.start, row);
      }
      arrival++;
    }
  }

  /** OperatorState.restoreRow and restoreEvicted: keeps the row (with `evicted`, only its place) until `restore`. */
  restoreRow(key: K, start: number, value: unknown, evicted = false): void {
    const row = value as SliceRow;
    const entry: RestoredEntry<K, Acc> = { key, arrival: row.arrival, acc: evicted ? EVICTED : this.aggregation.load(key, row.acc) };
    const entries = this.restoring.get(start);
    if (entries === undefined) this.restoring.set(start, [entry]);
    else entries.push(entry);
  }

  /**
   * Fills the restored slices, by start, each with its keys in their saved order. `open` gives the operator's empty
   * slice for a start and registers its timers, or undefined when the slice is past its allowed lateness at the
   * restored watermark: it would have been freed, so its rows are deleted at the next snapshot. A row left in the
   * backend whose place moved must be written again: `reload` asks for it.
   */
  restore(open: (start: number) => Slice<K, Acc | Absent> | undefined, reload: (slice: Slice<K, Acc | Absent>, key: K) => void): void {
    const starts = [...this.restoring.keys()].sort((a, b) => a - b);
    for (const start of starts) {
      const entries = this.restoring.get(start)!.sort(byArrival);
      const opened = open(start);
      const slice = opened ?? emptySlice<K, Acc | Absent>(start);
      entries.forEach((entry, index) => {
        slice.accumulators.set(entry.key, entry.acc);
        if (entry.acc === EVICTED) slice.evicted++;
        // Rows from the checkpoints of several tasks (a restore at a lower parallelism) each number their keys from
        // 0, and a subset of a task's keys (a higher parallelism) leaves gaps: rewrite the rows whose place moved.
        if (entry.arrival === index) return;
        slice.changed.add(entry.key);
        if (entry.acc === EVICTED) reload(slice, entry.key);
      });
      slice.persisted = true;
      if (opened === undefined) this.freed.push(slice);
    }
    this.restoring.clear();
    this.tracking = true;
  }
}

/** A new slice for `start`, holding no key yet. */
export function emptySlice<K extends Key, Held>(start: number): Slice<K, Held> {
  return { start, accumulators: new Map(), changed: new Set(), recentlyChanged: undefined, evicted: 0, persisted: false };
}

/** Orders restored entries by their saved place; keys from different tasks' checkpoints that share one by the key. */
export function byArrival<K extends Key>(a: { readonly key: K; readonly arrival: number }, b: { readonly key: K; readonly arrival: number }): number {
  return a.arrival - b.arrival || compareKeys(a.key, b.key);
}

/** A total order of keys of any type (booleans, then numbers, then strings), to break ties deterministically. */
export function compareKeys(a: Key, b: Key): number {
  if (typeof a !== typeof b) return typeRank(a) - typeRank(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function typeRank(key: Key): number {
  return typeof key === 'boolean' ? 0 : typeof key === 'number' ? 1 : 2;
}
