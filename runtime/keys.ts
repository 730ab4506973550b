// Keys and key groups: a key's hash picks its key group (hash mod max parallelism); a task owns a range of key groups.

import { mix32 } from './hash.ts';

/** The key of several key fields, as one string (its parts are read back with keyPart). */
export function compositeKey(...parts: readonly (string | number | boolean | null)[]): string {
  return JSON.stringify(parts);
}

/** Part `index` of a composite key. */
export function keyPart(key: string, index: number): unknown {
  return (JSON.parse(key) as unknown[])[index];
}

/** murmur3's 32-bit finalizer over the UTF-16 code units of a string, or the bits of a number. */
export function hashKey(key: string | number | boolean): number {
  if (typeof key === 'boolean') return key ? 1 : 0;
  let h = 0x9747b28c;
  if (typeof key === 'number') {
    h = Math.imul(h ^ (key | 0), 0xcc9e2d51);
    h = Math.imul(h ^ Math.floor(key / 4294967296), 0x1b873593);
  } else {
    for (let i = 0; i < key.length; i++) {
      let k = Math.imul(key.charCodeAt(i), 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    h ^= key.length;
  }
  return mix32(h);
}

export function keyGroupOf(key: string | number | boolean, maxParallelism: number): number {
  return hashKey(key) % maxParallelism;
}

/** The task that owns a key group, as Flink assigns them: contiguous ranges of key groups per task. */
export function taskOfKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The key groups [first, last] a task owns: the inverse of taskOfKeyGroup (Flink's KeyGroupRangeAssignment). */
export function keyGroupRangeOf(task: number, parallelism: number, maxParallelism: number): { readonly first: number; readonly last: number } {
  return {
    first: Math.ceil((task * maxParallelism) / parallelism),
    last: Math.ceil(((task + 1) * maxParallelism) / parallelism) - 1,
  };
}
