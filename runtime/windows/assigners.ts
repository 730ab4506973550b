// Window bounds by arithmetic, as Flink's TimeWindow and its tumbling and sliding assigners compute them.

/**
 * Start of the window of size `sizeMs` (aligned to `offsetMs`) that contains `time`: Flink's
 * TimeWindow.getWindowStartWithOffset, which keeps windows aligned for negative times too.
 */
export function windowStart(time: number, offsetMs: number, sizeMs: number): number {
  const remainder = (time - offsetMs) % sizeMs;
  // `%` takes the sign of the dividend, so a time before the offset gives a negative remainder.
  return remainder < 0 ? time - (remainder + sizeMs) : time - remainder;
}

export function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) {
    const rest = a % b;
    a = b;
    b = rest;
  }
  return a;
}

/** Throws unless `value` is a positive whole number of milliseconds. */
export function requirePositiveDuration(name: string, value: number): void {
  if (!(Number.isSafeInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive whole number of milliseconds, got ${value}`);
}

/** Throws unless `value` is a whole number of milliseconds >= 0. */
export function requireDuration(name: string, value: number): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`${name} must be a whole number of milliseconds >= 0, got ${value}`);
}
