// The generator's pseudo-random numbers: mulberry32, seeded per record so any record can be produced on its own.
//
// Only 32-bit integer operations and exact divisions by powers of two are used (no Math.random, Math.exp or
// Math.pow), so the same seed gives the same numbers bit for bit on every machine and every JavaScript engine.

import { mix32 } from '../../hash.ts';

const TWO_TO_THE_32 = 4294967296;

/** A 32-bit word standing for a seed, which may be any safe integer (negative or above 2^32). */
export function seedWord(seed: number): number {
  return mix32((seed >>> 0) ^ mix32(Math.floor(seed / TWO_TO_THE_32) >>> 0 ^ 0x9e3779b9));
}

/** A well-mixed 32-bit hash of a seed word and two non-negative integers (a tag and an index, for instance). */
export function hash3(seed: number, first: number, second: number): number {
  return mix32(mix32(mix32(seed ^ (first >>> 0)) + Math.imul(second >>> 0, 0x9e3779b9)) ^ (Math.floor(second / TWO_TO_THE_32) >>> 0));
}

/** A hash as a fraction in [0, 1). */
export function unit(hash: number): number {
  return hash / TWO_TO_THE_32;
}

export class Random {
  private state = 0;

  /**
   * Positions the generator at the start of record `sequence` of the stream of `seed` (a seed word). Records do
   * not share a running state, so a shard computes its records without the ones of other shards.
   */
  seek(seed: number, sequence: number): void {
    this.state = hash3(seed, 0x5eed, sequence);
  }

  /** The next uniform 32-bit word. */
  nextWord(): number {
    const state = (this.state + 0x6d2b79f5) | 0;
    this.state = state;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)) ^ mixed;
    return (mixed ^ (mixed >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextWord() / TWO_TO_THE_32;
  }

  /** Uniform integer in [0, bound). */
  below(bound: number): number {
    return Math.floor((this.nextWord() / TWO_TO_THE_32) * bound);
  }

  /** Uniform integer in [low, high]. */
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }
}
