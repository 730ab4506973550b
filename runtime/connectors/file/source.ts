// The `file` source connector: JSON lines or CSV from a local file, read in large chunks.

import { closeSync, openSync, readSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SourceBatch, SourceContext, SourceReader } from '../../api.ts';
import { checkCsvDelimiter, countLineFeeds, CsvRecordParser } from './csv.ts';

export type FileFormat = 'json' | 'csv';

export interface FileSourceOptions {
  /** As written in the spec; resolved against the context's cwd. */
  readonly path: string;
  readonly format: FileFormat;
  readonly csv: CsvOptions;
  /** Bytes of a split of a JSON lines file: the unit tasks share the file by. */
  readonly splitBytes: number;
}

export interface CsvOptions {
  readonly delimiter: string;
  /** Whether the first row names the fields. */
  readonly header: boolean;
  /** Field names for a file without a header row, in column order. */
  readonly columns: readonly string[] | undefined;
}

/** Where the file source resumes: what `checkpointPosition` returns, as plain JSON. */
export interface FilePosition {
  /** Byte offset in the file of the next unread line. */
  readonly offset: number;
  /** Its line number, from 1. */
  readonly line: number;
  /** A CSV file's field names once its header row is read, so a resumed reader knows its columns without reading it again. */
  readonly header?: readonly string[];
}

/** Not part of the spec: lets tests put chunk boundaries everywhere. */
export interface FileReadTuning {
  readonly chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Flink's and Hadoop's block size: a file smaller than this is one split, read by one task. */
const DEFAULT_SPLIT_BYTES = 64 << 20;
const SIZE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1 << 10, MB: 1 << 20, GB: 1 << 30 };
const LINE_FEED = 10;
const EMPTY_BYTES = Buffer.alloc(0);

export function parseFileSourceOptions(options: Readonly<Record<string, unknown>>): FileSourceOptions {
  const { path, format = 'json', csv = {}, split_size: splitSize = DEFAULT_SPLIT_BYTES } = options;
  if (typeof path !== 'string' || path === '') throw new Error(`file source: option 'path' must be a file path, got ${JSON.stringify(path)}`);
  if (format !== 'json' && format !== 'csv') throw new Error(`file source '${path}': option 'format' must be json or csv, got ${JSON.stringify(format)}`);
  if (typeof csv !== 'object' || csv === null) throw new Error(`file source '${path}': option 'csv' must be an object`);
  const { delimiter = ',', header = true, columns } = csv as Record<string, unknown>;
  if (typeof delimiter !== 'string') throw new Error(`file source '${path}': option 'csv.delimiter' must be a string`);
  if (format === 'csv') checkCsvDelimiter(delimiter);
  if (typeof header !== 'boolean') throw new Error(`file source '${path}': option 'csv.header' must be true or false`);
  if (columns !== undefined && !(Array.isArray(columns) && columns.every((column) => typeof column === 'string'))) {
    throw new Error(`file source '${path}': option 'csv.columns' must be a list of field names`);
  }
  if (format === 'csv' && !header && columns === undefined) {
    throw new Error(`file source '${path}': a csv file without a header row needs 'csv.columns' to name its fields`);
  }
  const splitBytes = typeof splitSize === 'number' ? splitSize : parseSize(splitSize);
  if (!(Number.isSafeInteger(splitBytes) && splitBytes >= 1)) {
    throw new Error(`file source '${path}': option 'split_size' must be a size such as 64MB (B, KB, MB, GB; 1024-based) or a number of bytes, got ${JSON.stringify(splitSize)}`);
  }
  return { path, format, csv: { delimiter, header, columns: columns as string[] | undefined }, splitBytes };
}

/** `64MB` in bytes (1024-based units); NaN when it is not such a size. */
function parseSize(value: unknown): number {
  const match = typeof value === 'string' ? /^\s*(\d+)\s*(B|KB|MB|GB)\s*$/i.exec(value) : null;
  return match === null ? NaN : Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()];
}

/**
 * A JSON lines file is cut into splits of `split_size` bytes (64 MiB by default), each moved to the next line start
 * (Hadoop's LineRecordReader: a split holds the lines that start in it); task t reads the splits s with
 * s mod parallelism = t, one after the other, as one stream for watermarks (splitsInOrder): the tasks move through
 * the file side by side, a split apart, so windows stay open over about that much event time. A CSV file is one
 * split, read by task 0: a quoted field may hold a line break, so a byte offset does not find a row's start. JSON
 * lines come out as `json-text` batches of line strings, CSV rows as `values` batches of string records (lenient);
 * positions are 1-based line numbers within the split (for a CSV row, the line it starts on). Blank lines are
 * skipped but counted. With `context.resume`, each split goes on at the byte offset and line of its FilePosition.
 */
export function createFileReader(options: Readonly<Record<string, unknown>>, context: SourceContext, tuning: FileReadTuning = {}): SourceReader {
  const parsed = parseFileSourceOptions(options);
  return new FileReader(parsed, context, tuning.chunkBytes ?? DEFAULT_CHUNK_BYTES);
}

/** The splits of one task, read one after the other, through one file handle and one read buffer. */
class FileReader implements SourceReader {
  splits: readonly number[] = [];
  /** A file's lines are in about the order of their event times, so are its splits. */
  readonly splitsInOrder = true;
  private readonly resolvedPath: string;
  private handle: FileHandle | undefined;
  private readers: FileSplitReader[] = [];
  /** The split being read: readers before it are finished. */
  private current = 0;
  /** Per split, where it starts in the file and its first line's number: found when a position is described. */
  private readonly starts = new Map<number, { readonly offset: number; line?: number }>();

  constructor(
    private readonly options: FileSourceOptions,
    private readonly context: SourceContext,
    private readonly chunkBytes: number,
  ) {
    this.resolvedPath = resolve(context.cwd, options.path);
  }

  async open(): Promise<void> {
    const { taskIndex, parallelism } = this.context;
    const { size } = await stat(this.resolvedPath).catch(() => ({ size: 0 }));
    const count = this.options.format === 'csv' ? 1 : Math.max(1, Math.ceil(size / this.options.splitBytes));
    if (taskIndex >= count) return;
    const handle = (this.handle = await openFile(this.resolvedPath, this.options.path));
    // Reads are awaited one at a time, and a split reader copies what it keeps: they can share one buffer.
    const buffer = Buffer.allocUnsafe(this.chunkBytes);
    const splits: number[] = [];
    for (let split = taskIndex; split < count; split += parallelism) {
      const start = await lineStartFrom(handle, split * this.options.splitBytes, size);
      const end = split + 1 === count ? Infinity : await lineStartFrom(handle, (split + 1) * this.options.splitBytes, size);
      splits.push(split);
      this.starts.set(split, { offset: start });
      this.readers.push(new FileSplitReader(this.options, handle, buffer, split, start, end, this.context.resume?.get(split)));
    }
    this.splits = splits;
  }

  async poll(maxRecords: number): Promise<SourceBatch | null> {
    while (this.current < this.readers.length && this.readers[this.current].finished) this.current++;
    if (this.current < this.readers.length) return this.readers[this.current].poll(maxRecords);
    // Release the file as soon as it is read, not only when the job closes its sources.
    await this.close();
    return null;
  }

  describePosition(split: number, position: number): string {
    return `${this.options.path}:${this.linesBefore(split) + position}`;
  }

  checkpointPosition(split: number): FilePosition {
    const reader = this.readers.find((candidate) => candidate.split === split);
    if (reader === undefined) throw new RangeError(`file source '${this.options.path}': split ${split} is not read by this reader, which reads splits ${this.splits.join(', ') || 'none'}`);
    return reader.checkpointPosition();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    for (const reader of this.readers) reader.finished = true;
    await handle?.close();
  }

  /** Lines of the file before `split`: counted once, when a position of it is first described (a bad record). */
  private linesBefore(split: number): number {
    const start = this.starts.get(split);
    if (start === undefined || start.offset === 0) return 0;
    start.line ??= countLinesBefore(this.resolvedPath, start.offset);
    return start.line;
  }
}

async function openFile(resolvedPath: string, path: string): Promise<FileHandle> {
  try {
    return await open(resolvedPath, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new Error(`file source: cannot open '${path}' (${resolvedPath}): ${reason}`);
  }
}

/** The offset of the first line that starts at or after `offset`: 0, or just past the first line feed from offset - 1 on. */
async function lineStartFrom(handle: FileHandle, offset: number, size: number): Promise<number> {
  if (offset <= 0) return 0;
  const buffer = Buffer.allocUnsafe(4096);
  for (let at = offset - 1; at < size; at += buffer.length) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
    const lineFeed = buffer.subarray(0, bytesRead).indexOf(LINE_FEED);
    if (lineFeed >= 0) return at + lineFeed + 1;
    if (bytesRead === 0) break;
  }
  return size;
}

/** Line feeds in the first `offset` bytes of the file. */
function countLinesBefore(resolvedPath: string, offset: number): number {
  const descriptor = openSync(resolvedPath, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    for (let at = 0; at < offset; ) {
      const bytesRead = readSync(descriptor, buffer, 0, Math.min(buffer.length, offset - at), at);
      if (bytesRead === 0) break;
      for (let index = buffer.indexOf(LINE_FEED, 0); index >= 0 && index < bytesRead; index = buffer.indexOf(LINE_FEED, index + 1)) lines++;
      at += bytesRead;
    }
    return lines;
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Reads whole lines only: a chunk is decoded up to its last line feed, and the bytes after it wait for the next
 * chunk. A line feed byte never occurs inside a UTF-8 character, also not in an invalid one, so `text` decodes
 * exactly `bytes[0, decodedBytes)` and the n-th line feed of the one is the n-th of the other: that finds the byte
 * offset of a line start for a checkpoint without counting the bytes of every line.
 */
class FileSplitReader {
  /** Byte offset in the file of the next chunk to read. */
  private readOffset = 0;
  /** Bytes read and not yet consumed, from `textOffset` in the file on: those `text` decodes, then an incomplete last line. */
  private bytes = EMPTY_BYTES;
  /** Byte offset in the file of `bytes[0]`, which is `text[0]`. */
  private textOffset = 0;
  /** How many of `bytes` `text` decodes. */
  private decodedBytes = 0;
  /** Decoded text not yet consumed, from `cursor` on. */
  private text = '';
  private cursor = 0;
  /** Line number of the line that starts at `cursor`. */
  private line = 1;
  /** The whole split has been read into `bytes`. */
  private endOfFile = false;
  /** Every line of the split has been polled. */
  finished = false;
  /** Nothing has been decoded yet and reading started at offset 0: a byte order mark here is dropped. */
  private atStart = true;
  private readonly csvParser: CsvRecordParser | undefined;
  /** CSV field names, from the header row or `csv.columns`. */
  private fieldNames: readonly string[] | undefined;

  constructor(
    private readonly options: FileSourceOptions,
    private readonly handle: FileHandle,
    /** Where chunks are read into; shared by the splits of a reader. */
    private readonly buffer: Buffer,
    readonly split: number,
    start: number,
    /** Where the next split starts: the split's lines are those that start before it. */
    private readonly end: number,
    resumed: unknown,
  ) {
    this.csvParser = options.format === 'csv' ? new CsvRecordParser(options.csv.delimiter) : undefined;
    this.fieldNames = options.csv.header ? undefined : options.csv.columns;
    const position = resumed === undefined ? { offset: start, line: 1 } : parseFilePosition(resumed, options.path);
    this.readOffset = position.offset;
    this.textOffset = position.offset;
    this.line = position.line;
    this.atStart = position.offset === 0;
    if (options.csv.header && 'header' in position && position.header !== undefined) this.fieldNames = position.header;
  }

  /** The next batch of the split; the last one (which may be empty) says the split ended. */
  async poll(maxRecords: number): Promise<SourceBatch> {
    const batch = this.csvParser === undefined ? await this.pollLines(maxRecords) : await this.pollCsv(this.csvParser, maxRecords);
    return this.finished ? { ...batch, splitEnded: true } : batch;
  }

  checkpointPosition(): FilePosition {
    const offset = this.textOffset + this.bytesBefore(this.cursor);
    // Field names from `csv.columns` come from the spec again; only a header row's names need keeping.
    if (this.options.csv.header && this.csvParser !== undefined && this.fieldNames !== undefined) {
      return { offset, line: this.line, header: this.fieldNames.slice() };
    }
    return { offset, line: this.line };
  }

  private async pollLines(maxRecords: number): Promise<SourceBatch> {
    const values: string[] = [];
    const positions: number[] = [];
    while (values.length < maxRecords) {
      const text = this.text;
      const start = this.cursor;
      const lineFeed = text.indexOf('\n', start);
      if (lineFeed < 0) {
        if (!this.endOfFile) {
          await this.readChunk();
          continue;
        }
        // The last line has no line break.
        if (start < text.length && !isBlank(text, start, text.length)) {
          values.push(text.slice(start));
          positions.push(this.line);
        }
        this.cursor = text.length;
        this.finished = true;
        break;
      }
      const end = lineFeed > start && text.charCodeAt(lineFeed - 1) === 13 ? lineFeed - 1 : lineFeed;
      if (!isBlank(text, start, end)) {
        values.push(text.slice(start, end));
        positions.push(this.line);
      }
      this.line++;
      this.cursor = lineFeed + 1;
    }
    return { split: this.split, encoding: 'json-text', values, positions, lenient: false };
  }

  private async pollCsv(parser: CsvRecordParser, maxRecords: number): Promise<SourceBatch> {
    const values: Record<string, string>[] = [];
    const positions: number[] = [];
    while (values.length < maxRecords) {
      if (this.cursor >= this.text.length) {
        if (this.endOfFile) {
          this.finished = true;
          break;
        }
        await this.readChunk();
        continue;
      }
      if (!parser.parse(this.text, this.cursor, this.endOfFile)) {
        // The record runs past the text read so far: read on, then parse it again from its start.
        await this.readChunk();
        continue;
      }
      const line = this.line;
      this.cursor = parser.end;
      this.line += parser.lineBreaks;
      const cells = parser.cells;
      if (!parser.quoted && cells.length === 1 && isBlank(cells[0], 0, cells[0].length)) continue;
      const names = this.fieldNames;
      if (names === undefined) {
        this.fieldNames = cells.slice();
        continue;
      }
      const row: Record<string, string> = {};
      // Missing cells stay missing, so the decoder reports the field; extra cells have no name and are dropped.
      const width = Math.min(names.length, cells.length);
      for (let index = 0; index < width; index++) row[names[index]] = cells[index];
      values.push(row);
      positions.push(line);
    }
    return { split: this.split, encoding: 'values', values, positions, lenient: true };
  }

  /** Drops the consumed text, reads the next chunk and appends to the text the lines it completes. */
  private async readChunk(): Promise<void> {
    const consumed = this.bytesBefore(this.cursor);
    // Up to the next split's start: the line that ends there is this split's last.
    const length = Math.min(this.buffer.length, this.end - this.readOffset);
    const { bytesRead } = length <= 0 ? { bytesRead: 0 } : await this.handle.read(this.buffer, 0, length, this.readOffset);
    this.readOffset += bytesRead;
    const kept = this.bytes.subarray(consumed);
    const decoded = this.decodedBytes - consumed;
    this.textOffset += consumed;
    let bytes = kept;
    // Up to the end of the last whole line: only the chunk just read is searched, so a long line costs no rescans.
    let end = decoded;
    if (bytesRead === 0) {
      this.endOfFile = true;
      end = bytes.length;
    } else {
      const chunk = this.buffer.subarray(0, bytesRead);
      const lineFeed = chunk.lastIndexOf(LINE_FEED);
      if (lineFeed >= 0) end = kept.length + lineFeed + 1;
      // A copy: the read buffer is reused.
      bytes = Buffer.concat([kept, chunk]);
    }
    if (this.atStart && end > 0) {
      this.atStart = false;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        bytes = bytes.subarray(3);
        this.textOffset += 3;
        end -= 3;
      }
    }
    const rest = this.cursor === this.text.length ? '' : this.text.slice(this.cursor);
    this.text = end > decoded ? rest + bytes.toString('utf8', decoded, end) : rest;
    this.cursor = 0;
    this.bytes = bytes;
    this.decodedBytes = end;
  }

  /** The offset in `bytes` of `text[cursor]`, which starts a line or ends the text. */
  private bytesBefore(cursor: number): number {
    if (cursor === this.text.length) return this.decodedBytes;
    if (cursor === 0) return 0;
    // The line feed before `cursor` is the one with as many line feeds after it in `bytes` as `text` has after `cursor`.
    let lineFeed = this.decodedBytes;
    for (let after = countLineFeeds(this.text, cursor); after >= 0; after--) lineFeed = this.bytes.lastIndexOf(LINE_FEED, lineFeed - 1);
    return lineFeed + 1;
  }
}

/** Checks a position from a checkpoint. */
function parseFilePosition(value: unknown, path: string): FilePosition {
  const position = value as Partial<FilePosition> | null;
  const valid =
    typeof position === 'object' && position !== null &&
    Number.isSafeInteger(position.offset) && position.offset! >= 0 &&
    Number.isSafeInteger(position.line) && position.line! >= 1 &&
    (position.header === undefined || (Array.isArray(position.header) && position.header.every((name) => typeof name === 'string')));
  if (!valid) {
    throw new Error(`file source '${path}': the checkpoint holds ${JSON.stringify(value)} as its position, not a byte offset and line number; restore another checkpoint, or run without restoring one`);
  }
  return position as FilePosition;
}

/** Whether text[start, end) is only spaces, tabs and carriage returns. */
function isBlank(text: string, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code !== 32 && code !== 9 && code !== 13) return false;
  }
  return true;
}
