// Watermarks: per-split bounded out-of-orderness with idleness for one source, and the minimum over several inputs.

/** The watermark a split with this highest event time allows, exactly Flink's BoundedOutOfOrdernessWatermarks. */
export function boundedOutOfOrdernessWatermark(maxEventTime: number, maxOutOfOrdernessMs: number): number {
  // Flink subtracts 1 so that a record at exactly maxEventTime - maxOutOfOrderness is still on time.
  return maxEventTime - maxOutOfOrdernessMs - 1;
}

class SplitWatermark {
  maxEventTime = -Infinity;
  /** Records seen; compared at each idleness check instead of reading a clock per record (Flink's IdlenessTimer). */
  records = 0;
  recordsAtLastCheck = 0;
  /** Processing time of the last check that saw a new record (or of the first check); NaN before any check. */
  quietSince = NaN;
  idle = false;
  ended = false;

  constructor(readonly split: number) {}
}

/**
 * The watermark of one source in one task. Each split (file chunk, partition, generator shard) has its own bounded
 * out-of-orderness watermark; the source's watermark is the minimum over its splits that are neither idle nor
 * ended. A split that got no record for `idleTimeoutMs` of processing time (as seen by `markIdleCheck`) is idle
 * until its next record; when every split is idle the watermark holds. A split that ended no longer holds the
 * minimum back, and when every split has ended the watermark is +Infinity (Flink's Long.MAX_VALUE at end of
 * input). The watermark never goes backwards, also when an idle split comes back behind it.
 */
export class WatermarkTracker {
  private readonly splits: SplitWatermark[];
  private readonly bySplit = new Map<number, SplitWatermark>();
  /** The split of the previous record: records arrive in batches of one split, so this saves the Map lookup. */
  private recent: SplitWatermark | undefined;
  private watermark = -Infinity;

  constructor(
    splits: readonly number[],
    private readonly maxOutOfOrdernessMs: number,
    /** 0 = splits never become idle. */
    private readonly idleTimeoutMs: number,
  ) {
    if (!(maxOutOfOrdernessMs >= 0)) throw new RangeError(`maxOutOfOrdernessMs must be >= 0, got ${maxOutOfOrdernessMs}`);
    if (!(idleTimeoutMs >= 0)) throw new RangeError(`idleTimeoutMs must be >= 0, got ${idleTimeoutMs}`);
    this.splits = splits.map((split) => new SplitWatermark(split));
    for (const state of this.splits) this.bySplit.set(state.split, state);
  }

  /** A record of `split` with this event time. Per record: no allocation. */
  observe(split: number, eventTime: number): void {
    let state = this.recent;
    if (state === undefined || state.split !== split) {
      state = this.splitState(split);
      this.recent = state;
    }
    state.records++;
    state.idle = false;
    if (eventTime > state.maxEventTime) state.maxEventTime = eventTime;
  }

  /**
   * Called periodically with the processing time: a split becomes idle once `idleTimeoutMs` passed since the last
   * check that saw a new record of it (for a split that never had one, since the first check). So a split is idle
   * no earlier than the timeout after its last record, and at most one check interval later.
   */
  markIdleCheck(nowMs: number): void {
    if (this.idleTimeoutMs === 0) return;
    for (const state of this.splits) {
      if (state.ended) continue;
      if (state.records !== state.recordsAtLastCheck) {
        state.recordsAtLastCheck = state.records;
        state.quietSince = nowMs;
      } else if (Number.isNaN(state.quietSince)) {
        state.quietSince = nowMs;
      } else if (nowMs - state.quietSince >= this.idleTimeoutMs) {
        state.idle = true;
      }
    }
  }

  /** The highest event time seen on `split`, -Infinity before its first record: what a checkpoint keeps. */
  maxEventTime(split: number): number {
    return this.splitState(split).maxEventTime;
  }

  /** Restoring a checkpoint: `split` had seen event times up to `maxEventTime`. */
  restoreSplit(split: number, maxEventTime: number): void {
    const state = this.splitState(split);
    if (maxEventTime > state.maxEventTime) state.maxEventTime = maxEventTime;
  }

  /** The split's input is over (bounded input): it no longer holds the watermark back. */
  endSplit(split: number): void {
    const state = this.splitState(split);
    state.ended = true;
    state.idle = false;
  }

  /** The source's watermark: -Infinity before any record, +Infinity once every split ended. */
  current(): number {
    let minimum = Infinity;
    let active = 0;
    let ended = 0;
    for (const state of this.splits) {
      if (state.ended) {
        ended++;
        continue;
      }
      if (state.idle) continue;
      active++;
      const watermark = boundedOutOfOrdernessWatermark(state.maxEventTime, this.maxOutOfOrdernessMs);
      if (watermark < minimum) minimum = watermark;
    }
    if (this.splits.length > 0 && ended === this.splits.length) this.watermark = Infinity;
    else if (active > 0 && minimum > this.watermark) this.watermark = minimum;
    return this.watermark;
  }

  /** True when no split can move the watermark now: every split not ended is idle (or there are no splits). */
  isIdle(): boolean {
    let idle = 0;
    let ended = 0;
    for (const state of this.splits) {
      if (state.ended) ended++;
      else if (state.idle) idle++;
    }
    return this.splits.length === 0 || (idle > 0 && idle + ended === this.splits.length);
  }

  private splitState(split: number): SplitWatermark {
    const state = this.bySplit.get(split);
    if (state === undefined) throw new Error(`split ${split} is not one of this source's splits`);
    return state;
  }
}

/** The watermark of an operator with several inputs: the minimum of theirs (-Infinity for none, as Flink). */
export function combineWatermarks(watermarks: readonly number[]): number {
  if (watermarks.length === 0) return -Infinity;
  let minimum = Infinity;
  for (const watermark of watermarks) if (watermark < minimum) minimum = watermark;
  return minimum;
}

/**
 * Combines the watermarks of an operator's inputs as Flink's StatusWatermarkValve: the minimum over inputs that
 * are not idle; each input's watermark and the combined one never go backwards; when every input is idle the
 * combined watermark holds. An idle input becomes active again with its next watermark.
 */
export class WatermarkCombiner {
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  private combined = -Infinity;

  constructor(inputs: number) {
    if (!(Number.isInteger(inputs) && inputs > 0)) throw new RangeError(`inputs must be a positive integer, got ${inputs}`);
    this.watermarks = new Array<number>(inputs).fill(-Infinity);
    this.idle = new Array<boolean>(inputs).fill(false);
  }

  /** Input `input` advanced to `watermark`; returns the combined watermark. */
  update(input: number, watermark: number): number {
    this.idle[input] = false;
    if (watermark > this.watermarks[input]) this.watermarks[input] = watermark;
    return this.recombine();
  }

  /** Input `input` has nothing to say for now (an idle source or task): the others decide. */
  markIdle(input: number): number {
    this.idle[input] = true;
    return this.recombine();
  }

  current(): number {
    return this.combined;
  }

  private recombine(): number {
    let minimum = Infinity;
    let active = 0;
    for (let input = 0; input < this.watermarks.length; input++) {
      if (this.idle[input]) continue;
      active++;
      if (this.watermarks[input] < minimum) minimum = this.watermarks[input];
    }
    if (active > 0 && minimum > this.combined) this.combined = minimum;
    return this.combined;
  }
}
