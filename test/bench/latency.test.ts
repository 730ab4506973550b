// The live cases' latency summary: nearest-rank percentiles over the samples, whatever order they came in.

import { describe, expect, it } from 'vitest';
import { percentile, summarizeLatency } from '../../bench/latency.ts';

describe('percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, index) => index + 1);

  it('is the sample at the nearest rank: ceil(fraction × count)', () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile([10, 20, 30], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], 0.51)).toBe(30);
  });

  it('of one sample is that sample, at any fraction', () => {
    expect(percentile([7], 0.01)).toBe(7);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('refuses no samples and fractions outside (0, 1]', () => {
    expect(() => percentile([], 0.5)).toThrow(RangeError);
    expect(() => percentile(hundred, 0)).toThrow(RangeError);
    expect(() => percentile(hundred, 1.5)).toThrow(RangeError);
  });
});

describe('summarizeLatency', () => {
  it('sorts the samples as numbers, so p50 ≤ p99 ≤ max', () => {
    const samples = [5_012, 9, 5_003, 100, 5_030, -2, 5_001];
    expect(summarizeLatency('window_end', samples, 3)).toEqual({ field: 'window_end', rows: 7, afterInputEnded: 3, p50Ms: 5_001, p99Ms: 5_030, maxMs: 5_030 });
  });

  it('has no percentiles without samples', () => {
    expect(summarizeLatency('ts', [], 12)).toEqual({ field: 'ts', rows: 0, afterInputEnded: 12 });
  });
});
