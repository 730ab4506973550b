// stddev: running variance by Welford's method, with retraction and Chan's merge of two partial results.
import { loadNumber, saveNumber } from './saved.ts';

/** A Variance in a checkpoint. */
export interface SavedVariance {
  readonly count: number;
  readonly mean: number | string;
  readonly squaredDeviations: number | string;
}

/**
 * Count, mean and sum of squared deviations (M2) of the values added, numerically stable. `value()` is the
 * sample standard deviation, as Flink SQL's STDDEV (= STDDEV_SAMP), null for fewer than two values.
 */
export class Variance {
  private n = 0;
  private average = 0;
  private squaredDeviations = 0;

  get count(): number {
    return this.n;
  }

  /** The mean of the values, null when there are none. */
  mean(): number | null {
    return this.n === 0 ? null : this.average;
  }

  add(value: number): void {
    this.n++;
    const delta = value - this.average;
    this.average += delta / this.n;
    this.squaredDeviations += delta * (value - this.average);
  }

  /** Takes back one value that was added (Welford's update run backwards). */
  retract(value: number): void {
    if (this.n <= 1) {
      this.n = 0;
      this.average = 0;
      this.squaredDeviations = 0;
      return;
    }
    const previousMean = (this.n * this.average - value) / (this.n - 1);
    this.squaredDeviations -= (value - previousMean) * (value - this.average);
    // Rounding can leave a tiny negative remainder where the exact one is 0.
    if (this.squaredDeviations < 0) this.squaredDeviations = 0;
    this.average = previousMean;
    this.n--;
  }

  merge(other: Variance): void {
    if (other.n === 0) return;
    if (this.n === 0) {
      this.n = other.n;
      this.average = other.average;
      this.squaredDeviations = other.squaredDeviations;
      return;
    }
    const n = this.n + other.n;
    const delta = other.average - this.average;
    this.squaredDeviations += other.squaredDeviations + (delta * delta * this.n * other.n) / n;
    this.average += (delta * other.n) / n;
    this.n = n;
  }

  /** VAR_SAMP: null for fewer than two values. */
  sampleVariance(): number | null {
    return this.n < 2 ? null : this.squaredDeviations / (this.n - 1);
  }

  /** VAR_POP: null for no values. */
  populationVariance(): number | null {
    return this.n === 0 ? null : this.squaredDeviations / this.n;
  }

  /** STDDEV_SAMP: null for fewer than two values. */
  sampleStddev(): number | null {
    const variance = this.sampleVariance();
    return variance === null ? null : Math.sqrt(variance);
  }

  /** STDDEV_POP: null for no values. */
  populationStddev(): number | null {
    const variance = this.populationVariance();
    return variance === null ? null : Math.sqrt(variance);
  }

  /** What the spec's `stddev` means: the sample standard deviation. */
  value(): number | null {
    return this.sampleStddev();
  }

  /** For checkpoints. */
  save(): SavedVariance {
    return { count: this.n, mean: saveNumber(this.average), squaredDeviations: saveNumber(this.squaredDeviations) };
  }

  /** The accumulator `save` wrote. */
  static load(saved: unknown): Variance {
    const { count, mean, squaredDeviations } = saved as SavedVariance;
    const loaded = new Variance();
    loaded.n = loadNumber(count);
    loaded.average = loadNumber(mean);
    loaded.squaredDeviations = loadNumber(squaredDeviations);
    return loaded;
  }
}
