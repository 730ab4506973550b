// The state memory budget (`pipec run --state-memory`): operators evict clean rows after checkpoints when their
// estimated size exceeds it, and the executor loads rows back from the backend in batches when operators ask.
//
// Only rows unchanged since a checkpoint can be evicted (the backend holds them), so eviction goes down to half the
// budget, and a checkpoint comes before its interval when the rows in memory reach the budget: the other half takes
// the rows made and loaded until then, and loads come in batches that fit it. Rows in memory thus stay within the
// budget, give or take a round of batches.

import type { Key, Operator, OperatorState, StateNamespace } from '../api.ts';
import { keyGroupOf } from '../keys.ts';
import type { StateBackend } from '../state/backend.ts';

/**
 * Heap bytes a resident row costs beyond its evicted stand-in, per byte of its JSON (value, key and namespace):
 * what evicting a million rows freed (heapUsed after a full GC) over their JSON size, measured with an accumulator
 * of a count, two sums, a max and a first: tumbling windows 0.7 (the accumulator object only), sessions 2.0 (the
 * session object and its accumulator). Larger accumulators (count_distinct keeps a Set) cost more per JSON byte.
 */
const BYTES_PER_JSON_BYTE = 2;

/** A row's size until rows of its state were seen: a small accumulator's. */
const DEFAULT_ROW_JSON_BYTES = 150;

/** One row in this many is measured (JSON.stringify) as it is written or restored: sizes change slowly. */
const SAMPLE_EVERY = 32;

/** The average is over about this many of the latest samples, so it follows rows that grow. */
const AVERAGE_OVER = 1000;

/** Eviction goes down to this share of the budget; a checkpoint is due when the rest is used too. */
const EVICT_TO = 0.5;

interface RowSizes {
  /** Rows written or restored so far, sampled or not. */
  seen: number;
  samples: number;
  /** Average JSON bytes of the sampled rows. */
  average: number;
}

export class MemoryBudget {
  /** Rows evicted (a restore leaving them in the backend included) and loaded back over the run. */
  evictedRows = 0;
  loadedRows = 0;
  private readonly sizes = new Map<string, RowSizes>();
  /** The keyed states the budget is shared by: every operator's of every task. */
  private states: readonly OperatorState[] = [];
  /** How many of them evict. */
  private spilling = 0;
  /** Estimated bytes of the rows a restore put in memory so far. */
  private restoredBytes = 0;
  /** Said once, when steps that keep their rows in memory fill the budget. */
  private warning: string | undefined;
  private warned = false;

  constructor(
    /** The budget for the values of resident rows, over every operator of every task. */
    readonly bytes: number,
    private readonly backend: StateBackend,
    private readonly maxParallelism: number,
  ) {}

  /** The run's operators, once built: the budget is shared by their keyed states. */
  share(operators: readonly Operator[]): void {
    this.states = operators.flatMap((operator) => (operator.state === undefined ? [] : [operator.state]));
    this.spilling = this.states.filter((state) => state.evict !== undefined).length;
  }

  /** Notes the size of a row of state `uid` as a checkpoint writes or a restore reads it (one in SAMPLE_EVERY is measured). */
  observe(uid: string, key: Key, namespace: StateNamespace, value: unknown): void {
    let sizes = this.sizes.get(uid);
    if (sizes === undefined) this.sizes.set(uid, (sizes = { seen: 0, samples: 0, average: 0 }));
    if (sizes.seen++ % SAMPLE_EVERY !== 0) return;
    const bytes = JSON.stringify(value).length + JSON.stringify([key, namespace]).length;
    sizes.samples++;
    sizes.average += (bytes - sizes.average) / Math.min(sizes.samples, AVERAGE_OVER);
  }

  /**
   * Takes back a row of a checkpoint that the backend holds: into memory while the rows restored so far fit in what
   * eviction leaves (half the budget), then, for operators that can, left in the backend as if evicted. A restore of
   * state larger than memory thus never holds all of it.
   */
  restoreRow(state: OperatorState, key: Key, namespace: StateNamespace, value: unknown): void {
    this.observe(state.uid, key, namespace, value);
    if (state.restoreEvicted !== undefined && this.restoredBytes >= this.bytes * EVICT_TO) {
      state.restoreEvicted(key, namespace, value);
      this.evictedRows++;
      return;
    }
    state.restoreRow(key, namespace, value);
    this.restoredBytes += this.rowBytes(state.uid);
  }

  /**
   * Loads what `operator` asks for (with `watermark`, first the rows its firing up to it needs) in one read per
   * request, until it asks for nothing more: replaying its parked records may ask for more. Returns the rows loaded.
   */
  async load(operator: Operator, watermark?: number): Promise<number> {
    const state = operator.state;
    if (state?.pendingLoads === undefined) return 0;
    if (watermark !== undefined) state.prepareWatermark?.(watermark, this.loadsAtOnce(state));
    let loaded = 0;
    for (let rows = state.pendingLoads(); rows.length > 0; rows = state.pendingLoads()) {
      const addresses = rows.map(({ key, namespace }) => ({ keyGroup: keyGroupOf(key, this.maxParallelism), uid: state.uid, key, namespace }));
      state.loaded!(rows, await this.backend.read(addresses));
      loaded += rows.length;
    }
    this.loadedRows += loaded;
    return loaded;
  }

  /**
   * The next watermark on the way from `from` to `to`: as far as every operator's firing loads no more rows than
   * its share of the budget holds (OperatorState.watermarkStep); `to` when that all fits.
   */
  watermarkStep(from: number, to: number): number {
    let step = to;
    for (const state of this.states) if (state.watermarkStep !== undefined) step = Math.min(step, state.watermarkStep(to, this.loadsAtOnce(state)));
    // An operator's step is past its own watermark, which is `from`; should one say otherwise, go all the way.
    return step > from ? step : to;
  }

  /**
   * Called when every row is clean (right after a checkpoint, or a restore whose rows the backend holds): when the
   * estimated bytes of the resident rows exceed the budget, the operators that can evict do, each down to the same
   * share of its resident rows, so that they take half of what the operators that cannot evict leave of the budget.
   */
  evict(): void {
    const { fixed, evictable } = this.estimate();
    if (fixed > this.bytes && !this.warned) {
      const steps = [...new Set(this.states.filter((state) => state.evict === undefined).map((state) => state.uid))];
      this.warning =
        `state memory: the steps that keep all their rows in memory (${steps.join(', ')}) hold about ${Math.round(fixed / 1024)} KiB, ` +
        `more than --state-memory (${Math.round(this.bytes / 1024)} KiB): the other rows are evicted at every checkpoint, and checkpoints come every few rows; raise --state-memory`;
    }
    if (fixed + evictable <= this.bytes) return;
    const share = this.evictTo(fixed) / evictable;
    for (const state of this.states) {
      if (state.evict !== undefined) this.evictedRows += state.evict(Math.floor(residentRowsOf(state) * share));
    }
  }

  /** A warning to log, once: the steps that cannot evict hold more than the budget. */
  takeWarning(): string | undefined {
    const warning = this.warning;
    if (warning !== undefined) this.warned = true;
    this.warning = undefined;
    return warning;
  }

  /**
   * Whether a checkpoint is due before its interval: the rows that can be evicted have grown by half the budget
   * since the last eviction (which is how far they grow when nothing else is in memory).
   */
  checkpointDue(): boolean {
    const { fixed, evictable } = this.estimate();
    return evictable > this.evictTo(fixed) + this.bytes * (1 - EVICT_TO);
  }

  /** Estimated bytes of the resident rows of operators that cannot evict and those that can. */
  private estimate(): { fixed: number; evictable: number } {
    let fixed = 0;
    let evictable = 0;
    for (const state of this.states) {
      const bytes = residentRowsOf(state) * this.rowBytes(state.uid);
      if (state.evict === undefined) fixed += bytes;
      else evictable += bytes;
    }
    return { fixed, evictable };
  }

  /** What eviction leaves in memory: half of what operators that cannot evict leave of the budget. */
  private evictTo(fixed: number): number {
    return Math.max(0, this.bytes - fixed) * EVICT_TO;
  }

  /** Rows an operator may load at once: its share of the half of the budget that eviction leaves free. */
  private loadsAtOnce(state: OperatorState): number {
    return Math.max(1, Math.floor((this.bytes * (1 - EVICT_TO)) / this.rowBytes(state.uid) / Math.max(1, this.spilling)));
  }

  /** Estimated heap bytes of a resident row of state `uid`. */
  private rowBytes(uid: string): number {
    const sizes = this.sizes.get(uid);
    return (sizes === undefined || sizes.samples === 0 ? DEFAULT_ROW_JSON_BYTES : sizes.average) * BYTES_PER_JSON_BYTE;
  }
}

/** Rows whose values are in memory: all of them for an operator that does not evict. */
export function residentRowsOf(state: OperatorState): number {
  return state.residentRows ?? state.size;
}
