// Tests of the file and stdout sinks: JSON lines out, per-task files, truncation, text format and backpressure.

import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkContext } from '../../../runtime/api.ts';
import { createFileSink, taskFilePath } from '../../../runtime/connectors/file/sink.ts';
import { createStdoutSink, formatText } from '../../../runtime/connectors/stdout/sink.ts';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pipec-sinks-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const single = (): SinkContext => ({ taskIndex: 0, parallelism: 1, outputPath: directory, delivery: 'none' });

describe('file sink', () => {
  it('writes JSON lines on flush, creating parent directories', async () => {
    const sink = createFileSink({ path: 'nested/deeper/revenue.jsonl' }, single());
    await sink.open();
    sink.write({ category: 'books', total: 12.5 });
    sink.write({ category: 'toys', total: 3, note: 'ü "quoted"' });
    expect(sink.written).toBe(2);
    const path = join(directory, 'nested/deeper/revenue.jsonl');
    expect(await readFile(path, 'utf8')).toBe('');
    await sink.flush();
    expect(await readFile(path, 'utf8')).toBe('{"category":"books","total":12.5}\n{"category":"toys","total":3,"note":"ü \\"quoted\\""}\n');
    sink.write({ category: 'home', total: null });
    await sink.close();
    expect((await readFile(path, 'utf8')).split('\n')).toEqual([
      '{"category":"books","total":12.5}',
      '{"category":"toys","total":3,"note":"ü \\"quoted\\""}',
      '{"category":"home","total":null}',
      '',
    ]);
    expect(sink.written).toBe(3);
  });

  it('takes lines serialised elsewhere (a worker thread) between records, in order, and counts their records', async () => {
    const sink = createFileSink({ path: 'lines.jsonl' }, single());
    await sink.open();
    sink.write({ n: 1 });
    sink.writeLines!('{"n":2}\n{"n":3}\n', 2);
    sink.write({ n: 4 });
    expect(sink.written).toBe(4);
    await sink.close();
    expect(await readFile(join(directory, 'lines.jsonl'), 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n');
  });

  it('truncates an existing file at open', async () => {
    await mkdir(join(directory, 'old'), { recursive: true });
    await writeFile(join(directory, 'old/out.jsonl'), 'stale line\nanother\n');
    const sink = createFileSink({ path: 'old/out.jsonl' }, single());
    await sink.open();
    expect(await readFile(join(directory, 'old/out.jsonl'), 'utf8')).toBe('');
    sink.write({ a: 1 });
    await sink.close();
    expect(await readFile(join(directory, 'old/out.jsonl'), 'utf8')).toBe('{"a":1}\n');
  });

  it('resolves an absolute path as it is', async () => {
    const path = join(directory, 'absolute.jsonl');
    const sink = createFileSink({ path }, { taskIndex: 0, parallelism: 1, outputPath: '/elsewhere', delivery: 'none' });
    await sink.open();
    sink.write({ ok: true });
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe('{"ok":true}\n');
  });

  it('writes one file per task when parallelism is above 1', async () => {
    expect(taskFilePath('out/revenue.jsonl', { taskIndex: 2, parallelism: 4, outputPath: '/data', delivery: 'none' })).toBe('/data/out/revenue-2.jsonl');
    expect(taskFilePath('out/revenue', { taskIndex: 0, parallelism: 2, outputPath: '/data', delivery: 'none' })).toBe('/data/out/revenue-0');
    expect(taskFilePath('out/revenue.jsonl', { taskIndex: 0, parallelism: 1, outputPath: '/data', delivery: 'none' })).toBe('/data/out/revenue.jsonl');
    for (const taskIndex of [0, 1]) {
      const sink = createFileSink({ path: 'parallel/rows.jsonl' }, { taskIndex, parallelism: 2, outputPath: directory, delivery: 'none' });
      await sink.open();
      sink.write({ task: taskIndex });
      await sink.close();
    }
    expect(await readFile(join(directory, 'parallel/rows-0.jsonl'), 'utf8')).toBe('{"task":0}\n');
    expect(await readFile(join(directory, 'parallel/rows-1.jsonl'), 'utf8')).toBe('{"task":1}\n');
  });

  it('writes many records in one flush', async () => {
    const sink = createFileSink({ path: 'many.jsonl' }, single());
    await sink.open();
    for (let index = 0; index < 100_000; index++) sink.write({ index });
    await sink.close();
    const lines = (await readFile(join(directory, 'many.jsonl'), 'utf8')).split('\n');
    expect(lines).toHaveLength(100_001);
    expect(lines[99_999]).toBe('{"index":99999}');
  });

  it('rejects a format other than JSON lines, and a missing path', () => {
    expect(() => createFileSink({ path: 'x.csv', format: 'csv' }, single())).toThrow(/'format' must be json/);
    expect(() => createFileSink({}, single())).toThrow(/option 'path'/);
  });
});

/** A stream that takes one write at a time and finishes it on a later turn of the event loop, like a slow pipe. */
class SlowStream extends Writable {
  readonly chunks: string[] = [];
  constructor() {
    super({ highWaterMark: 4, decodeStrings: false });
  }
  override _write(chunk: string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    setImmediate(() => {
      this.chunks.push(chunk);
      callback();
    });
  }
}

describe('stdout sink', () => {
  it('writes JSON lines', async () => {
    const output = new SlowStream();
    const sink = createStdoutSink({}, single(), output);
    sink.write({ a: 1, b: 'x' });
    sink.write({ a: 2, b: null });
    await sink.flush();
    expect(output.chunks.join('')).toBe('{"a":1,"b":"x"}\n{"a":2,"b":null}\n');
    expect(sink.written).toBe(2);
  });

  it('writes key=value text', async () => {
    const output = new SlowStream();
    const sink = createStdoutSink({ format: 'text' }, single(), output);
    sink.write({ category: 'books', total: 12.5, note: 'two words', empty: '', missing: null, tags: ['a'], flag: true });
    await sink.close();
    expect(output.chunks.join('')).toBe('category=books total=12.5 note="two words" empty="" missing=null tags=["a"] flag=true\n');
  });

  it('quotes text values holding quotes or equals signs', () => {
    expect(formatText({ a: 'x=y', b: 'say "hi"', c: 'plain-value' })).toBe('a="x=y" b="say \\"hi\\"" c=plain-value');
  });

  it('waits for the stream to drain when its buffer is full', async () => {
    const output = new SlowStream();
    const sink = createStdoutSink({}, single(), output);
    sink.write({ big: 'x'.repeat(100) });
    await sink.flush();
    // Without waiting for 'drain', the write would still be pending here.
    expect(output.writableLength).toBe(0);
    expect(output.chunks.join('')).toBe(`{"big":"${'x'.repeat(100)}"}\n`);
  });

  it('rejects an unknown format', () => {
    expect(() => createStdoutSink({ format: 'xml' }, single())).toThrow(/'format' must be json or text/);
  });
});
