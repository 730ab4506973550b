// Accumulator helpers for generated window and running aggregations (min, max, sum, count, avg are plain fields), and how accumulators go into checkpoints.
export { DistinctCount } from './distinct-count.ts';
export { Variance } from './variance.ts';
export { Percentile } from './percentile.ts';
export { FirstValue, LastValue } from './first-last.ts';
export { Collect } from './collect.ts';
export {
  loadAsIs, loadAverage, loadNumber, loadOptionalNumber, saveAverage, saveNumber,
  type SavedAccumulator, type SavedAverage, type ValueLoader,
} from './saved.ts';
