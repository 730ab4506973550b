// The exchange between the members of a distributed run: a keyed record for a task another member holds goes to that
// task's partition of the exchange topic, and what other members sent this member's tasks comes back from theirs.
//
// Messages are JSON arrays: `["r", exchange id, key, time, record]` for a record, `["w", tasks, watermark]` for a
// watermark, which says that every record those (upstream) tasks will still send has a later event time (null: their
// sources are idle and say nothing; "end": their sources have ended). A member's watermark is the lowest of its own sources' and of
// what every other task last said in each of its partitions. Output to the topic goes in Kafka transactions
// committed with the member's checkpoints (as a Kafka sink's), and members read it read_committed: a record another
// member's task sends arrives once its checkpoint completes, and never when that member dies before.

import type { Key } from '../api.ts';
import type { CheckpointParticipant } from '../checkpoints/coordinator.ts';
import type { AlternatingTransactions, PreparedSlot } from '../connectors/kafka/transactions.ts';
import { produceRequests } from '../connectors/kafka/sink.ts';
import type { Exchange } from '../task.ts';
import type { GroupMember } from './member.ts';
import type { Message } from 'kafkajs';

type ExchangeMessage = readonly ['r', string, Key, number, unknown] | readonly ['w', readonly number[], number | null | 'end'];

/** Exchange messages that are not what a member writes, logged one by one; past this, counted. */
const LOGGED_BAD_MESSAGES = 20;

export class ExchangeBridge implements CheckpointParticipant {
  /** Records sent to other members' tasks. */
  written = 0;
  /**
   * Set while operators fire on a watermark: a record keyed then comes out of a window (or another stateful step),
   * and the watermark other members would need for it is not the one this member says.
   */
  firing = false;
  private outbox: Message[] = [];
  /** The tasks of the other members. */
  private readonly remote: readonly number[];
  /** Per task of this member: per task of another member, the watermark it last said in this task's partition. */
  private readonly watermarks = new Map<number, Map<number, number>>();
  /** Per task of this member: the tasks of other members that said in its partition that their sources ended. */
  private readonly ended = new Map<number, Set<number>>();
  /** Per task of this member: the offset its partition was read to. */
  private readonly offsets = new Map<number, number>();
  /** What this member said last, in the arguments of `announce`. */
  private announced: { readonly watermark: number; readonly ended: boolean } | undefined;
  /**
   * Per task of this member: the end of its partition when the attempt began, until the partition is read that far.
   * What is before it was sent by the tasks' earlier owners, maybe by tasks that are this member's now and so say
   * no watermark in it: the watermark waits until it is read (or aborted, for a member that died).
   */
  private readonly behind: Map<number, number>;
  private badMessages = 0;

  constructor(
    private readonly member: GroupMember,
    private readonly topic: string,
    private readonly tasks: readonly number[],
    /** Per task of this member: the offset its partition resumes at (RestorePlan.exchangeOffsets). */
    resumeOffsets: ReadonlyMap<number, number>,
    /** Per task of this member: the end offset of its partition now. */
    endOffsets: ReadonlyMap<number, number>,
    private readonly exchanges: ReadonlyMap<string, Exchange<Key, unknown>>,
    private readonly transactions: AlternatingTransactions,
    private readonly log: (line: string) => void,
  ) {
    this.remote = Array.from({ length: member.parallelism }, (_, task) => task).filter((task) => !tasks.includes(task));
    this.behind = new Map(tasks.flatMap((task) => ((endOffsets.get(task) ?? 0) > (resumeOffsets.get(task) ?? 0) ? [[task, endOffsets.get(task)!]] : [])));
    for (const task of tasks) {
      this.watermarks.set(task, new Map());
      this.ended.set(task, new Set());
      this.offsets.set(task, resumeOffsets.get(task) ?? 0);
    }
  }

  /** Routes each exchange's records for tasks of other members to their partitions. */
  async open(): Promise<void> {
    for (const [id, exchange] of this.exchanges) {
      for (const task of this.remote) exchange.receivers[task] = this.remoteReceiver(id, task);
    }
  }

  /** Hands the records other members sent to this member's tasks to their receivers; returns how many. */
  poll(): number {
    let received = 0;
    for (const { task, messages, endOffset } of this.member.take()) {
      const watermarks = this.watermarks.get(task);
      if (watermarks === undefined) continue;
      for (const message of messages) {
        const entry = this.decode(task, message.offset, message.value);
        if (entry === undefined) continue;
        if (entry[0] === 'r') {
          this.exchanges.get(entry[1])!.receivers[task](entry[2], entry[4], entry[3]);
          received++;
        } else {
          const watermark = typeof entry[2] === 'number' ? entry[2] : Infinity;
          for (const upstream of entry[1]) watermarks.set(upstream, Math.max(watermarks.get(upstream) ?? -Infinity, watermark));
          if (entry[2] === 'end') for (const upstream of entry[1]) this.ended.get(task)!.add(upstream);
        }
      }
      this.offsets.set(task, endOffset);
      if (endOffset >= (this.behind.get(task) ?? Infinity)) this.behind.delete(task);
    }
    return received;
  }

  /** What the other members' tasks allow: the lowest watermark any of them said in any partition of this member. */
  low(): number {
    if (this.behind.size > 0) return -Infinity;
    let low = Infinity;
    for (const watermarks of this.watermarks.values()) {
      for (const task of this.remote) low = Math.min(low, watermarks.get(task) ?? -Infinity);
    }
    return low;
  }

  /** The sources of every task of the other members have ended (each said so in every partition of this member). */
  othersEnded(): boolean {
    for (const ended of this.ended.values()) if (ended.size < this.remote.length) return false;
    return true;
  }

  /**
   * Tells the other members' tasks the watermark of this member's sources (Infinity: idle), or that they `ended`,
   * when that changed (or `again`).
   */
  announce(watermark: number, ended: boolean, again = false): void {
    // -Infinity says nothing the other members do not assume already.
    if (watermark === -Infinity && !ended) return;
    if (!again && this.announced?.watermark === watermark && this.announced.ended === ended) return;
    this.announced = { watermark, ended };
    const said = ended ? 'end' : Number.isFinite(watermark) ? watermark : null;
    const value = JSON.stringify(['w', this.tasks, said]);
    for (const task of this.remote) this.outbox.push({ partition: task, key: null, value });
  }

  /** Per task of this member: where its partition resumes. */
  exchangeOffsets(): Record<string, number> {
    return Object.fromEntries(this.offsets);
  }

  async flush(): Promise<void> {
    if (this.outbox.length === 0) return;
    const outbox = this.outbox;
    this.outbox = [];
    for (const messages of produceRequests(outbox)) await this.transactions.send(this.topic, messages);
  }

  /** The watermark goes with every checkpoint: a task restored from it reads on from there, and must hear it again. */
  async prepareCommit(): Promise<PreparedSlot> {
    if (this.announced !== undefined) this.announce(this.announced.watermark, this.announced.ended, true);
    await this.flush();
    return this.transactions.prepare();
  }

  async commit(prepared: unknown): Promise<void> {
    await this.transactions.commit(prepared as PreparedSlot);
  }

  async close(): Promise<void> {
    await this.transactions.close();
  }

  private remoteReceiver(id: string, task: number): (key: Key, record: unknown, time: number) => void {
    return (key, record, time) => {
      if (this.firing) {
        throw new Error(
          `distributed runs exchange records between sources and the keyed steps after them: step ${id} keys what a window (or another stateful step) emits, ` +
            'whose watermark members do not tell each other yet; run this pipeline without --distributed',
        );
      }
      this.outbox.push({ partition: task, key: null, value: JSON.stringify(['r', id, key, time, record]) });
      this.written++;
    };
  }

  private decode(task: number, offset: string, value: Buffer | null): ExchangeMessage | undefined {
    try {
      const entry = JSON.parse(value?.toString('utf8') ?? 'null') as ExchangeMessage;
      if (Array.isArray(entry) && ((entry[0] === 'r' && this.exchanges.has(entry[1])) || (entry[0] === 'w' && Array.isArray(entry[1])))) return entry;
    } catch {
      // Reported below with the others.
    }
    this.badMessages++;
    if (this.badMessages <= LOGGED_BAD_MESSAGES) this.log(`exchange topic ${this.topic}/${task}@${offset}: not a message of a pipec member of this pipeline; skipped`);
    return undefined;
  }
}
