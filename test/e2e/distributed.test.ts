// `pipec run --distributed` against a real Kafka broker: two members of one group split the tasks (and with them the
// input partitions), records cross between them through the exchange topic, and when one is killed with SIGKILL the
// other takes its tasks over from its last checkpoint. The rows are computed here from the produced orders, and read
// read_committed: each must arrive exactly once.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.ts';
import { checkpointsIn, sleep } from '../support/kill.ts';
import { useKafkaBroker } from '../support/kafka-suite.ts';
import { consumeAll, createTopic, produce } from '../support/kafka.ts';
import { expectedWindows, orders, produceOrders, spec, START, values } from '../support/kafka-orders.ts';

const kafka = useKafkaBroker();

const NAME = 'spread';
const PARTITIONS = 4;

/** A `pipec run` in the background, its standard error collected. */
interface Member {
  readonly child: ChildProcess;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startMember(directory: string, checkpoints: string): Member {
  const args = ["run", join('..', `${NAME}.yaml`), '--distributed', '--kafka-servers', kafka().bootstrapServers, '--parallelism', '4', '--checkpoint-dir', checkpoints];
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'pipec.js'), ...args], { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
  const member: Member = { child, stderr: '', exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))) };
  child.stderr!.on('data', (chunk: Buffer) => (member.stderr += chunk.toString()));
  return member;
}

/** The task lists a member said it was assigned, in order (`tasks 0, 3 of 4: …`). */
function assignments(member: Member): number[][] {
  return [...member.stderr.matchAll(/: tasks ([\d, ]+) of 4:/g)].map((match) => match[1].split(', ').map(Number));
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('pipec run --distributed', () => {
  it('splits the tasks between two members, and when one is killed the other goes on with them: every row once, read_committed', async () => {
    await createTopic(kafka(), `${NAME}-orders`, PARTITIONS);
    await createTopic(kafka(), `${NAME}-windows`, 2);
    await createTopic(kafka(), `${NAME}-purchases`, PARTITIONS);
    const list = orders(16_000, 100);
    const purchasesSink = `  purchases_out:
    from: purchases
    connector: kafka
    kafka: { topic: ${NAME}-purchases, key: order_id }
`;
    const root = mkdtempSync(join(tmpdir(), 'pipec-distributed-'));
    writeFileSync(join(root, `${NAME}.yaml`), spec(NAME, `${NAME}-orders`, '', purchasesSink, 'checkpoints: { interval: 500ms, mode: exactly_once, retain: 2 }\n', true));
    const checkpoints = join(root, 'checkpoints');
    for (const member of ['a', 'b']) mkdirSync(join(root, member));

    await produceOrders(kafka(), `${NAME}-orders`, list.slice(0, 8000), PARTITIONS);
    const a = startMember(join(root, 'a'), checkpoints);
    let b: Member | undefined;
    try {
      await waitFor('member a to take every task', () => assignments(a).length === 1);
      expect(assignments(a)[0]).toEqual([0, 1, 2, 3]);
      b = startMember(join(root, 'b'), checkpoints);
      await waitFor('the group to split the tasks', () => assignments(a).length === 2 && assignments(b!).length === 1);
      const [ofA, ofB] = [assignments(a)[1], assignments(b)[0]];
      expect(ofA.length).toBe(2);
      expect([...ofA, ...ofB].sort()).toEqual([0, 1, 2, 3]);
      // b has checkpointed its tasks a few times (records crossing from a among what they hold) before it dies.
      const idOfB = /member ([0-9a-f-]+) joined/.exec(b.stderr)![1];
      await waitFor('b to checkpoint', () => checkpointsIn(join(checkpoints, 'members', idOfB)).length >= 2, 30_000);
      await sleep(300);
      b.child.kill('SIGKILL');
      await b.exited;

      // The rest of the orders, and per partition one far later (a view: no row) that moves every watermark past the last window.
      await produceOrders(kafka(), `${NAME}-orders`, list.slice(8000), PARTITIONS);
      const late = START + 3_600_000;
      const closing = Array.from({ length: PARTITIONS }, (_, partition) => ({ order_id: `end${partition}`, category: 'books', price: 1, quantity: 1, event_type: 'view', ts: late }));
      await produce(kafka(), `${NAME}-orders`, closing.map((order, partition) => ({ key: order.order_id, value: JSON.stringify(order), partition })));

      await waitFor('member a to take the tasks over', () => assignments(a).length === 3, 60_000);
      expect(assignments(a)[2]).toEqual([0, 1, 2, 3]);
      // The tasks b held go on from b's checkpoint, and what b left open is aborted at once.
      expect(a.stderr).toMatch(new RegExp(`tasks 0, 1, 2, 3 of 4: .*${ofB.join(', ')} from ${escape(checkpoints)}/members/${idOfB}/`));
      await waitFor('a to fence b', () => a.stderr.includes(`member ${idOfB} is gone: its open Kafka transactions are aborted`), 30_000);

      const purchases = list.filter((order) => order.event_type === 'purchase');
      const expectedPurchases = purchases.map((order) => JSON.stringify({ ...order, source_partition: list.indexOf(order) % PARTITIONS, order_key: order.order_id })).sort();
      const expectedRows = expectedWindows(list, PARTITIONS);
      const committedPurchases = await consumeAll(kafka(), `${NAME}-purchases`, { readCommitted: true, count: expectedPurchases.length, timeoutMs: 90_000 });
      expect(values(committedPurchases)).toEqual(expectedPurchases);
      const committedRows = await consumeAll(kafka(), `${NAME}-windows`, { readCommitted: true, count: expectedRows.length, timeoutMs: 60_000 });
      expect(values(committedRows)).toEqual(expectedRows);
      // Nothing beyond them.
      expect((await consumeAll(kafka(), `${NAME}-purchases`, { readCommitted: true, idleMs: 2000 })).length).toBe(expectedPurchases.length);
      expect((await consumeAll(kafka(), `${NAME}-windows`, { readCommitted: true, idleMs: 2000 })).length).toBe(expectedRows.length);

      a.child.kill('SIGTERM');
      const { code } = await a.exited;
      expect(code, a.stderr).toBe(0);
      expect(a.stderr).toContain('the group assigned the tasks anew 2 times; what follows covers the last assignment');
    } finally {
      a.child.kill('SIGKILL');
      b?.child.kill('SIGKILL');
    }
  }, 300_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
