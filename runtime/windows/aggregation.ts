// The incremental aggregation a window operator runs per key and window, written by the code generator per step.
import type { Key } from '../api.ts';

/**
 * How one window step aggregates: `create` makes an empty accumulator for a key (it keeps the key when the output
 * row has key fields; no record is in it yet), `add` folds one record in and is called for every record, the first
 * of a key included; `merge` folds another accumulator of the same key in (panes of a sliding window, sessions that
 * merge); `result` makes the output row of a window [windowStart, windowEnd). `result` must not hand out mutable
 * parts of the accumulator: a window can fire again after late records.
 *
 * A sliding window keeps one running accumulator per key when the generator writes the optional three: `unmerge`
 * takes out of `into` what merging `from` put in, for the aggregates that can be taken back exactly (count,
 * count_distinct, sum of ints); `clearUnmergeable` resets the other aggregates and `mergeUnmergeable` merges only
 * those. A window then costs a merge of its newest pane and an unmerge of the pane that left, for the exact
 * aggregates, while the others (float sums, min, max, …) are merged again from the window's panes in order, so
 * every result equals that of merging all panes, to the bit.
 */
export interface WindowAggregation<K extends Key, In, Acc, Out> {
  create(key: K): Acc;
  add(acc: Acc, record: In, time: number): void;
  merge(into: Acc, from: Acc): void;
  unmerge?(into: Acc, from: Acc): void;
  clearUnmergeable?(acc: Acc): void;
  mergeUnmergeable?(into: Acc, from: Acc): void;
  result(acc: Acc, windowStart: number, windowEnd: number): Out;
  /** The accumulator as plain JSON data, one property per aggregate field, for checkpoints. */
  save(acc: Acc): unknown;
  /** The accumulator `save` gave; an aggregate field missing from it (added since, or reset) starts empty. */
  load(key: K, saved: unknown): Acc;
}
