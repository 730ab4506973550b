// Evictors of global windows: what they keep, in arrival order, and that memory stays bounded between firings.
import { describe, expect, it } from 'vitest';
import { CountEvictor, KeptRecords, TimeEvictor } from '../../../runtime/windows/evictors.ts';

function keptTimes(kept: KeptRecords<string>): number[] {
  const times: number[] = [];
  for (let index = 0; index < kept.size; index++) times.push(kept.time(index));
  return times;
}

describe('evictors', () => {
  it('count evictor keeps the last N arrivals, also while records keep arriving', () => {
    const kept = new KeptRecords<string>();
    const evictor = new CountEvictor(3);
    for (let time = 0; time < 1000; time++) {
      kept.push(`r${time}`, time);
      evictor.afterArrival(kept);
      expect(kept.size).toBeLessThanOrEqual(3);
    }
    evictor.beforeFiring(kept);
    expect(keptTimes(kept)).toEqual([997, 998, 999]);
    expect(kept.record(0)).toBe('r997');
  });

  it('time evictor keeps (latest - span, latest] in arrival order, whatever the order of times', () => {
    const kept = new KeptRecords<string>();
    const evictor = new TimeEvictor(10);
    let latest = -Infinity;
    for (const time of [5, 20, 9, 11, 30, 21, 25, 19]) {
      kept.push(`r${time}`, time);
      latest = Math.max(latest, time);
      evictor.afterArrival(kept, latest);
    }
    evictor.beforeFiring(kept);
    expect(keptTimes(kept)).toEqual([30, 21, 25]);
  });

  it('time evictor evicts on arrival what a firing would, so in-order streams stay small between firings', () => {
    const kept = new KeptRecords<string>();
    const evictor = new TimeEvictor(100);
    for (let time = 0; time < 10_000; time++) {
      kept.push('r', time);
      evictor.afterArrival(kept, time);
    }
    expect(kept.size).toBe(100);
  });
});
