// Where the tasks of a distributed run's member resume: each task from the newest checkpoint, of any member, that
// holds it.
//
// A member's checkpoint is a consistent cut of its own tasks on its own: their keyed state, their sources'
// positions, the offsets their exchange partitions were read to, and the member's output to Kafka (sinks and the
// exchange) as transactions committed with it. What other members sent its tasks is in the exchange topic from
// those offsets on; what its tasks sent after the cut was never committed and is sent again from the positions. So
// tasks restored from different checkpoints (of different members, taken at different times) still see every record
// once, and no cut across members is needed.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JobDefinition, Key, StateNamespace } from '../api.ts';
import { refuseUnrestorable, restoreKeyedState, type RestoreTarget } from '../checkpoints/coordinator.ts';
import { completeCheckpoints, readMetadataNow, type CheckpointLocation, type CheckpointMetadata, type MemberCheckpoint } from '../checkpoints/storage.ts';
import { mergeSourcePositions, type RestoredSources } from '../task-group.ts';

/** One checkpoint and the tasks restored from it. */
export interface RestorePart {
  readonly location: CheckpointLocation;
  readonly metadata: CheckpointMetadata & { readonly member: MemberCheckpoint };
  readonly tasks: readonly number[];
}

export interface RestorePlan {
  /** Tasks with no checkpoint anywhere start afresh and are in no part. */
  readonly parts: readonly RestorePart[];
  /** Per task: where its exchange partition is read from (0 for a task starting afresh). */
  readonly exchangeOffsets: ReadonlyMap<number, number>;
}

/** Each member's checkpoints go to `<checkpoint-dir>/members/<member id>/`, where every member can read them. */
export function memberDirectory(checkpointDirectory: string, memberId: string): string {
  return join(membersDirectory(checkpointDirectory), memberId);
}

function membersDirectory(checkpointDirectory: string): string {
  return join(checkpointDirectory, 'members');
}

/**
 * For each of `tasks`, the newest checkpoint under the members' directories that holds it (by completion time:
 * a task moves only when the group changes, and its new owner's checkpoints come after its old owner's).
 */
export function planRestore(checkpointDirectory: string, tasks: readonly number[]): RestorePlan {
  const newest = new Map<number, { location: CheckpointLocation; metadata: RestorePart['metadata'] }>();
  for (const directory of completeMemberDirectories(checkpointDirectory)) {
    for (const location of completeCheckpoints(directory)) {
      const metadata = readIfThere(location.path);
      if (metadata?.member === undefined) continue;
      for (const task of metadata.member.tasks) {
        if (!tasks.includes(task)) continue;
        const known = newest.get(task);
        if (known === undefined || known.metadata.completedAt < metadata.completedAt) newest.set(task, { location, metadata: metadata as RestorePart['metadata'] });
      }
    }
  }
  const parts = new Map<string, RestorePart>();
  const exchangeOffsets = new Map<number, number>();
  for (const task of tasks) {
    const chosen = newest.get(task);
    if (chosen === undefined) {
      exchangeOffsets.set(task, 0);
      continue;
    }
    const part = parts.get(chosen.location.path) ?? { ...chosen, tasks: [] };
    parts.set(chosen.location.path, { ...part, tasks: [...part.tasks, task] });
    exchangeOffsets.set(task, chosen.metadata.member.exchangeOffsets[task] ?? 0);
  }
  return { parts: [...parts.values()], exchangeOffsets };
}

/** A checkpoint's metadata; undefined when its member pruned it since it was listed. */
function readIfThere(path: string): CheckpointMetadata | undefined {
  try {
    return readMetadataNow(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function completeMemberDirectories(checkpointDirectory: string): string[] {
  const root = membersDirectory(checkpointDirectory);
  try {
    return readdirSync(root).map((name) => join(root, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Refuses a checkpoint of the plan this job cannot read (as `--restore` refuses one), from the metadata the plan read. */
export function checkParts(plan: RestorePlan, job: JobDefinition, maxParallelism: number): void {
  for (const part of plan.parts) refuseUnrestorable(part.location, part.metadata, job, maxParallelism);
}

/** The sources' positions of the plan: each task's splits from the checkpoint it restores from. */
export function restoredSources(plan: RestorePlan): RestoredSources {
  return { sources: mergeSourcePositions(plan.parts.flatMap((part) => part.tasks.map((task) => part.metadata.member.taskSources[task] ?? {}))) };
}

/** The watermark the restored tasks start at: the lowest of their checkpoints'. */
export function restoredWatermark(plan: RestorePlan): number {
  let lowest = Infinity;
  for (const part of plan.parts) lowest = Math.min(lowest, part.metadata.watermark ?? -Infinity);
  return plan.parts.length === 0 ? -Infinity : lowest;
}

/**
 * Puts the keyed state of the plan's tasks into the operators: from each part's checkpoint, the rows whose key
 * group a task of that part owns (the same rows the task held at the cut); broadcast state from the first part.
 * Timers are registered once every part is in, at the lowest of their watermarks. Returns the rows restored.
 */
export async function restoreParts(plan: RestorePlan, job: JobDefinition, parallelism: number, target: RestoreTarget, log: (line: string) => void): Promise<number> {
  let rows = 0;
  for (const [index, part] of plan.parts.entries()) {
    const tasks = new Set(part.tasks);
    const partTarget: RestoreTarget = {
      keyedUids: target.keyedUids,
      broadcastUids: target.broadcastUids,
      keyedRow(task: number, uid: string, key: Key, namespace: StateNamespace, value: unknown) {
        if (!tasks.has(task)) return;
        rows++;
        target.keyedRow(task, uid, key, namespace, value);
      },
      broadcastRow(uid: string, key: Key, namespace: StateNamespace, value: unknown) {
        if (index > 0) return;
        rows++;
        target.broadcastRow(uid, key, namespace, value);
      },
      async restored() {},
    };
    await restoreKeyedState({ location: part.location, metadata: part.metadata }, job, parallelism, partTarget, log);
  }
  await target.restored(restoredWatermark(plan));
  return rows;
}
