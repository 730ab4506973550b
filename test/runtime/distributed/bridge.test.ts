// The exchange between the members of a distributed run, without a broker: what the bridge sends to other members'
// tasks, how it hands what they sent to its own tasks, and the watermark it allows.

import type { KafkaMessage, Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Key } from '../../../runtime/api.ts';
import type { AlternatingTransactions } from '../../../runtime/connectors/kafka/transactions.ts';
import { ExchangeBridge } from '../../../runtime/distributed/bridge.ts';
import type { FetchedExchange, GroupMember } from '../../../runtime/distributed/member.ts';
import { Exchange } from '../../../runtime/task.ts';

const PARALLELISM = 4;

/** A bridge of a member holding tasks 0 and 2 of 4, one exchange `by_key` whose local receivers record what they get. */
function bridge(options: { endOffsets?: Map<number, number> } = {}) {
  const fetched: FetchedExchange[] = [];
  const member = { parallelism: PARALLELISM, take: () => fetched.splice(0) } as unknown as GroupMember;
  const sent: Message[] = [];
  const transactions = {
    send: async (_topic: string, messages: Message[]) => void sent.push(...messages),
    prepare: () => ({ slot: 0, transaction: null }),
    close: async () => {},
  } as unknown as AlternatingTransactions;
  const exchange = new Exchange<Key, unknown>('by_key', PARALLELISM, 128);
  const received: [number, Key, unknown, number][] = [];
  for (const task of [0, 2]) exchange.receivers[task] = (key, record, time) => received.push([task, key, record, time]);
  const logged: string[] = [];
  const subject = new ExchangeBridge(
    member,
    'job-exchange',
    [0, 2],
    new Map([[0, 5], [2, 0]]),
    options.endOffsets ?? new Map(),
    new Map([['by_key', exchange]]),
    transactions,
    (line) => logged.push(line),
  );
  let offset = 10;
  const deliver = (task: number, ...values: unknown[]) => {
    const messages = values.map((value) => ({ offset: String(offset++), value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) }) as KafkaMessage);
    fetched.push({ task, messages, endOffset: offset });
  };
  return { subject, exchange, sent, received, deliver, logged };
}

describe('ExchangeBridge', () => {
  it("sends records for other members' tasks to their partitions, in the member's transaction", async () => {
    const { subject, exchange, sent, received } = bridge();
    await subject.open();
    exchange.receivers[1]('k1', { n: 1 }, 100);
    exchange.receivers[0]('k0', { n: 0 }, 100);
    exchange.receivers[3]('k3', { n: 3 }, 101);
    await subject.flush();
    expect(sent.map(({ partition, value }) => [partition, JSON.parse(value as string)])).toEqual([
      [1, ['r', 'by_key', 'k1', 100, { n: 1 }]],
      [3, ['r', 'by_key', 'k3', 101, { n: 3 }]],
    ]);
    expect(received).toEqual([[0, 'k0', { n: 0 }, 100]]);
    expect(subject.written).toBe(2);
  });

  it('hands what other members sent to its tasks, and allows the lowest watermark any other task said in any partition', () => {
    const { subject, received, deliver } = bridge();
    expect(subject.low()).toBe(-Infinity);
    deliver(0, ['r', 'by_key', 'a', 50, { x: 1 }], ['w', [1, 3], 1000]);
    deliver(2, ['w', [1], 900]);
    expect(subject.poll()).toBe(1);
    expect(received).toEqual([[0, 'a', { x: 1 }, 50]]);
    // Task 3 has said nothing in partition 2 yet.
    expect(subject.low()).toBe(-Infinity);
    deliver(2, ['w', [3], 1200]);
    subject.poll();
    expect(subject.low()).toBe(900);
    // Null: idle, no constraint; watermarks never go back.
    deliver(0, ['w', [1, 3], null]);
    deliver(2, ['w', [1, 3], 500]);
    subject.poll();
    expect(subject.low()).toBe(900);
    expect(subject.othersEnded()).toBe(false);
    deliver(0, ['w', [1, 3], 'end']);
    deliver(2, ['w', [1, 3], 'end']);
    subject.poll();
    expect(subject.othersEnded()).toBe(true);
    expect(subject.exchangeOffsets()).toEqual({ 0: 17, 2: 18 });
  });

  it("holds the watermark until its partitions are read to where they ended when it started (earlier owners' records)", () => {
    const { subject, deliver } = bridge({ endOffsets: new Map([[0, 14], [2, 0]]) });
    deliver(2, ['w', [1, 3], 700]);
    deliver(0, ['w', [1, 3], 800]);
    subject.poll();
    // Partition 0 is read to 12 of 14.
    expect(subject.low()).toBe(-Infinity);
    deliver(0, ['r', 'by_key', 'k', 1, {}], ['w', [1, 3], 800]);
    subject.poll();
    expect(subject.low()).toBe(700);
  });

  it('says its watermark to the tasks of other members when it changes, and again with each checkpoint', async () => {
    const { subject, sent } = bridge();
    await subject.open();
    subject.announce(-Infinity, false);
    subject.announce(400, false);
    subject.announce(400, false);
    subject.announce(Infinity, false);
    await subject.prepareCommit();
    subject.announce(Infinity, true);
    await subject.flush();
    expect(sent.map(({ partition, value }) => [partition, JSON.parse(value as string)[2]])).toEqual([
      [1, 400],
      [3, 400],
      [1, null],
      [3, null],
      [1, null],
      [3, null],
      [1, 'end'],
      [3, 'end'],
    ]);
  });

  it('refuses to send a record fired out of a window to another member, saying why', async () => {
    const { subject, exchange } = bridge();
    await subject.open();
    subject.firing = true;
    expect(() => exchange.receivers[1]('k', {}, 1)).toThrow(/step by_key keys what a window .* run this pipeline without --distributed/);
  });

  it('skips and logs a message that is not a member’s', () => {
    const { subject, deliver, logged, received } = bridge();
    deliver(0, 'not json', ['r', 'unknown_exchange', 'k', 1, {}], ['r', 'by_key', 'k', 1, { ok: true }]);
    expect(subject.poll()).toBe(1);
    expect(received).toHaveLength(1);
    expect(logged).toEqual([
      'exchange topic job-exchange/0@10: not a message of a pipec member of this pipeline; skipped',
      'exchange topic job-exchange/0@11: not a message of a pipec member of this pipeline; skipped',
    ]);
  });
});
