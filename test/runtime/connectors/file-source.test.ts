// Tests of the file source: JSON lines and CSV read in chunks, with blank lines, CRLF, quoting and line numbers, and
// resumed from checkpoint positions.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceBatch, SourceReader } from '../../../runtime/api.ts';
import { createFileReader } from '../../../runtime/connectors/file/source.ts';
import { seededRandom } from '../../support/random.ts';
import { type ReaderFactory, readAcrossCheckpoint, readWhole, type Resume } from './resume.ts';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pipec-file-source-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

let fileNumber = 0;

/** Writes `content` to a new file in the temp directory and returns its name (relative to the directory). */
async function file(content: string | Buffer, extension = 'jsonl'): Promise<string> {
  const name = `input-${fileNumber++}.${extension}`;
  await writeFile(join(directory, name), content);
  return name;
}

function reader(options: Record<string, unknown>, chunkBytes?: number, taskIndex = 0, resume?: Resume): SourceReader {
  return createFileReader(options, { taskIndex, parallelism: 2, cwd: directory, resume }, chunkBytes === undefined ? {} : { chunkBytes });
}

/** The readers of both tasks (task 1 reads nothing), resumed from `resume` when given. */
function readers(options: Record<string, unknown>, chunkBytes?: number): ReaderFactory {
  return (resume) => [reader(options, chunkBytes, 0, resume), reader(options, chunkBytes, 1, resume)];
}

interface Read {
  readonly values: unknown[];
  readonly positions: number[];
}

/** Every record of the source, polled `maxRecords` at a time; `checkBatch` checks what else each batch must hold. */
async function readAll(source: SourceReader, maxRecords = 1000, checkBatch?: (batch: SourceBatch) => void): Promise<Read> {
  await source.open();
  const read: Read = { values: [], positions: [] };
  for (let batch = await source.poll(maxRecords); batch !== null; batch = await source.poll(maxRecords)) {
    expect(batch.split).toBe(0);
    expect(batch.values.length).toBeLessThanOrEqual(maxRecords);
    expect(batch.positions.length).toBe(batch.values.length);
    checkBatch?.(batch);
    read.values.push(...batch.values);
    read.positions.push(...batch.positions);
  }
  await source.close();
  return read;
}

describe('file source: JSON lines', () => {
  it('returns the lines as json-text with 1-based line numbers, skipping blank lines', async () => {
    const path = await file('{"a":1}\n\n{"a":2}\n   \n\t\n{"a":3}\n');
    const source = reader({ path, format: 'json' });
    await source.open();
    const batch = await source.poll(100);
    // The file is one split, and this batch its last.
    expect(batch).toEqual({ split: 0, encoding: 'json-text', values: ['{"a":1}', '{"a":2}', '{"a":3}'], positions: [1, 3, 6], lenient: false, splitEnded: true });
    expect(await source.poll(100)).toBeNull();
    await source.close();
  });

  it('reads a last line without a line break', async () => {
    const { values, positions } = await readAll(reader({ path: await file('{"a":1}\n{"a":2}') }));
    expect(values).toEqual(['{"a":1}', '{"a":2}']);
    expect(positions).toEqual([1, 2]);
  });

  it('strips CRLF line endings', async () => {
    const { values, positions } = await readAll(reader({ path: await file('{"a":1}\r\n\r\n{"a":"x\\r"}\r\n{"a":3}') }));
    expect(values).toEqual(['{"a":1}', '{"a":"x\\r"}', '{"a":3}']);
    expect(positions).toEqual([1, 3, 4]);
  });

  it('an empty file has no records', async () => {
    expect(await readAll(reader({ path: await file('') }))).toEqual({ values: [], positions: [] });
    expect(await readAll(reader({ path: await file('\n\n  \n') }))).toEqual({ values: [], positions: [] });
  });

  it('drops a byte order mark', async () => {
    const { values } = await readAll(reader({ path: await file('\uFEFF{"a":1}\n') }));
    expect(values).toEqual(['{"a":1}']);
  });

  it('reads a file larger than a chunk, with lines and multi-byte characters across chunk boundaries', async () => {
    const lines: string[] = [];
    let content = '';
    for (let index = 0; index < 40_000; index++) {
      const line = JSON.stringify({ index, text: 'crème brûlée 😀 '.repeat(1 + (index % 3)) });
      // A blank line now and then, which keeps its line number.
      if (index % 1000 === 999) content += '\n';
      content += line + (index % 2 === 0 ? '\n' : '\r\n');
      lines.push(line);
    }
    const expectedPositions: number[] = [];
    let line = 1;
    for (let index = 0; index < 40_000; index++) {
      if (index % 1000 === 999) line++;
      expectedPositions.push(line++);
    }
    expect(Buffer.byteLength(content)).toBeGreaterThan(2 * (1 << 20));
    const { values, positions } = await readAll(reader({ path: await file(content) }), 4096);
    expect(values).toEqual(lines);
    expect(positions).toEqual(expectedPositions);
  });

  it('gives the same lines whatever the chunk size', async () => {
    const content = '{"a":"é"}\r\n\n{"b":"😀😀"}\n  \n{"c":"ü"}';
    const path = await file(content);
    const expected = { values: ['{"a":"é"}', '{"b":"😀😀"}', '{"c":"ü"}'], positions: [1, 3, 5] };
    for (let chunkBytes = 1; chunkBytes <= Buffer.byteLength(content) + 1; chunkBytes++) {
      expect(await readAll(reader({ path }, chunkBytes), 2)).toEqual(expected);
    }
  });

  it('resolves relative paths against the cwd and describes positions by the path as given', async () => {
    const path = await file('{}\n');
    const source = reader({ path });
    expect(source.describePosition(0, 1234)).toBe(`${path}:1234`);
    expect((await readAll(source)).values).toEqual(['{}']);
    expect((await readAll(reader({ path: join(directory, path) }))).values).toEqual(['{}']);
  });

  it('reads a file smaller than split_size as one split, by task 0 only', async () => {
    const path = await file('{}\n');
    const first = reader({ path });
    await first.open();
    expect(first.splits).toEqual([0]);
    const other = reader({ path }, undefined, 1);
    await other.open();
    expect(other.splits).toEqual([]);
    expect(await other.poll(10)).toBeNull();
  });

  it('fails to open a missing file with a message naming it', async () => {
    const source = reader({ path: 'no/such/orders.jsonl' });
    await expect(source.open()).rejects.toThrow(/cannot open 'no\/such\/orders\.jsonl' .*: no such file/);
  });

  it('rejects bad options', () => {
    expect(() => reader({})).toThrow(/option 'path'/);
    expect(() => reader({ path: 'x', format: 'xml' })).toThrow(/'format' must be json or csv/);
    expect(() => reader({ path: 'x', format: 'csv', csv: { header: false } })).toThrow(/csv.columns/);
    expect(() => reader({ path: 'x', format: 'csv', csv: { delimiter: '"' } })).toThrow(/delimiter/);
  });
});

async function readCsv(content: string, csv: Record<string, unknown> = {}, chunkBytes?: number): Promise<Read> {
  const path = await file(content, 'csv');
  return readAll(reader({ path, format: 'csv', csv }, chunkBytes), 3, (batch) => {
    expect(batch.encoding).toBe('values');
    expect(batch.lenient).toBe(true);
  });
}

describe('file source: CSV', () => {
  it('names fields by the header row; values are strings', async () => {
    const read = await readCsv('id,name,price\n1,apple,0.5\n2,pear,1.25\n');
    expect(read.values).toEqual([
      { id: '1', name: 'apple', price: '0.5' },
      { id: '2', name: 'pear', price: '1.25' },
    ]);
    expect(read.positions).toEqual([2, 3]);
  });

  it('handles RFC 4180 quoting: delimiters, doubled quotes and line breaks inside quotes', async () => {
    const content = [
      'id,text,note',
      '1,"a, b","say ""hi"""',
      '2,"two',
      'lines",x',
      '3,"",""""',
      '4,"multi',
      '',
      'line, with blank",end',
      '5,plain,last',
    ].join('\n');
    const read = await readCsv(content);
    expect(read.values).toEqual([
      { id: '1', text: 'a, b', note: 'say "hi"' },
      { id: '2', text: 'two\nlines', note: 'x' },
      { id: '3', text: '', note: '"' },
      { id: '4', text: 'multi\n\nline, with blank', note: 'end' },
      { id: '5', text: 'plain', note: 'last' },
    ]);
    // The line each record starts on.
    expect(read.positions).toEqual([2, 3, 5, 6, 9]);
  });

  it('handles CRLF line endings, also inside quotes', async () => {
    const read = await readCsv('a,b\r\n1,"x\r\ny"\r\n\r\n2,z\r\n');
    expect(read.values).toEqual([{ a: '1', b: 'x\r\ny' }, { a: '2', b: 'z' }]);
    expect(read.positions).toEqual([2, 5]);
  });

  it('skips blank lines but keeps a row of empty quoted cells; empty cells are empty strings', async () => {
    const read = await readCsv('\na,b\n\n  \n1,\n,2\n""\n');
    expect(read.values).toEqual([{ a: '1', b: '' }, { a: '', b: '2' }, { a: '' }]);
    expect(read.positions).toEqual([5, 6, 7]);
  });

  it('leaves missing cells missing and drops extra cells', async () => {
    const read = await readCsv('a,b,c\n1,2\n1,2,3,4\n');
    expect(read.values).toEqual([{ a: '1', b: '2' }, { a: '1', b: '2', c: '3' }]);
  });

  it('reads a last row without a line break, and a quote that never closes to the end of the file', async () => {
    expect((await readCsv('a,b\n1,2')).values).toEqual([{ a: '1', b: '2' }]);
    expect((await readCsv('a,b\n1,"open\n2,3')).values).toEqual([{ a: '1', b: 'open\n2,3' }]);
  });

  it('keeps characters after a closing quote in the cell', async () => {
    expect((await readCsv('a,b\n"x"y,2\n')).values).toEqual([{ a: 'xy', b: '2' }]);
  });

  it('uses another delimiter', async () => {
    expect((await readCsv('a;b\n"1;2";3\n', { delimiter: ';' })).values).toEqual([{ a: '1;2', b: '3' }]);
    expect((await readCsv('a\tb\n1,2\t3\n', { delimiter: '\t' })).values).toEqual([{ a: '1,2', b: '3' }]);
  });

  it('names the columns of a file without a header row', async () => {
    const read = await readCsv('1,apple\n2,pear\n', { header: false, columns: ['id', 'name'] });
    expect(read.values).toEqual([{ id: '1', name: 'apple' }, { id: '2', name: 'pear' }]);
    expect(read.positions).toEqual([1, 2]);
  });

  it('gives the same rows whatever the chunk size', async () => {
    const content = '\uFEFFid,text\r\n1,"a ""b"" ü"\r\n2,"😀\r\nc"\r\n\r\n3,d';
    const expected = {
      values: [{ id: '1', text: 'a "b" ü' }, { id: '2', text: '😀\r\nc' }, { id: '3', text: 'd' }],
      positions: [2, 3, 6],
    };
    for (let chunkBytes = 1; chunkBytes <= Buffer.byteLength(content) + 1; chunkBytes++) {
      expect(await readCsv(content, {}, chunkBytes)).toEqual(expected);
    }
  });

  it('reads a CSV file larger than a chunk', async () => {
    let content = 'n,text\n';
    const expected: Record<string, string>[] = [];
    for (let index = 0; index < 30_000; index++) {
      const text = index % 7 === 0 ? `line ${index}, "quoted"\nnext` : `plain ${index} ${'x'.repeat(40)}`;
      content += `${index},${index % 7 === 0 ? `"${text.replaceAll('"', '""')}"` : text}\n`;
      expected.push({ n: String(index), text });
    }
    expect(content.length).toBeGreaterThan(1 << 20);
    const path = await file(content, 'csv');
    const { values, positions } = await readAll(reader({ path, format: 'csv' }), 4096);
    expect(values).toEqual(expected);
    // Line numbers: the header is line 1, and every seventh record spans two lines.
    let line = 2;
    const expectedPositions = expected.map((_, index) => {
      const start = line;
      line += index % 7 === 0 ? 2 : 1;
      return start;
    });
    expect(positions).toEqual(expectedPositions);
  });
});

/**
 * Reads `options`' file whole, then again with a checkpoint after every number of polls and at every chunk size up
 * to `maxChunkBytes`: the records before and after the resume must be those of the whole read, at the same lines.
 */
async function expectResumeEverywhere(options: Record<string, unknown>, maxChunkBytes: number, batchSizes: readonly number[]): Promise<void> {
  for (const maxRecords of batchSizes) {
    const whole = await readWhole(readers(options), maxRecords);
    const polls = Math.ceil((whole.get(0)?.values.length ?? 0) / maxRecords) + 1;
    for (let chunkBytes = 1; chunkBytes <= maxChunkBytes; chunkBytes++) {
      for (let pollsBefore = 0; pollsBefore <= polls; pollsBefore++) {
        const { read } = await readAcrossCheckpoint(readers(options, chunkBytes), maxRecords, pollsBefore);
        expect(read, `chunk ${chunkBytes} bytes, ${maxRecords} per poll, checkpoint after ${pollsBefore} polls`).toEqual(whole);
      }
    }
  }
}

describe('file source: checkpoints and resume', () => {
  it('the position is the byte offset and line number of the line after the last record polled', async () => {
    // A byte order mark (3 bytes), `é` (2 bytes), a blank line and CRLF.
    const path = await file('\uFEFF{"a":"é"}\n\n{"b":2}\r\n{"c":3}');
    for (let chunkBytes = 1; chunkBytes <= 32; chunkBytes++) {
      const source = reader({ path }, chunkBytes);
      await source.open();
      expect(source.checkpointPosition(0)).toEqual({ offset: 0, line: 1 });
      expect((await source.poll(1))?.values).toEqual(['{"a":"é"}']);
      expect(source.checkpointPosition(0)).toEqual({ offset: 3 + 11, line: 2 });
      expect((await source.poll(1))?.values).toEqual(['{"b":2}']);
      expect(source.checkpointPosition(0)).toEqual({ offset: 14 + 1 + 9, line: 4 });
      expect((await source.poll(1))?.values).toEqual(['{"c":3}']);
      expect(source.checkpointPosition(0)).toEqual({ offset: 31, line: 4 });
      expect(await source.poll(1)).toBeNull();
      expect(source.checkpointPosition(0)).toEqual({ offset: 31, line: 4 });
      await source.close();
    }
  });

  it('resumes JSON lines at the next record, wherever chunk boundaries and the checkpoint fall', async () => {
    const content = '\uFEFF{"a":"é"}\r\n\n{"b":"😀😀"}\n  \n{"c":"ü"}\n{"d":1}\n\n{"e":"€"}';
    await expectResumeEverywhere({ path: await file(content) }, Buffer.byteLength(content) + 1, [1, 2, 3]);
  });

  it('keeps byte offsets exact in a file that is not valid UTF-8', async () => {
    const content = Buffer.concat([
      Buffer.from('{"latin1":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n'),
      // A 4-byte character cut short, and an overlong encoding: both decode to U+FFFD, neither to 3 bytes.
      Buffer.from('{"cut":"'), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from('"}\n'),
      Buffer.from('{"overlong":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}\n'),
      Buffer.from('{"last":"ok"}\n'),
    ]);
    const path = await file(content);
    const whole = await readWhole(readers({ path }), 1);
    expect(whole.get(0)?.values).toEqual(['{"latin1":"caf\uFFFD"}', '{"cut":"\uFFFD"}', '{"overlong":"\uFFFD\uFFFD"}', '{"last":"ok"}']);
    await expectResumeEverywhere({ path }, content.length + 1, [1, 2]);
  });

  it('resumes a large file at checkpoints taken at random', async () => {
    const random = seededRandom(7);
    let content = '';
    for (let index = 0; index < 5_000; index++) {
      if (random() < 0.05) content += '\n';
      content += JSON.stringify({ index, text: 'ä€😀'.repeat(Math.floor(random() * 4)) }) + (random() < 0.5 ? '\n' : '\r\n');
    }
    const path = await file(content);
    const whole = await readWhole(readers({ path }), 17);
    expect(whole.get(0)?.values).toHaveLength(5_000);
    for (let attempt = 0; attempt < 10; attempt++) {
      const chunkBytes = 1 + Math.floor(random() * 3000);
      const pollsBefore = Math.floor(random() * 300);
      const { read } = await readAcrossCheckpoint(readers({ path }, chunkBytes), 17, pollsBefore);
      expect(read, `chunk ${chunkBytes} bytes, checkpoint after ${pollsBefore} polls`).toEqual(whole);
    }
  });

  it('resumes CSV at the next row, also when chunks end inside quoted cells and characters', async () => {
    const content = '\uFEFFid,text\r\n1,"a ""b"" ü"\r\n\r\n2,"😀\r\nc, d"\n3,plain é\n"4","x\n\ny"\n5,"€"';
    await expectResumeEverywhere({ path: await file(content, 'csv'), format: 'csv' }, Buffer.byteLength(content) + 1, [1, 2]);
  });

  it('keeps a CSV header row in the position, so a resumed reader knows its columns', async () => {
    const path = await file('name;price\n"apple";1\npear;2\n', 'csv');
    const options = { path, format: 'csv', csv: { delimiter: ';' } };
    const { read, checkpoint } = await readAcrossCheckpoint(readers(options, 5), 1, 1);
    expect(checkpoint).toEqual(new Map([[0, { offset: 11 + 10, line: 3, header: ['name', 'price'] }]]));
    expect(read.get(0)).toEqual({ values: [{ name: 'apple', price: '1' }, { name: 'pear', price: '2' }], positions: [2, 3] });
  });

  it('resumes CSV without a header row with the spec\'s columns', async () => {
    const content = '1,"x\ny"\n\n2,ü\n3,"😀"\n';
    await expectResumeEverywhere({ path: await file(content, 'csv'), format: 'csv', csv: { header: false, columns: ['n', 'text'] } }, Buffer.byteLength(content) + 1, [1]);
  });

  it('rejects a position that is not a byte offset and line, saying what to do', async () => {
    const path = await file('{}\n');
    const resume = new Map([[0, { offset: -1, line: 1 }]]);
    await expect(reader({ path }, undefined, 0, resume).open()).rejects.toThrow(/file source '.*': the checkpoint holds .* as its position, .*run without restoring/);
    // Task 1 reads no split, so it ignores the position of split 0.
    const other = reader({ path }, undefined, 1, resume);
    await other.open();
    expect(other.splits).toEqual([]);
  });
});

describe('file source: splits of a JSON lines file', () => {
  /** 300 lines of 1 to 80 characters (some with multi-byte characters), a few blank. */
  function lines(): string[] {
    const random = seededRandom(5);
    return Array.from({ length: 300 }, (_, index) => (index % 37 === 5 ? '' : `{"n":${index},"s":"${'é€x'.repeat(Math.floor(random() * 26))}"}`));
  }

  /** The readers of `tasks` tasks over splits of `splitBytes`. */
  function splitReaders(path: string, splitBytes: number, tasks: number, chunkBytes: number): ReaderFactory {
    return (resume) =>
      Array.from({ length: tasks }, (_, taskIndex) =>
        createFileReader({ path, split_size: splitBytes }, { taskIndex, parallelism: tasks, cwd: directory, resume }, { chunkBytes }),
      );
  }

  it('gives every line to exactly one split, the splits in file order, at any split size and number of tasks', async () => {
    const all = lines();
    const path = await file(all.join('\n') + '\n');
    const expected = all.filter((line) => line !== '');
    for (const splitBytes of [1, 7, 100, 1000, 100_000]) {
      for (const tasks of [1, 2, 3]) {
        const read = await readWhole(splitReaders(path, splitBytes, tasks, 64), 7);
        const splits = [...read.keys()].sort((a, b) => a - b);
        expect(splits, `split_size ${splitBytes}`).toEqual(Array.from({ length: splits.length }, (_, index) => index));
        expect(splits.flatMap((split) => read.get(split)!.values), `split_size ${splitBytes}, ${tasks} tasks`).toEqual(expected);
      }
    }
  });

  it('describes a position of any split by its line in the whole file', async () => {
    const all = lines();
    const path = await file(all.join('\n') + '\n');
    const source = createFileReader({ path, split_size: '1KB' }, { taskIndex: 1, parallelism: 2, cwd: directory }, { chunkBytes: 100 });
    await source.open();
    expect(source.splits.length).toBeGreaterThan(2);
    let described = 0;
    for (let batch = await source.poll(10); batch !== null; batch = await source.poll(10)) {
      for (const [index, value] of batch.values.entries()) {
        const [, line] = /:(\d+)$/.exec(source.describePosition(batch.split, batch.positions[index]))!;
        expect(all[Number(line) - 1]).toBe(value);
        described++;
      }
    }
    expect(described).toBeGreaterThan(100);
    await source.close();
  });

  it("says when a split ended, in its last batch, while the reader's other splits go on", async () => {
    const path = await file(lines().join('\n'));
    const source = createFileReader({ path, split_size: 2000 }, { taskIndex: 0, parallelism: 1, cwd: directory }, { chunkBytes: 512 });
    await source.open();
    const ended: number[] = [];
    for (let batch = await source.poll(5); batch !== null; batch = await source.poll(5)) {
      expect(ended).not.toContain(batch.split);
      if (batch.splitEnded) ended.push(batch.split);
    }
    expect(ended.sort((a, b) => a - b)).toEqual(source.splits);
    expect(source.splits.length).toBeGreaterThan(3);
    await source.close();
  });

  it('resumes every split at its position, at another number of tasks', async () => {
    const all = lines();
    const path = await file(all.join('\n') + '\n');
    const expected = all.filter((line) => line !== '');
    for (const pollsBefore of [0, 1, 3, 10, 40]) {
      const { read } = await readAcrossCheckpoint(splitReaders(path, 500, 2, 64), 4, pollsBefore, splitReaders(path, 500, 3, 200));
      const splits = [...read.keys()].sort((a, b) => a - b);
      expect(splits.flatMap((split) => read.get(split)!.values), `after ${pollsBefore} polls`).toEqual(expected);
    }
  });

  it('rejects a split_size that is not a size', () => {
    expect(() => createFileReader({ path: 'x', split_size: 'big' }, { taskIndex: 0, parallelism: 1, cwd: directory })).toThrow(/'split_size' must be a size such as 64MB/);
    expect(() => createFileReader({ path: 'x', split_size: 0 }, { taskIndex: 0, parallelism: 1, cwd: directory })).toThrow(/'split_size'/);
  });
});
