// Where a distributed run's tasks resume: the newest checkpoint of any member that holds each task.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memberDirectory, planRestore, restoredSources, restoredWatermark } from '../../../runtime/distributed/restore.ts';

/** Writes a complete checkpoint of `member` holding `tasks`, each task's split `t` of source `orders` at position 10 × t + id. */
function writeCheckpoint(root: string, member: string, id: number, completedAt: string, tasks: number[], watermark: number | null): string {
  const path = join(memberDirectory(root, member), `chk-${String(id).padStart(6, '0')}`);
  mkdirSync(join(path, 'state'), { recursive: true });
  const taskSources = Object.fromEntries(tasks.map((task) => [task, { orders: { [task]: { position: 10 * task + id, maxEventTime: 1000 * id } } }]));
  const metadata = {
    format: 1,
    id,
    job: 'job',
    completedAt,
    watermark,
    sources: {},
    sinks: {},
    member: { id: member, tasks, exchangeOffsets: Object.fromEntries(tasks.map((task) => [task, 100 * id + task])), taskSources },
  };
  writeFileSync(join(path, '_metadata.json'), JSON.stringify(metadata));
  return path;
}

describe('planRestore', () => {
  it('takes each task from the newest checkpoint that holds it, whichever member took it', () => {
    const root = mkdtempSync(join(tmpdir(), 'pipec-plan-'));
    writeCheckpoint(root, 'a', 1, '2026-01-01T00:00:01.000Z', [0, 1, 2, 3], 5000);
    const a2 = writeCheckpoint(root, 'a', 2, '2026-01-01T00:00:05.000Z', [0, 3], 7000);
    const b1 = writeCheckpoint(root, 'b', 1, '2026-01-01T00:00:04.000Z', [1, 2], 6000);
    // An incomplete checkpoint (no metadata) is never read.
    mkdirSync(join(memberDirectory(root, 'b'), 'chk-000002.inprogress'), { recursive: true });

    const plan = planRestore(root, [0, 1, 2, 3]);
    expect(plan.parts.map((part) => [part.location.path, part.tasks])).toEqual([
      [a2, [0, 3]],
      [b1, [1, 2]],
    ]);
    expect([...plan.exchangeOffsets]).toEqual([
      [0, 200],
      [1, 101],
      [2, 102],
      [3, 203],
    ]);
    expect(restoredSources(plan).sources).toEqual({
      orders: {
        0: { position: 2, maxEventTime: 2000 },
        1: { position: 11, maxEventTime: 1000 },
        2: { position: 21, maxEventTime: 1000 },
        3: { position: 32, maxEventTime: 2000 },
      },
    });
    // The lowest of the parts': no restored task sees a watermark its checkpoint had not reached.
    expect(restoredWatermark(plan)).toBe(6000);
  });

  it('starts a task no checkpoint holds afresh, from offset 0 of its partition', () => {
    const root = mkdtempSync(join(tmpdir(), 'pipec-plan-'));
    writeCheckpoint(root, 'a', 1, '2026-01-01T00:00:01.000Z', [0], null);
    const plan = planRestore(root, [0, 1]);
    expect(plan.parts.map((part) => part.tasks)).toEqual([[0]]);
    expect(plan.exchangeOffsets.get(1)).toBe(0);
    expect(restoredWatermark(plan)).toBe(-Infinity);
    expect(planRestore(join(root, 'nothing-here'), [0]).parts).toEqual([]);
  });
});
