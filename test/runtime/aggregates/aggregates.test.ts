// Accumulator helpers: distinct count, variance, percentile, first/last by event time and collect, with retraction and merge.
import { describe, expect, it } from 'vitest';
import { Collect, DistinctCount, FirstValue, LastValue, Percentile, Variance } from '../../../runtime/aggregates/index.ts';
import { seededRandom } from '../../support/random.ts';

describe('DistinctCount', () => {
  it('counts distinct values, and a value leaves only when its last occurrence is retracted', () => {
    const users = new DistinctCount<string>();
    for (const user of ['ann', 'bob', 'ann', 'cat']) users.add(user);
    expect(users.value()).toBe(3);
    users.retract('ann');
    expect(users.value()).toBe(3);
    users.retract('ann');
    expect(users.value()).toBe(2);
    users.retract('zed');
    expect(users.value()).toBe(2);
  });

  it('merges occurrence counts, so retraction after a merge still works', () => {
    const a = new DistinctCount<number>();
    const b = new DistinctCount<number>();
    a.add(1);
    a.add(2);
    b.add(2);
    b.add(3);
    a.merge(b);
    expect(a.value()).toBe(3);
    a.retract(2);
    expect(a.value()).toBe(3);
    a.retract(2);
    expect(a.value()).toBe(2);
  });
});

/** Sample and population variance by the two-pass textbook formula. */
function twoPass(values: readonly number[]): { sample: number | null; population: number | null } {
  if (values.length === 0) return { sample: null, population: null };
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { sample: values.length < 2 ? null : squares / (values.length - 1), population: squares / values.length };
}

describe('Variance', () => {
  it('is STDDEV_SAMP (null below two values) and STDDEV_POP (null when empty)', () => {
    const variance = new Variance();
    expect(variance.value()).toBeNull();
    expect(variance.populationStddev()).toBeNull();
    variance.add(4);
    expect(variance.sampleStddev()).toBeNull();
    expect(variance.populationStddev()).toBe(0);
    for (const value of [2, 4, 4, 5, 5, 7, 9]) variance.add(value);
    // 2 4 4 4 5 5 7 9: mean 5, squared deviations 32
    expect(variance.populationStddev()).toBe(2);
    expect(variance.sampleStddev()).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(variance.value()).toBe(variance.sampleStddev());
    expect(variance.mean()).toBe(5);
  });

  it('agrees with the two-pass formula under random adds, retractions and merges', () => {
    const random = seededRandom(17);
    const values: number[] = [];
    const variance = new Variance();
    for (let step = 0; step < 3000; step++) {
      if (values.length > 0 && random() < 0.3) {
        const [value] = values.splice(Math.floor(random() * values.length), 1);
        variance.retract(value);
      } else {
        const value = 1000 + random() * 50;
        values.push(value);
        variance.add(value);
      }
      const expected = twoPass(values);
      if (expected.sample === null) expect(variance.sampleVariance()).toBeNull();
      else expect(variance.sampleVariance()!).toBeCloseTo(expected.sample, 6);
    }
    const other = new Variance();
    const more = [3, 1000, 1001.5, -20];
    for (const value of more) other.add(value);
    variance.merge(other);
    const expected = twoPass([...values, ...more]);
    expect(variance.count).toBe(values.length + more.length);
    expect(variance.populationVariance()!).toBeCloseTo(expected.population!, 6);
  });

  it('merges into an empty accumulator and retracts down to empty', () => {
    const empty = new Variance();
    const full = new Variance();
    full.add(1);
    full.add(3);
    empty.merge(full);
    expect(empty.sampleVariance()).toBe(2);
    empty.retract(1);
    empty.retract(3);
    expect(empty.count).toBe(0);
    expect(empty.populationVariance()).toBeNull();
  });
});

describe('Percentile', () => {
  it('interpolates linearly as percentile_cont', () => {
    const percentile = new Percentile();
    expect(percentile.value(0.5)).toBeNull();
    for (const value of [4, 1, 3, 2]) percentile.add(value);
    expect(percentile.value(0.5)).toBe(2.5);
    expect(percentile.value(0)).toBe(1);
    expect(percentile.value(1)).toBe(4);
    expect(percentile.value(0.25)).toBe(1.75); // position 0.75 between 1 and 2
    expect(percentile.value(0.9)).toBeCloseTo(3.7, 12); // position 2.7 between 3 and 4
  });

  it('gives the results of Flink SQL PERCENTILE\'s documented examples', () => {
    const of = (values: number[], p: number) => {
      const percentile = new Percentile();
      for (const value of values) percentile.add(value);
      return percentile.value(p);
    };
    expect(of([0, 10, 10], 0.3)).toBe(6);
    expect(of([10, 20, 30, 40], 0.25)).toBe(17.5);
    expect(of([0, 50, 100], 0.5)).toBe(50);
  });

  it('retracts and merges', () => {
    const a = new Percentile();
    const b = new Percentile();
    for (const value of [10, 20, 30]) a.add(value);
    for (const value of [40, 50]) b.add(value);
    a.merge(b);
    expect(a.value(0.5)).toBe(30);
    a.retract(30);
    expect(a.value(0.5)).toBe(30); // 10 20 40 50: position 1.5
    expect(a.count).toBe(4);
  });

  it('rejects percentiles outside [0, 1]', () => {
    expect(() => new Percentile().value(1.5)).toThrow(RangeError);
  });
});

describe('FirstValue and LastValue', () => {
  it('take the value with the smallest / largest event time; ties go to the earliest / latest arrival', () => {
    const first = new FirstValue<string>();
    const last = new LastValue<string>();
    expect(first.value()).toBeNull();
    expect(last.value()).toBeNull();
    for (const [value, time] of [['b', 20], ['a', 10], ['c', 30], ['a2', 10], ['c2', 30], ['m', 15]] as const) {
      first.add(value, time);
      last.add(value, time);
    }
    expect(first.value()).toBe('a');
    expect(last.value()).toBe('c2');
  });

  it('merge: the accumulator merged into counts as the earlier arrival', () => {
    const early = new FirstValue<string>();
    const late = new FirstValue<string>();
    early.add('x', 5);
    late.add('y', 5);
    early.merge(late);
    expect(early.value()).toBe('x');
    const lastEarly = new LastValue<string>();
    const lastLate = new LastValue<string>();
    lastEarly.add('x', 5);
    lastLate.add('y', 5);
    lastEarly.merge(lastLate);
    expect(lastEarly.value()).toBe('y');
    lastEarly.merge(new LastValue<string>());
    expect(lastEarly.value()).toBe('y');
  });
});

describe('Collect', () => {
  it('orders values by event time, keeping arrival order for equal times', () => {
    const collect = new Collect<string>();
    for (const [value, time] of [['c', 3], ['a', 1], ['b1', 2], ['d', 4], ['b2', 2], ['a0', 1]] as const) collect.add(value, time);
    expect(collect.value()).toEqual(['a', 'a0', 'b1', 'b2', 'c', 'd']);
  });

  it('hands out a copy, merges stably and retracts one occurrence', () => {
    const a = new Collect<string>();
    const b = new Collect<string>();
    a.add('a1', 1);
    a.add('a3', 3);
    b.add('b1', 1);
    b.add('b2', 2);
    const before = a.value();
    a.merge(b);
    expect(before).toEqual(['a1', 'a3']);
    expect(a.value()).toEqual(['a1', 'b1', 'b2', 'a3']);
    a.retract('b1', 1);
    a.retract('b1', 1);
    expect(a.value()).toEqual(['a1', 'b2', 'a3']);
    expect(a.count).toBe(3);
  });

  it('agrees with a stable sort of random arrivals', () => {
    const random = seededRandom(3);
    const collect = new Collect<number>();
    const arrivals: Array<{ value: number; time: number }> = [];
    for (let value = 0; value < 2000; value++) {
      const time = Math.floor(random() * 300);
      arrivals.push({ value, time });
      collect.add(value, time);
    }
    expect(collect.value()).toEqual([...arrivals].sort((x, y) => x.time - y.time).map((entry) => entry.value));
  });
});
