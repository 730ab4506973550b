// Keys and key groups: stable hashes, key groups in range, contiguous key-group ranges per task.

import { describe, expect, it } from 'vitest';
import { compositeKey, hashKey, keyGroupOf, keyGroupRangeOf, keyPart, taskOfKeyGroup } from '../../../runtime/keys.ts';

describe('keys', () => {
  it('hashes the same key the same way every time, and different keys apart', () => {
    expect(hashKey('electronics')).toBe(hashKey('electronics'));
    const groups = new Set(Array.from({ length: 1000 }, (_, i) => keyGroupOf(`user-${i}`, 128)));
    // 1000 keys spread over (nearly) all of 128 key groups.
    expect(groups.size).toBeGreaterThan(120);
    for (const group of groups) {
      expect(group).toBeGreaterThanOrEqual(0);
      expect(group).toBeLessThan(128);
    }
    expect(keyGroupOf(1, 128)).not.toBe(keyGroupOf(2, 128));
  });

  it('gives each task one contiguous range of key groups, covering all of them', () => {
    const owners = Array.from({ length: 128 }, (_, group) => taskOfKeyGroup(group, 3, 128));
    expect(owners[0]).toBe(0);
    expect(owners[127]).toBe(2);
    for (let group = 1; group < 128; group++) expect(owners[group] - owners[group - 1]).toBeGreaterThanOrEqual(0);
    expect(new Set(owners)).toEqual(new Set([0, 1, 2]));
  });

  it('names the key-group range of a task: exactly the key groups taskOfKeyGroup gives it', () => {
    for (const [parallelism, maxParallelism] of [[1, 128], [3, 128], [7, 10], [16, 128], [5, 5]]) {
      for (let task = 0; task < parallelism; task++) {
        const { first, last } = keyGroupRangeOf(task, parallelism, maxParallelism);
        const owned = Array.from({ length: maxParallelism }, (_, group) => group).filter((group) => taskOfKeyGroup(group, parallelism, maxParallelism) === task);
        expect([first, last]).toEqual([owned[0], owned[owned.length - 1]]);
        expect(owned.length).toBe(last - first + 1);
      }
    }
  });

  it('reads the parts of a composite key back', () => {
    const key = compositeKey('u-1', 42, true, null);
    expect([0, 1, 2, 3].map((i) => keyPart(key, i))).toEqual(['u-1', 42, true, null]);
    expect(compositeKey('a,b', 'c')).not.toBe(compositeKey('a', 'b,c'));
  });
});
