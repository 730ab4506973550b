// The timer service: timestamp order, registration order on ties, deduplication and deletion, against a sorted list.
import { describe, expect, it } from 'vitest';
import { TimerService } from '../../../runtime/time/timers.ts';
import { seededRandom } from '../../support/random.ts';

function drain(timers: TimerService, time: number): string[] {
  const fired: string[] = [];
  for (let timer = timers.pollDue(time); timer !== undefined; timer = timers.pollDue(time)) fired.push(`${timer.timestamp}/${timer.key}/${timer.window}`);
  return fired;
}

describe('TimerService', () => {
  it('fires due timers in timestamp order, ties in registration order, and keeps the rest', () => {
    const timers = new TimerService();
    timers.register(30, 'a', 0);
    timers.register(10, 'b', 0);
    timers.register(20, 'c', 0);
    timers.register(10, 'a', 5);
    expect(timers.nextTimestamp()).toBe(10);
    expect(drain(timers, 20)).toEqual(['10/b/0', '10/a/5', '20/c/0']);
    expect(timers.size).toBe(1);
    expect(drain(timers, Infinity)).toEqual(['30/a/0']);
    expect(timers.nextTimestamp()).toBe(Infinity);
  });

  it('registers a (timestamp, key, window) once, and deletes exactly the one named', () => {
    const timers = new TimerService();
    expect(timers.register(10, 'k', 1)).toBe(true);
    expect(timers.register(10, 'k', 1)).toBe(false);
    expect(timers.register(10, 'k', 2)).toBe(true);
    expect(timers.register(11, 'k', 1)).toBe(true);
    expect(timers.size).toBe(3);
    expect(timers.delete(10, 'k', 1)).toBe(true);
    expect(timers.delete(10, 'k', 1)).toBe(false);
    expect(timers.has(11, 'k', 1)).toBe(true);
    expect(drain(timers, Infinity)).toEqual(['10/k/2', '11/k/1']);
    expect(timers.register(10, 'k', 1)).toBe(true); // fired timers can be registered again
  });

  it('agrees with a sorted list under random registrations, deletions and polls, and visits exactly the due timers', () => {
    const random = seededRandom(99);
    const timers = new TimerService();
    const live: Array<{ timestamp: number; key: string; window: number; sequence: number }> = [];
    let sequence = 0;
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      const choice = random();
      if (choice < 0.55) {
        const timestamp = now + Math.floor(random() * 200);
        const key = `k${Math.floor(random() * 20)}`;
        const window = Math.floor(random() * 5);
        const exists = live.some((t) => t.timestamp === timestamp && t.key === key && t.window === window);
        expect(timers.register(timestamp, key, window)).toBe(!exists);
        if (!exists) live.push({ timestamp, key, window, sequence: sequence++ });
      } else if (choice < 0.75 && live.length > 0) {
        const [removed] = live.splice(Math.floor(random() * live.length), 1);
        expect(timers.delete(removed.timestamp, removed.key, removed.window)).toBe(true);
      } else {
        now += Math.floor(random() * 30);
        const due = live.filter((t) => t.timestamp <= now).sort((a, b) => a.timestamp - b.timestamp || a.sequence - b.sequence);
        const visited: string[] = [];
        timers.forEachDue(now, (t) => visited.push(`${t.timestamp}/${t.key}/${t.window}`));
        expect(visited.sort()).toEqual(due.map((t) => `${t.timestamp}/${t.key}/${t.window}`).sort());
        const inOrder: number[] = [];
        const stopAfter = Math.floor(random() * (due.length + 1));
        timers.visitDueInOrder(now, (t) => inOrder.push(t.timestamp) < stopAfter);
        expect(inOrder).toEqual(due.slice(0, Math.max(1, stopAfter)).map((t) => t.timestamp).slice(0, due.length));
        expect(timers.size).toBe(live.length);
        expect(drain(timers, now)).toEqual(due.map((t) => `${t.timestamp}/${t.key}/${t.window}`));
        for (const t of due) live.splice(live.indexOf(t), 1);
      }
      expect(timers.size).toBe(live.length);
    }
  });
});
