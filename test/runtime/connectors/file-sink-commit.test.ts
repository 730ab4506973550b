// Tests of the file sink under checkpoints: the two-phase commit of exactly_once (visible only once committed, exact
// after a crash before, during or after a commit, and after kill -9), restores, leftovers of earlier runs, and
// at_least_once.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { SinkConnector, SinkContext } from '../../../runtime/api.ts';
import { createFileSink, type FileSinkPrepared } from '../../../runtime/connectors/file/sink.ts';
import { REPO_ROOT } from '../../support/cli.ts';
import { seededRandom } from '../../support/random.ts';
import type { CrashState } from './file-sink-crash-child.ts';

const CRASH_CHILD = fileURLToPath(new URL('./file-sink-crash-child.ts', import.meta.url));

const roots: string[] = [];
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pipec-file-sink-commit-'));
  roots.push(directory);
});

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

type Delivery = SinkContext['delivery'];

function openSink(delivery: Delivery, restore?: { prepared: unknown }, taskIndex = 0, parallelism = 1): Promise<SinkConnector<Row>> {
  const sink = createFileSink<Row>({ path: 'out/revenue.jsonl' }, { taskIndex, parallelism, outputPath: directory, delivery, restore });
  return sink.open().then(() => sink);
}

interface Row {
  readonly n: number;
  readonly text: string;
}

/** Record n, with multi-byte text so that bytes and characters differ. */
function row(n: number): Row {
  return { n, text: 'é😀'.repeat(n % 3) };
}

/** The JSON lines of records [from, to), written out by hand. */
function lines(from: number, to: number): string {
  let text = '';
  for (let n = from; n < to; n++) text += `{"n":${n},"text":"${'é😀'.repeat(n % 3)}"}\n`;
  return text;
}

/** Writes records [from, to) and flushes them. */
async function write(sink: SinkConnector<Row>, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) sink.write(row(n));
  await sink.flush();
}

/** Writes records [from, to) and takes checkpoint `id` after them: prepares it, and commits it unless told not to. */
async function checkpoint(sink: SinkConnector<Row>, id: number, from: number, to: number, commit = true): Promise<FileSinkPrepared> {
  await write(sink, from, to);
  const prepared = (await sink.prepareCommit!(id)) as FileSinkPrepared;
  if (commit) await sink.commit!(prepared);
  return prepared;
}

const visible = () => readFile(join(directory, 'out/revenue.jsonl'), 'utf8');
const files = async () => (await readdir(join(directory, 'out'))).sort();

/**
 * Ends a sink the way a crash does, as far as its files go: records flushed since the last checkpoint stay in the
 * in-progress file, nothing is committed. (close() commits nothing either; it only closes the file.)
 */
async function crash(sink: SinkConnector<Row>): Promise<void> {
  await sink.close();
}

/** Restores `prepared` under exactly_once: the file must then hold exactly `expected`, and no hidden file be left. */
async function expectRestored(prepared: unknown, expected: string): Promise<void> {
  await (await openSink('exactly_once', { prepared })).close();
  expect(await visible()).toBe(expected);
  expect(await files()).toEqual(['revenue.jsonl']);
}

describe('file sink, exactly_once', () => {
  it('keeps output in a hidden in-progress file until its checkpoint commits', async () => {
    const sink = await openSink('exactly_once');
    await write(sink, 0, 3);
    expect(await visible()).toBe('');
    expect(await readFile(join(directory, 'out/.revenue.jsonl.inprogress'), 'utf8')).toBe(lines(0, 3));

    const first = (await sink.prepareCommit!(1)) as FileSinkPrepared;
    expect(first).toEqual({ checkpoint: 1, committedBytes: 0, part: '.revenue.jsonl.part-1', partBytes: Buffer.byteLength(lines(0, 3)) });
    expect(await visible()).toBe('');
    expect(await readFile(join(directory, 'out/.revenue.jsonl.part-1'), 'utf8')).toBe(lines(0, 3));
    // Plain JSON, as a checkpoint keeps it.
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);

    await sink.commit!(first);
    expect(await visible()).toBe(lines(0, 3));
    expect(await files()).toEqual(['revenue.jsonl']);

    const second = await checkpoint(sink, 2, 3, 5, false);
    expect(second).toEqual({ checkpoint: 2, committedBytes: Buffer.byteLength(lines(0, 3)), part: '.revenue.jsonl.part-2', partBytes: Buffer.byteLength(lines(3, 5)) });
    await sink.commit!(second);
    await sink.close();
    expect(await visible()).toBe(lines(0, 5));
    expect(await files()).toEqual(['revenue.jsonl']);
  });

  it('a checkpoint without new output commits an empty part', async () => {
    const sink = await openSink('exactly_once');
    const prepared = (await sink.prepareCommit!(1)) as FileSinkPrepared;
    expect(prepared).toEqual({ checkpoint: 1, committedBytes: 0, part: '.revenue.jsonl.part-1', partBytes: 0 });
    await sink.commit!(prepared);
    await sink.close();
    expect(await visible()).toBe('');
    expect(await files()).toEqual(['revenue.jsonl']);
  });

  it('crash after prepare(2), before its commit: restoring checkpoint 2 gives the output up to checkpoint 2', async () => {
    const sink = await openSink('exactly_once');
    await checkpoint(sink, 1, 0, 3);
    const second = await checkpoint(sink, 2, 3, 6, false);
    await write(sink, 6, 9);
    await crash(sink);
    expect(await visible()).toBe(lines(0, 3));

    const restored = await openSink('exactly_once', { prepared: second });
    expect(await visible()).toBe(lines(0, 6));
    expect(await files()).toEqual(['revenue.jsonl']);
    await checkpoint(restored, 3, 6, 8);
    await restored.close();
    expect(await visible()).toBe(lines(0, 8));
  });

  it('crash before prepare(2): restoring checkpoint 1 gives the output up to checkpoint 1 only', async () => {
    const sink = await openSink('exactly_once');
    const first = await checkpoint(sink, 1, 0, 3);
    await write(sink, 3, 6);
    await crash(sink);

    await expectRestored(first, lines(0, 3));
  });

  it('restoring checkpoint 1 drops the part of checkpoint 2, which never completed', async () => {
    const sink = await openSink('exactly_once');
    const first = await checkpoint(sink, 1, 0, 3);
    await checkpoint(sink, 2, 3, 6, false);
    await crash(sink);

    await expectRestored(first, lines(0, 3));
  });

  it('crash in the middle of a commit: the restore cuts the half-appended part and appends it again', async () => {
    const sink = await openSink('exactly_once');
    await checkpoint(sink, 1, 0, 3);
    const second = await checkpoint(sink, 2, 3, 7, false);
    await crash(sink);
    // The commit had appended half of the part when the process died.
    const part = await readFile(join(directory, 'out', second.part!));
    await appendFile(join(directory, 'out/revenue.jsonl'), part.subarray(0, part.length >> 1));

    await expectRestored(second, lines(0, 7));
  });

  it('crash after the append, before the part was deleted: the restore leaves the file as it should be', async () => {
    const sink = await openSink('exactly_once');
    const first = await checkpoint(sink, 1, 0, 4, false);
    await crash(sink);
    await appendFile(join(directory, 'out/revenue.jsonl'), await readFile(join(directory, 'out', first.part!)));

    await expectRestored(first, lines(0, 4));
  });

  it('commits every earlier part first when their commits did not come, at run time and on restore', async () => {
    const sink = await openSink('exactly_once');
    await checkpoint(sink, 1, 0, 2, false);
    const second = await checkpoint(sink, 2, 2, 5, false);
    const third = await checkpoint(sink, 3, 5, 6, false);
    expect(third).toMatchObject({ committedBytes: Buffer.byteLength(lines(0, 5)) });
    await sink.commit!(second);
    expect(await visible()).toBe(lines(0, 5));
    await crash(sink);

    await expectRestored(third, lines(0, 6));
  });

  it('commit is idempotent, also for a checkpoint older than the last committed', async () => {
    const sink = await openSink('exactly_once');
    const first = await checkpoint(sink, 1, 0, 2);
    await sink.commit!(first);
    await checkpoint(sink, 2, 2, 4);
    await sink.commit!(first);
    await sink.close();
    expect(await visible()).toBe(lines(0, 4));
  });

  it('restoring an older checkpoint than the last committed takes the later output back', async () => {
    const sink = await openSink('exactly_once');
    const first = await checkpoint(sink, 1, 0, 2);
    await checkpoint(sink, 2, 2, 4);
    await sink.close();

    await expectRestored(first, lines(0, 2));
  });

  it('restoring a checkpoint taken before the sink prepared any empties the file', async () => {
    const sink = await openSink('exactly_once');
    await checkpoint(sink, 1, 0, 2, false);
    await write(sink, 2, 3);
    await crash(sink);

    await expectRestored(undefined, '');
  });

  it('after a restore, checkpoint ids must go on increasing', async () => {
    const sink = await openSink('exactly_once');
    const first = await sink.prepareCommit!(4);
    await sink.commit!(first);
    await sink.close();
    const restored = await openSink('exactly_once', { prepared: first });
    await expect(restored.prepareCommit!(4)).rejects.toThrow(/checkpoint 4 after checkpoint 4; checkpoint ids must increase/);
    await restored.close();
  });

  it('refuses to restore output that is gone, saying what to do', async () => {
    const sink = await openSink('exactly_once');
    const first = await checkpoint(sink, 1, 0, 3);
    await sink.close();
    await writeFile(join(directory, 'out/revenue.jsonl'), lines(0, 1));

    await expect(openSink('exactly_once', { prepared: first })).rejects.toThrow(
      /cannot commit checkpoint 1 to .*revenue\.jsonl: it should hold \d+ bytes, it holds \d+ .*restore a later checkpoint, or run without restoring one/,
    );
  });

  it('refuses a prepared value that is not its own, saying what to do', async () => {
    await expect(openSink('exactly_once', { prepared: { offset: 3 } })).rejects.toThrow(/holds \{"offset":3\} for this sink, not what it prepared; restore another checkpoint/);
    const prepared: FileSinkPrepared = { checkpoint: 1, committedBytes: 0, part: '.revenue-0.jsonl.part-1', partBytes: 0 };
    await expect(openSink('exactly_once', { prepared })).rejects.toThrow(/output is in \.revenue-0\.jsonl\.part-1, but this task writes \.revenue\.jsonl\.part-1; restore with the parallelism/);
  });

  it('with several tasks, each task commits its own file', async () => {
    const sinks = await Promise.all([0, 1].map((taskIndex) => openSink('exactly_once', undefined, taskIndex, 2)));
    await write(sinks[0], 0, 2);
    await write(sinks[1], 2, 5);
    const prepared = await Promise.all(sinks.map((sink) => sink.prepareCommit!(1)));
    expect(prepared.map((value) => (value as FileSinkPrepared).part)).toEqual(['.revenue-0.jsonl.part-1', '.revenue-1.jsonl.part-1']);
    for (const [index, sink] of sinks.entries()) {
      await sink.commit!(prepared[index]);
      await sink.close();
    }
    expect(await readFile(join(directory, 'out/revenue-0.jsonl'), 'utf8')).toBe(lines(0, 2));
    expect(await readFile(join(directory, 'out/revenue-1.jsonl'), 'utf8')).toBe(lines(2, 5));
    expect(await files()).toEqual(['revenue-0.jsonl', 'revenue-1.jsonl']);
  });
});

describe('file sink, exactly_once, killed', () => {
  it('after kill -9 at any instant the file holds only output of completed checkpoints, and a restore makes it exact', async () => {
    const random = seededRandom(11);
    const stateFile = join(directory, 'checkpoint.json');
    const completed = async () => readFile(stateFile, 'utf8').then((text) => JSON.parse(text) as CrashState, () => undefined);
    let kills = 0;
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', CRASH_CHILD, directory, stateFile], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit');
      const [ready] = await once(child.stdout, 'data');
      expect(String(ready)).toBe('ready\n');
      await sleep(Math.floor(random() * 150));
      if (child.kill('SIGKILL')) kills++;
      await exited;
      const state = await completed();
      // A prefix of the output up to the last completed checkpoint: shorter only while its commit was under way.
      expect(lines(0, state?.next ?? 0).startsWith(await visible()), `round ${round}`).toBe(true);
    }
    expect(kills).toBe(6);
    const state = await completed();
    expect(state?.next).toBeGreaterThan(0);
    await expectRestored(state!.prepared, lines(0, state!.next));
  });
});

describe('file sink, a fresh run', () => {
  for (const delivery of ['none', 'at_least_once', 'exactly_once'] as const) {
    it(`${delivery}: empties the file and deletes the in-progress file and parts an earlier run left, nothing else`, async () => {
      await mkdir(join(directory, 'out'));
      await writeFile(join(directory, 'out/revenue.jsonl'), 'old output\n');
      await writeFile(join(directory, 'out/.revenue.jsonl.inprogress'), 'uncommitted\n');
      await writeFile(join(directory, 'out/.revenue.jsonl.part-3'), 'prepared\n');
      await writeFile(join(directory, 'out/.orders.jsonl.part-3'), 'another sink\n');
      await writeFile(join(directory, 'out/notes.txt'), 'mine\n');
      const sink = await openSink(delivery);
      await write(sink, 0, 2);
      await sink.close();
      expect(await files()).toEqual(['.orders.jsonl.part-3', 'notes.txt', 'revenue.jsonl', ...(delivery === 'exactly_once' ? ['.revenue.jsonl.inprogress'] : [])].sort());
      expect(await visible()).toBe(delivery === 'exactly_once' ? '' : lines(0, 2));
    });
  }
});

describe('file sink, at_least_once', () => {
  it('writes straight to the visible file; a checkpoint gives its length', async () => {
    const sink = await openSink('at_least_once');
    await write(sink, 0, 3);
    expect(await visible()).toBe(lines(0, 3));
    expect(await sink.prepareCommit!(1)).toEqual({ checkpoint: 1, committedBytes: Buffer.byteLength(lines(0, 3)), part: null, partBytes: 0 });
    await sink.close();
    expect(await files()).toEqual(['revenue.jsonl']);
  });

  it('a restore keeps what the file holds and appends after it: repeats, nothing lost', async () => {
    const sink = await openSink('at_least_once');
    const first = await checkpoint(sink, 1, 0, 3);
    await write(sink, 3, 5);
    await crash(sink);

    // The run goes on from checkpoint 1: records 3 and 4 come again.
    const restored = await openSink('at_least_once', { prepared: first });
    await write(restored, 3, 6);
    await restored.close();
    expect(await visible()).toBe(lines(0, 5) + lines(3, 6));
  });

  it('restoring a checkpoint of an exactly_once run commits its pending part first', async () => {
    const sink = await openSink('exactly_once');
    const first = await checkpoint(sink, 1, 0, 3, false);
    await crash(sink);

    const restored = await openSink('at_least_once', { prepared: first });
    await write(restored, 3, 4);
    await restored.close();
    expect(await visible()).toBe(lines(0, 4));
    expect(await files()).toEqual(['revenue.jsonl']);
  });

  it('an exactly_once restore of an at_least_once checkpoint cuts the file to that checkpoint', async () => {
    const sink = await openSink('at_least_once');
    const first = await checkpoint(sink, 1, 0, 3, false);
    await write(sink, 3, 5);
    await crash(sink);

    await expectRestored(first, lines(0, 3));
  });
});

describe('file sink, without checkpoints', () => {
  it('has no checkpoints to prepare or commit', async () => {
    const sink = await openSink('none');
    await expect(sink.prepareCommit!(1)).rejects.toThrow(/prepareCommit\(\) needs delivery exactly_once or at_least_once/);
    await sink.close();
  });
});
