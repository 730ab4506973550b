// The memory budget's arithmetic over operators' rows: how it shares the budget, when it asks for a checkpoint, how
// far it lets a watermark go, and where a restore puts rows.
import { describe, expect, it } from 'vitest';
import type { Key, Operator, OperatorState, RowAddress, StateNamespace } from '../../../runtime/api.ts';
import { MemoryBudget } from '../../../runtime/checkpoints/memory-budget.ts';
import type { StateBackend, StateRowAddress } from '../../../runtime/state/backend.ts';

/** A value whose row, under key 'k' and namespace 0, is `bytes` of JSON: `{"v":"…"}` and `["k",0]` take 15. */
function rowOfJsonBytes(bytes: number): unknown {
  return { v: 'x'.repeat(bytes - 15) };
}

/** An operator state that holds `residentRows` of `size` rows, evicts on request, and counts how rows came back. */
class CountedState implements OperatorState {
  residentRows: number;
  readonly evictTargets: number[] = [];
  readonly restoredRows = { resident: 0, evicted: 0 };
  readonly evict?: (targetRows: number) => number;
  readonly restoreEvicted?: (key: Key, namespace: StateNamespace, value: unknown) => void;

  constructor(
    readonly uid: string,
    public size: number,
    evicts: boolean,
  ) {
    this.residentRows = size;
    if (!evicts) return;
    this.evict = (targetRows) => {
      this.evictTargets.push(targetRows);
      const evicted = Math.max(0, this.residentRows - targetRows);
      this.residentRows -= evicted;
      return evicted;
    };
    this.restoreEvicted = () => void this.restoredRows.evicted++;
  }

  snapshot(): void {}
  restoreRow(): void {
    this.restoredRows.resident++;
  }
  restored(): void {}
}

const operator = (state: OperatorState): Operator => ({ id: state.uid, state, onWatermark() {} });

/** Observes rows of 100 JSON bytes for each uid, so a resident row is estimated at 200 bytes. */
function budgetOver(bytes: number, states: readonly CountedState[]): MemoryBudget {
  const budget = new MemoryBudget(bytes, {} as StateBackend, 128);
  budget.share(states.map(operator));
  for (const state of states) budget.observe(state.uid, 'k', 0, rowOfJsonBytes(100));
  return budget;
}

describe('memory budget', () => {
  it('leaves states within the budget alone, and evicts the others down to half of it, each by the same share', () => {
    const sessions = new CountedState('sessions', 100, true);
    const windows = new CountedState('windows', 300, true);
    budgetOver(80_000, [sessions, windows]).evict();
    expect([sessions.evictTargets, windows.evictTargets]).toEqual([[], []]);

    // 400 rows of 200 bytes in 40 000 bytes: down to 20 000 bytes, 100 rows, a quarter of each.
    const budget = budgetOver(40_000, [sessions, windows]);
    budget.evict();
    expect([sessions.evictTargets, windows.evictTargets]).toEqual([[25], [75]]);
    expect(budget.evictedRows).toBe(300);
  });

  it('gives states that cannot evict their part first: the others share half of what is left', () => {
    const dedupe = new CountedState('dedupe', 100, false);
    const sessions = new CountedState('sessions', 300, true);
    // 20 000 bytes of dedupe rows in 40 000: sessions get half of the other 20 000, 50 rows.
    budgetOver(40_000, [dedupe, sessions]).evict();
    expect(sessions.evictTargets).toEqual([50]);
    // With more than the budget in rows that cannot go, the others go entirely, and it says so, once.
    const crowded = new CountedState('sessions', 300, true);
    const tight = budgetOver(10_000, [new CountedState('dedupe', 100, false), crowded]);
    tight.evict();
    expect(crowded.evictTargets).toEqual([0]);
    expect(tight.takeWarning()).toBe(
      'state memory: the steps that keep all their rows in memory (dedupe) hold about 20 KiB, more than --state-memory (10 KiB): ' +
        'the other rows are evicted at every checkpoint, and checkpoints come every few rows; raise --state-memory',
    );
    tight.evict();
    expect(tight.takeWarning()).toBeUndefined();
  });

  it('asks for a checkpoint once the rows that can go have grown past the budget', () => {
    const sessions = new CountedState('sessions', 0, true);
    const budget = budgetOver(40_000, [sessions]);
    sessions.size = sessions.residentRows = 200;
    expect(budget.checkpointDue()).toBe(false);
    sessions.size = sessions.residentRows = 201;
    expect(budget.checkpointDue()).toBe(true);
  });

  it('lets the watermark go as far as each state can load its share of half the budget, and all the way when that fits', () => {
    const asked: number[] = [];
    const stepping = (uid: string, until: number): CountedState =>
      Object.assign(new CountedState(uid, 0, true), {
        watermarkStep: (watermark: number, maxRows: number) => {
          asked.push(maxRows);
          return Math.min(watermark, until);
        },
      });
    const budget = budgetOver(40_000, [stepping('a', 500), stepping('b', 300)]);
    // Half of 40 000 bytes in rows of 200 bytes, over two states: 50 rows each.
    expect(budget.watermarkStep(100, 1000)).toBe(300);
    expect(asked).toEqual([50, 50]);
    expect(budget.watermarkStep(100, 200)).toBe(200);
    // A step that would not move on goes all the way.
    expect(budget.watermarkStep(300, 1000)).toBe(1000);
  });

  it('restores rows into memory up to half the budget and leaves the rest in the backend', () => {
    const sessions = new CountedState('sessions', 0, true);
    const dedupe = new CountedState('dedupe', 0, false);
    const budget = budgetOver(40_000, [sessions, dedupe]);
    for (let row = 0; row < 300; row++) budget.restoreRow(sessions, `k${row}`, 0, rowOfJsonBytes(100));
    for (let row = 0; row < 10; row++) budget.restoreRow(dedupe, `k${row}`, '', rowOfJsonBytes(100));
    expect(sessions.restoredRows).toEqual({ resident: 100, evicted: 200 });
    // A state that cannot leave rows in the backend takes them all.
    expect(dedupe.restoredRows).toEqual({ resident: 10, evicted: 0 });
    expect(budget.evictedRows).toBe(200);
  });

  it('loads what a state asks for in one read per request, until it asks for nothing', async () => {
    const reads: StateRowAddress[][] = [];
    const backend = { read: async (rows: StateRowAddress[]) => (reads.push(rows), rows.map((row) => `value of ${String(row.key)}`)) } as unknown as StateBackend;
    const requests: RowAddress[][] = [[{ key: 'a', namespace: 1 }, { key: 'b', namespace: 1 }], [{ key: 'c', namespace: 2 }], []];
    const loaded: unknown[] = [];
    const state = Object.assign(new CountedState('windows', 3, true), {
      prepareWatermark: (_watermark: number, maxRows: number) => loaded.push(`prepare with ${maxRows}`),
      pendingLoads: () => requests.shift()!,
      loaded: (_rows: readonly RowAddress[], values: readonly unknown[]) => loaded.push(...values),
    });
    const budget = new MemoryBudget(40_000, backend, 128);
    budget.share([operator(state)]);
    expect(await budget.load(operator(state), 5)).toBe(3);
    expect(loaded).toEqual(['prepare with 66', 'value of a', 'value of b', 'value of c']);
    expect(reads.map((rows) => rows.map(({ keyGroup, uid, key }) => [keyGroup, uid, key]))).toEqual([
      [[expect.any(Number), 'windows', 'a'], [expect.any(Number), 'windows', 'b']],
      [[expect.any(Number), 'windows', 'c']],
    ]);
    expect(budget.loadedRows).toBe(3);
  });
});
