// Accumulators through a checkpoint: save, JSON text, load, and go on as if nothing happened.
import { describe, expect, it } from 'vitest';
import {
  Collect, DistinctCount, FirstValue, LastValue, Percentile, Variance,
  loadAverage, loadNumber, loadOptionalNumber, saveAverage, saveNumber,
} from '../../../runtime/aggregates/index.ts';
import { seededRandom } from '../../support/random.ts';

/** What a checkpoint does to saved data: JSON text and back. */
function throughJson(saved: unknown): unknown {
  return JSON.parse(JSON.stringify(saved));
}

/** Values with event times, some out of order and some repeated. */
function arrivals(seed: number, count: number): { value: number; time: number }[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({ value: Math.floor(random() * 40) / 4, time: Math.floor(random() * 100) }));
}

interface Accumulator<Result> {
  add(value: number, time: number): void;
  save(): unknown;
  result(): Result;
}

/**
 * Adds every arrival to one accumulator, and to another that is saved and loaded after each `every` arrivals; the
 * two must agree at the end, result and saved data alike.
 */
function expectRestoredAgree<Result>(create: () => Accumulator<Result>, load: (saved: unknown) => Accumulator<Result>, seed: number): void {
  const uninterrupted = create();
  let restored = create();
  const every = 37;
  arrivals(seed, 500).forEach(({ value, time }, index) => {
    uninterrupted.add(value, time);
    restored.add(value, time);
    if (index % every === every - 1) restored = load(throughJson(restored.save()));
  });
  expect(restored.result()).toEqual(uninterrupted.result());
  expect(throughJson(restored.save())).toEqual(throughJson(uninterrupted.save()));
}

describe('saveNumber and loadNumber', () => {
  it('keep finite numbers as they are and name the non-finite ones, which JSON lacks', () => {
    const numbers = [0, -1.5, 1e308, Number.MIN_VALUE, Infinity, -Infinity, NaN];
    const saved = throughJson(numbers.map((value) => saveNumber(value))) as unknown[];
    expect(saved).toEqual([0, -1.5, 1e308, Number.MIN_VALUE, 'Infinity', '-Infinity', 'NaN']);
    expect(saved.map(loadNumber)).toEqual(numbers);
    expect(loadOptionalNumber(throughJson(saveNumber(null)))).toBeNull();
    expect(loadOptionalNumber(throughJson(saveNumber(-Infinity)))).toBe(-Infinity);
  });

  it('refuse a value that is not a saved number, saying what to do', () => {
    expect(() => loadNumber('12')).toThrow(/restore a checkpoint of this pipeline, or start without --restore/);
    expect(() => loadNumber(null)).toThrow(TypeError);
  });

  it('carry avg as its sum and count', () => {
    expect(loadAverage(throughJson(saveAverage(Infinity, 3)))).toEqual([Infinity, 3]);
    expect(loadAverage(throughJson(saveAverage(7.25, 2)))).toEqual([7.25, 2]);
  });
});

describe('saved accumulators', () => {
  it('DistinctCount keeps occurrence counts, so retraction after a restore still works', () => {
    expectRestoredAgree(
      () => wrapDistinct(new DistinctCount<number>()),
      (saved) => wrapDistinct(DistinctCount.load(saved, loadNumber)),
      1,
    );
    const users = new DistinctCount<string>();
    for (const user of ['ann', 'bob', 'ann']) users.add(user);
    const loaded = DistinctCount.load<string>(throughJson(users.save()));
    loaded.retract('ann');
    expect(loaded.value()).toBe(2);
    loaded.retract('ann');
    expect(loaded.value()).toBe(1);
  });

  it('FirstValue and LastValue keep the value and its time, ties included', () => {
    expectRestoredAgree(() => wrapTimed(new FirstValue<number>()), (saved) => wrapTimed(FirstValue.load(saved, loadNumber)), 2);
    expectRestoredAgree(() => wrapTimed(new LastValue<number>()), (saved) => wrapTimed(LastValue.load(saved, loadNumber)), 3);
  });

  it('FirstValue and LastValue save an empty accumulator as null and load it empty', () => {
    const first = FirstValue.load<string>(throughJson(new FirstValue<string>().save()));
    const last = LastValue.load<string>(throughJson(new LastValue<string>().save()));
    expect(new FirstValue<string>().save()).toBeNull();
    expect(first.value()).toBeNull();
    expect(last.value()).toBeNull();
    first.add('a', 5);
    last.add('a', 5);
    last.merge(LastValue.load<string>(null));
    expect([first.value(), last.value()]).toEqual(['a', 'a']);
  });

  it('Collect keeps the order of equal times', () => {
    expectRestoredAgree(() => wrapCollect(new Collect<number>()), (saved) => wrapCollect(Collect.load(saved, loadNumber)), 4);
  });

  it('Variance continues with the same count, mean and squared deviations', () => {
    expectRestoredAgree(() => wrapVariance(new Variance()), (saved) => wrapVariance(Variance.load(saved)), 5);
  });

  it('Percentile keeps every value', () => {
    expectRestoredAgree(() => wrapPercentile(new Percentile()), (saved) => wrapPercentile(Percentile.load(saved)), 6);
  });

  it('non-finite numbers survive in every aggregate that holds numbers', () => {
    const odd = [Infinity, 2, -Infinity, NaN, 2];
    const distinct = new DistinctCount<number>();
    const collect = new Collect<number>();
    const percentile = new Percentile();
    const variance = new Variance();
    const first = new FirstValue<number>();
    odd.forEach((value, time) => {
      distinct.add(value);
      collect.add(value, time);
      percentile.add(value);
      variance.add(value);
      first.add(value, time);
    });
    expect(DistinctCount.load(throughJson(distinct.save()), loadNumber).save()).toEqual(distinct.save());
    expect(Collect.load(throughJson(collect.save()), loadNumber).value()).toEqual(odd);
    expect(Percentile.load(throughJson(percentile.save())).value(0)).toBe(-Infinity);
    expect(Variance.load(throughJson(variance.save())).mean()).toBeNaN();
    expect(FirstValue.load(throughJson(first.save()), loadNumber).value()).toBe(Infinity);
  });

  it('strings that spell a non-finite number stay strings when the values are not numbers', () => {
    const words = new Collect<string>();
    words.add('Infinity', 1);
    words.add('NaN', 2);
    expect(Collect.load<string>(throughJson(words.save())).value()).toEqual(['Infinity', 'NaN']);
  });

  it('a loaded accumulator merges as the uninterrupted one does', () => {
    const other = new Collect<number>();
    other.add(5, 10);
    other.add(6, 3);
    const uninterrupted = new Collect<number>();
    uninterrupted.add(1, 3);
    const loaded = Collect.load(throughJson(uninterrupted.save()), loadNumber);
    uninterrupted.merge(other);
    loaded.merge(other);
    expect(loaded.value()).toEqual(uninterrupted.value());
  });
});

function wrapDistinct(distinct: DistinctCount<number>): Accumulator<number> {
  return { add: (value) => distinct.add(value), save: () => distinct.save(), result: () => distinct.value() };
}

function wrapTimed(timed: FirstValue<number> | LastValue<number>): Accumulator<number | null> {
  return { add: (value, time) => timed.add(value, time), save: () => timed.save(), result: () => timed.value() };
}

function wrapCollect(collect: Collect<number>): Accumulator<number[]> {
  return { add: (value, time) => collect.add(value, time), save: () => collect.save(), result: () => collect.value() };
}

function wrapVariance(variance: Variance): Accumulator<(number | null)[]> {
  return { add: (value) => variance.add(value), save: () => variance.save(), result: () => [variance.count, variance.mean(), variance.sampleVariance()] };
}

function wrapPercentile(percentile: Percentile): Accumulator<(number | null)[]> {
  return {
    add: (value) => percentile.add(value),
    // Its saved values are in arrival order until a result sorts them: compare them sorted.
    save: () => [...(percentile.save() as number[])].sort((a, b) => a - b),
    result: () => [0, 0.25, 0.5, 0.95, 1].map((p) => percentile.value(p)),
  };
}
