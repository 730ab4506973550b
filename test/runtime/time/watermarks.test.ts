// Watermarks of a source with several splits (idleness, ended splits, never backwards) and of several inputs.
import { describe, expect, it } from 'vitest';
import { WatermarkCombiner, WatermarkTracker, combineWatermarks } from '../../../runtime/time/watermarks.ts';

describe('WatermarkTracker', () => {
  it('is max event time - out-of-orderness - 1 per split, the minimum over splits, -Infinity before records', () => {
    const tracker = new WatermarkTracker([0, 1], 5000, 0);
    expect(tracker.current()).toBe(-Infinity);
    tracker.observe(0, 100_000);
    expect(tracker.current()).toBe(-Infinity); // split 1 has no record yet
    tracker.observe(1, 90_000);
    expect(tracker.current()).toBe(84_999);
    tracker.observe(1, 80_000); // out of order: the max stays
    tracker.observe(1, 120_000);
    expect(tracker.current()).toBe(94_999); // now split 0 is the minimum
  });

  it('excludes a split with no record for the idle timeout, and takes it back on its next record', () => {
    const tracker = new WatermarkTracker([0, 1], 0, 30_000);
    tracker.observe(0, 1000);
    tracker.observe(1, 500);
    tracker.markIdleCheck(0);
    expect(tracker.current()).toBe(499);
    tracker.observe(0, 5000); // split 1 goes quiet after the check at 0, the last to see a new record of it
    tracker.markIdleCheck(10_000);
    tracker.markIdleCheck(29_999);
    expect(tracker.current()).toBe(499);
    tracker.markIdleCheck(30_000);
    expect(tracker.current()).toBe(4999); // split 1 idle: split 0 alone decides
    expect(tracker.isIdle()).toBe(false);
    tracker.observe(1, 2000); // active again, behind: the watermark does not go back
    expect(tracker.current()).toBe(4999);
    tracker.observe(0, 9000);
    expect(tracker.current()).toBe(4999); // split 1 (1999) holds it again
    tracker.observe(1, 7000);
    expect(tracker.current()).toBe(6999);
  });

  it('holds when every split is idle', () => {
    const tracker = new WatermarkTracker([0, 1], 100, 1000);
    tracker.observe(0, 5000);
    tracker.observe(1, 6000);
    expect(tracker.current()).toBe(4899);
    tracker.markIdleCheck(0);
    tracker.markIdleCheck(1);
    tracker.markIdleCheck(1001);
    expect(tracker.isIdle()).toBe(true);
    expect(tracker.current()).toBe(4899);
  });

  it('lets ended splits go, and is +Infinity when every split ended', () => {
    const tracker = new WatermarkTracker([3, 7], 0, 0);
    tracker.observe(3, 100);
    tracker.observe(7, 50);
    expect(tracker.current()).toBe(49);
    tracker.endSplit(7);
    expect(tracker.current()).toBe(99);
    tracker.endSplit(3);
    expect(tracker.current()).toBe(Infinity);
  });

  it('never goes backwards', () => {
    const tracker = new WatermarkTracker([0, 1, 2], 10, 0);
    let previous = -Infinity;
    let seed = 1;
    for (let step = 0; step < 5000; step++) {
      seed = (seed * 48271) % 2147483647;
      tracker.observe(seed % 3, 1000 + step * 3 - (seed % 400));
      const watermark = tracker.current();
      expect(watermark).toBeGreaterThanOrEqual(previous);
      previous = watermark;
    }
    expect(previous).toBeGreaterThan(10_000);
  });

  it('never marks splits idle with an idle timeout of 0', () => {
    const tracker = new WatermarkTracker([0, 1], 0, 0);
    tracker.observe(0, 10);
    tracker.markIdleCheck(0);
    tracker.markIdleCheck(1e12);
    expect(tracker.current()).toBe(-Infinity);
  });

  it('takes back the highest event time per split from a checkpoint, as if those records had been seen', () => {
    const original = new WatermarkTracker([0, 1], 100, 0);
    original.observe(0, 5000);
    original.observe(1, 3000);
    const restored = new WatermarkTracker([0, 1], 100, 0);
    for (const split of [0, 1]) restored.restoreSplit(split, original.maxEventTime(split));
    expect(restored.current()).toBe(original.current());
    expect(restored.current()).toBe(3000 - 100 - 1);
    expect(restored.maxEventTime(0)).toBe(5000);
  });

  it('rejects records of splits it does not track', () => {
    expect(() => new WatermarkTracker([0], 0, 0).observe(1, 0)).toThrow(/split 1/);
  });
});

describe('combining watermarks', () => {
  it('takes the minimum', () => {
    expect(combineWatermarks([30, 10, 20])).toBe(10);
    expect(combineWatermarks([])).toBe(-Infinity);
  });

  it('combines inputs without going backwards, leaving idle inputs out', () => {
    const combiner = new WatermarkCombiner(2);
    expect(combiner.update(0, 100)).toBe(-Infinity);
    expect(combiner.update(1, 50)).toBe(50);
    expect(combiner.update(1, 40)).toBe(50); // an input's watermark does not go back either
    expect(combiner.update(1, 200)).toBe(100);
    expect(combiner.markIdle(0)).toBe(200); // input 1 alone decides
    expect(combiner.update(1, 300)).toBe(300);
    expect(combiner.update(0, 150)).toBe(300); // back from idle, behind: holds
    expect(combiner.update(1, 400)).toBe(300);
    expect(combiner.update(0, 500)).toBe(400);
    combiner.markIdle(0);
    expect(combiner.markIdle(1)).toBe(400); // all idle: holds
  });
});
