// Evictors of global windows, as Flink's CountEvictor and TimeEvictor: which kept records a firing aggregates.

/** The records a global window keeps for its evictor, in arrival order, with their event times. */
export class KeptRecords<In> {
  private records: In[] = [];
  private times: number[] = [];
  /** Records before `head` are evicted; the arrays are compacted once that is half of them. */
  private head = 0;

  get size(): number {
    return this.records.length - this.head;
  }

  /** The `index`-th kept record, oldest first. */
  record(index: number): In {
    return this.records[this.head + index];
  }

  time(index: number): number {
    return this.times[this.head + index];
  }

  push(record: In, time: number): void {
    this.records.push(record);
    this.times.push(time);
  }

  /** Evicts the `count` oldest arrivals. */
  evictOldest(count: number): void {
    this.head += Math.min(count, this.size);
    if (this.head > 64 && this.head * 2 > this.records.length) this.compact();
  }

  /** Evicts every record whose time is at or before `cutoff`, keeping the others in arrival order. */
  evictUpTo(cutoff: number): void {
    let kept = this.head;
    for (let index = this.head; index < this.records.length; index++) {
      if (this.times[index] <= cutoff) continue;
      this.records[kept] = this.records[index];
      this.times[kept] = this.times[index];
      kept++;
    }
    this.records.length = kept;
    this.times.length = kept;
  }

  /** Evicts oldest arrivals while they are at or before `cutoff`: cheap when records arrive roughly in time order. */
  evictOldestUpTo(cutoff: number): void {
    let count = 0;
    while (count < this.size && this.time(count) <= cutoff) count++;
    if (count > 0) this.evictOldest(count);
  }

  private compact(): void {
    this.records = this.records.slice(this.head);
    this.times = this.times.slice(this.head);
    this.head = 0;
  }
}

/**
 * Decides which records of a global window a firing aggregates. Flink evicts only when the window fires; eviction is
 * monotone (what a firing would evict stays evicted by every later firing), so evictors here also evict on arrival
 * what the next firing would evict anyway, which bounds the memory of a key between firings.
 */
export interface Evictor {
  /** A record arrived; `maxTime` is the latest event time of the key's records so far. */
  afterArrival(kept: KeptRecords<unknown>, maxTime: number): void;
  /** The window fires and will aggregate what is kept after this. */
  beforeFiring(kept: KeptRecords<unknown>): void;
}

/** Keeps the last `count` records by arrival (Flink's CountEvictor). */
export class CountEvictor implements Evictor {
  constructor(readonly count: number) {
    if (!(Number.isSafeInteger(count) && count > 0)) throw new RangeError(`count evictor needs a positive whole count, got ${count}`);
  }

  afterArrival(kept: KeptRecords<unknown>): void {
    if (kept.size > this.count) kept.evictOldest(kept.size - this.count);
  }

  beforeFiring(kept: KeptRecords<unknown>): void {
    if (kept.size > this.count) kept.evictOldest(kept.size - this.count);
  }
}

/** Keeps the records with time in (latest - span, latest], latest = the kept records' max time (Flink's TimeEvictor). */
export class TimeEvictor implements Evictor {
  constructor(readonly spanMs: number) {
    if (!(Number.isSafeInteger(spanMs) && spanMs > 0)) throw new RangeError(`time evictor needs a positive whole span in milliseconds, got ${spanMs}`);
  }

  afterArrival(kept: KeptRecords<unknown>, maxTime: number): void {
    kept.evictOldestUpTo(maxTime - this.spanMs);
  }

  beforeFiring(kept: KeptRecords<unknown>): void {
    let maxTime = -Infinity;
    for (let index = 0; index < kept.size; index++) if (kept.time(index) > maxTime) maxTime = kept.time(index);
    kept.evictUpTo(maxTime - this.spanMs);
  }
}
