// Accumulator helpers for generated window and running aggregations (min, max, sum, count, avg are plain fields).
export { DistinctCount } from './distinct-count.ts';
export { Variance } from './variance.ts';
export { Percentile } from './percentile.ts';
export { FirstValue, LastValue } from './first-last.ts';
export { Collect } from './collect.ts';
