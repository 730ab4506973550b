// Output rows compared across runs whose float sums may add in another order.

/**
 * A JSON line with every fraction rounded to 12 significant digits. At parallelism above 1 a window's float sums and
 * averages may add the same records in another order (records of a key from several splits, accumulators folded on
 * another worker thread), which changes their last bits and nothing else.
 */
export function roundedFractions(line: string): string {
  return JSON.stringify(JSON.parse(line), (_, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(12)) : value));
}
