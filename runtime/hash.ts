// murmur3's 32-bit finalizer, shared by key hashing and the generator's random numbers.

/** A bijection on 32-bit words that spreads every input bit over the output. */
export function mix32(value: number): number {
  value ^= value >>> 16;
  value = Math.imul(value, 0x85ebca6b);
  value ^= value >>> 13;
  value = Math.imul(value, 0xc2b2ae35);
  value ^= value >>> 16;
  return value >>> 0;
}
