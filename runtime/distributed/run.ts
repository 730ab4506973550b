// `pipec run --distributed`: this process as one member of a run spread over processes (and machines) by Kafka. It
// joins the group, runs the tasks Kafka assigns it until the group changes, then starts over with its new tasks,
// each from the newest checkpoint that holds it (runtime/distributed/restore.ts).

import type { Kafka } from 'kafkajs';
import type { JobDefinition, Key, SinkConnector, SinkContext } from '../api.ts';
import type { RestoreTarget, RunCheckpointSettings } from '../checkpoints/coordinator.ts';
import type { MemberCheckpoint } from '../checkpoints/storage.ts';
import { kafkaClient, withAdmin } from '../connectors/kafka/options.ts';
import { kafkaSinkTransactionalBase } from '../connectors/kafka/sink.ts';
import {
  alternatingIds,
  AlternatingTransactions,
  commitPreparedSlot,
  committedThenFenced,
  fenceTransactionalIds,
  type PartitionerFunction,
  type PreparedSlot,
} from '../connectors/kafka/transactions.ts';
import { runAttempt, type RestoredFrom, type RunOptions, type RunSummary } from '../executor.ts';
import { LocalTasks } from '../parallel/local.ts';
import type { TaskRunner } from '../parallel/runner.ts';
import type { Exchange } from '../task.ts';
import { ExchangeBridge } from './bridge.ts';
import { exchangeTopic, GroupMember, liveMembers, memberClientId, membersGroup, newMemberId, Reassigned, type Assignment } from './member.ts';
import { memberDirectory, planRestore, restoreParts, type RestorePlan } from './restore.ts';

/** A member's attempt: the group member, the tasks it was assigned, and its Kafka client. */
export interface MemberAttempt {
  readonly member: GroupMember;
  readonly assignment: Assignment;
  readonly kafka: Kafka;
}

/** The exchange's transactions among the checkpoint's participants (CheckpointMetadata.sinks). */
export const EXCHANGE_PARTICIPANT = '#exchange';

/**
 * Kafka transactions a member leaves open when it dies are aborted after this long (unless its checkpoint prepared
 * them: then the member restoring it commits them first). Until then they hold back read_committed readers of their
 * partitions, so it is short, as Kafka Streams' 10 s under exactly-once; it is longer than a checkpoint interval.
 */
const MIN_TRANSACTION_TIMEOUT_MS = 20_000;

export async function runMember(job: JobDefinition, options: RunOptions): Promise<RunSummary> {
  const checkpoints = options.checkpoints;
  if (checkpoints === undefined) {
    throw new Error('a distributed run needs checkpoints in a directory every member can reach: declare `checkpoints:` in the spec or pass --checkpoint-dir');
  }
  const app = options.appName ?? job.name;
  const id = newMemberId();
  const kafka = kafkaClient(options.kafkaServers ?? ['localhost:9092'], memberClientId(app, id));
  const member = await GroupMember.join(kafka, app, id, options.parallelism, (tasks) => planRestore(checkpoints.directory, tasks));
  options.log(`member ${member.id} joined the group ${membersGroup(app)}; tasks are the partitions of ${exchangeTopic(app)}`);
  const started = Date.now();
  let reassignments = 0;
  try {
    for (;;) {
      const assignment = await member.nextAssignment(options.signal);
      if (assignment === undefined) throw new Error('stopped before the group assigned this member any task');
      options.log(describeAssignment(assignment, options.parallelism));
      // --duration counts from the start of the process, not of its latest assignment.
      const durationMs = options.durationMs === 0 ? 0 : Math.max(1, options.durationMs - (Date.now() - started));
      try {
        return { ...(await runAttempt(job, { ...options, durationMs }, undefined, { member, assignment, kafka })), restarts: 0, reassignments };
      } catch (error) {
        if (!(error instanceof Reassigned)) throw error;
        reassignments++;
        options.log('the group changed: going on with the tasks it assigns now, from their checkpoints');
      }
    }
  } finally {
    await member.close();
  }
}

function describeAssignment({ tasks, plan }: Assignment, parallelism: number): string {
  const parts = plan.parts.map((part) => `${part.tasks.join(', ')} from ${part.location.path}`);
  const fresh = tasks.filter((task) => !plan.parts.some((part) => part.tasks.includes(task)));
  if (fresh.length > 0) parts.push(`${fresh.join(', ')} from the start`);
  return tasks.length === 0 ? `no task of ${parallelism} assigned (more members than tasks)` : `tasks ${tasks.join(', ')} of ${parallelism}: ${parts.join('; ')}`;
}

/** A member's checkpoints go to a directory of its own under the run's (every member reads them all). */
export function memberCheckpoints(options: RunOptions, member: GroupMember): RunCheckpointSettings {
  return { ...options.checkpoints!, directory: memberDirectory(options.checkpoints!.directory, member.id) };
}

/**
 * A member's sinks are its own: Kafka sinks on transactional ids of their own (`pipec-<app>.<member id>-<sink>`), so
 * a member never fences another's producers while both are in the group (recoverOutput fences those of a member that
 * left it); file sinks in files of their own (taskFilePath).
 */
export function memberSinkContext(context: SinkContext, member: GroupMember, checkpoints: RunCheckpointSettings): SinkContext {
  return { ...context, appName: memberAppName(member.app, member.id), transactionTimeoutMs: transactionTimeout(checkpoints), member: member.id };
}

/** What a member's Kafka sinks take for the app name in their transactional ids (`pipec-<this>-<sink>-0/1`). */
function memberAppName(app: string, memberId: string): string {
  return `${app}.${memberId}`;
}

/** The transactional ids a member's output takes turns on: its exchange's and each Kafka sink's (AlternatingTransactions). */
function memberTransactionalIds(job: JobDefinition, app: string, memberId: string): string[] {
  const kafkaSinks = job.sinks.filter((sink) => sink.connector === 'kafka');
  const bases = [exchangeTransactionalBase(app, memberId), ...kafkaSinks.map((sink) => kafkaSinkTransactionalBase(memberAppName(app, memberId), sink.id))];
  return bases.flatMap(alternatingIds);
}

function exchangeTransactionalBase(app: string, memberId: string): string {
  return `pipec-${memberAppName(app, memberId)}-exchange`;
}

function transactionTimeout(checkpoints: RunCheckpointSettings): number {
  return Math.max(MIN_TRANSACTION_TIMEOUT_MS, 3 * checkpoints.intervalMs);
}

/**
 * Commits what the checkpoints the member restores prepared and no one committed (their member died between its
 * checkpoint and the commit): output to sinks, and exchange records to other tasks, which the checkpoint says sent.
 * Then fences the transactional ids of those checkpoints' members that are no longer in the group: what a dead
 * member left open is aborted now, instead of holding read_committed readers back until its timeout.
 */
export async function recoverOutput(job: JobDefinition, attempt: MemberAttempt, sinks: ReadonlyMap<string, SinkConnector>, log: (line: string) => void): Promise<void> {
  const { assignment, kafka, member } = attempt;
  for (const part of assignment.plan.parts) {
    for (const [id, prepared] of Object.entries(part.metadata.sinks)) {
      if (prepared === undefined || prepared === null) continue;
      try {
        if (id === EXCHANGE_PARTICIPANT) {
          await commitPreparedSlot(kafka, prepared as PreparedSlot);
        } else {
          // A file sink's output of the member is in the member's own file, on its machine (see the README).
          await sinks.get(id)?.recover?.(prepared);
        }
      } catch (error) {
        if (!committedThenFenced(error)) throw error;
      }
    }
  }
  const earlier = new Set(assignment.plan.parts.map((part) => part.metadata.member.id));
  earlier.delete(member.id);
  if (earlier.size === 0) return;
  const live = await liveMembers(kafka, member.app);
  for (const dead of [...earlier].filter((id) => !live.has(id))) {
    await fenceTransactionalIds(kafka, memberTransactionalIds(job, member.app, dead), MIN_TRANSACTION_TIMEOUT_MS);
    log(`member ${dead} is gone: its open Kafka transactions are aborted (its ids fenced)`);
  }
}

/** The member's exchange with the others, opened on its own transactional ids; its tasks' receivers set. */
export async function openBridge(
  { member, assignment, kafka }: MemberAttempt,
  checkpoints: RunCheckpointSettings,
  exchanges: ReadonlyMap<string, Exchange<Key, unknown>>,
  log: (line: string) => void,
): Promise<ExchangeBridge> {
  // Each message names its partition (the task it is for).
  const partitioner: PartitionerFunction = ({ message }) => message.partition!;
  const transactions = new AlternatingTransactions(kafka, exchangeTransactionalBase(member.app, member.id), partitioner, transactionTimeout(checkpoints));
  await transactions.open(undefined);
  const topic = exchangeTopic(member.app);
  const bridge = new ExchangeBridge(member, topic, assignment.tasks, assignment.plan.exchangeOffsets, await endOffsets(kafka, topic), exchanges, transactions, log);
  await bridge.open();
  return bridge;
}

/** Per partition of the topic: its end offset (the high watermark). */
async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
}

/** Puts the member's tasks' state back, each task's from its own checkpoint; undefined when every task starts afresh. */
export async function restoreMember(plan: RestorePlan, job: JobDefinition, options: RunOptions, target: RestoreTarget): Promise<RestoredFrom | undefined> {
  const newest = plan.parts.at(-1);
  if (newest === undefined) return undefined;
  const restoring = performance.now();
  const stateRows = await restoreParts(plan, job, options.parallelism, target, options.log);
  return { id: newest.metadata.id, path: newest.location.path, stateRows, durationMs: performance.now() - restoring };
}

/** The member's part of a checkpoint: its tasks, each with where its exchange partition and its sources resume. */
export async function memberCheckpoint(attempt: MemberAttempt & { readonly bridge: ExchangeBridge }, runner: TaskRunner): Promise<MemberCheckpoint> {
  if (!(runner instanceof LocalTasks)) throw new Error('a distributed run keeps its tasks on the calling thread');
  return {
    id: attempt.member.id,
    tasks: attempt.assignment.tasks,
    exchangeOffsets: attempt.bridge.exchangeOffsets(),
    taskSources: await runner.group.sourcePositionsByTask(),
  };
}
