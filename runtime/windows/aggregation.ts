// The incremental aggregation a window operator runs per key and window, written by the code generator per step.
import type { Key } from '../api.ts';

/**
 * How one window step aggregates: `create` makes an empty accumulator for a key (it keeps the key when the output
 * row has key fields; no record is in it yet), `add` folds one record in and is called for every record, the first
 * of a key included; `merge` folds another accumulator of the same key in (panes of a sliding window, sessions that
 * merge); `result` makes the output row of a window [windowStart, windowEnd). `result` must not hand out mutable
 * parts of the accumulator: a window can fire again after late records.
 *
 * `unmerge` takes out of `into` what merging `from` put in. The generator writes it only when every aggregate of
 * the step can be taken back (count, sum, avg, count_distinct); a sliding window then keeps one running
 * accumulator per key, adding the newest pane and taking out the oldest, instead of merging every pane per window.
 */
export interface WindowAggregation<K extends Key, In, Acc, Out> {
  create(key: K): Acc;
  add(acc: Acc, record: In, time: number): void;
  merge(into: Acc, from: Acc): void;
  unmerge?(into: Acc, from: Acc): void;
  result(acc: Acc, windowStart: number, windowEnd: number): Out;
}
