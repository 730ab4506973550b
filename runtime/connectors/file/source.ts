// The `file` source connector: JSON lines or CSV from a local file, read in large chunks.

import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SourceBatch, SourceContext, SourceReader } from '../../api.ts';
import { countLineFeeds, CsvRecordParser } from './csv.ts';

export type FileFormat = 'json' | 'csv';

export interface FileSourceOptions {
  /** As written in the spec; resolved against the context's cwd. */
  readonly path: string;
  readonly format: FileFormat;
  readonly csv: CsvOptions;
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
const LINE_FEED = 10;
const EMPTY_BYTES = Buffer.alloc(0);

export function parseFileSourceOptions(options: Readonly<Record<string, unknown>>): FileSourceOptions {
  const { path, format = 'json', csv = {} } = options;
  if (typeof path !== 'string' || path === '') throw new Error(`file source: option 'path' must be a file path, got ${JSON.stringify(path)}`);
  if (format !== 'json' && format !== 'csv') throw new Error(`file source '${path}': option 'format' must be json or csv, got ${JSON.stringify(format)}`);
  if (typeof csv !== 'object' || csv === null) throw new Error(`file source '${path}': option 'csv' must be an object`);
  const { delimiter = ',', header = true, columns } = csv as Record<string, unknown>;
  if (typeof delimiter !== 'string') throw new Error(`file source '${path}': option 'csv.delimiter' must be a string`);
  if (typeof header !== 'boolean') throw new Error(`file source '${path}': option 'csv.header' must be true or false`);
  if (columns !== undefined && !(Array.isArray(columns) && columns.every((column) => typeof column === 'string'))) {
    throw new Error(`file source '${path}': option 'csv.columns' must be a list of field names`);
  }
  if (format === 'csv' && !header && columns === undefined) {
    throw new Error(`file source '${path}': a csv file without a header row needs 'csv.columns' to name its fields`);
  }
  return { path, format, csv: { delimiter, header, columns: columns as string[] | undefined } };
}

/**
 * One split (0) per file, read by task 0; other tasks read nothing. JSON lines come out as `json-text` batches of
 * line strings, CSV rows as `values` batches of string records (lenient); positions are 1-based line numbers, for
 * a CSV row the line it starts on. Blank lines are skipped but counted. With `context.resume`, reading starts at
 * the byte offset and line of the checkpoint's FilePosition.
 */
export function createFileReader(options: Readonly<Record<string, unknown>>, context: SourceContext, tuning: FileReadTuning = {}): SourceReader {
  const parsed = parseFileSourceOptions(options);
  return new FileReader(parsed, context, tuning.chunkBytes ?? DEFAULT_CHUNK_BYTES);
}

/**
 * Reads whole lines only: a chunk is decoded up to its last line feed, and the bytes after it wait for the next
 * chunk. A line feed byte never occurs inside a UTF-8 character, also not in an invalid one, so `text` decodes
 * exactly `bytes[0, decodedBytes)` and the n-th line feed of the one is the n-th of the other: that finds the byte
 * offset of a line start for a checkpoint without counting the bytes of every line.
 */
class FileReader implements SourceReader {
  readonly splits: readonly number[];
  private readonly options: FileSourceOptions;
  private readonly resolvedPath: string;
  private readonly buffer: Buffer;
  private handle: FileHandle | undefined;
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
  /** The whole file has been read into `bytes`. */
  private endOfFile = false;
  private finished = false;
  /** Nothing has been decoded yet and reading started at offset 0: a byte order mark here is dropped. */
  private atStart = true;
  private readonly csvParser: CsvRecordParser | undefined;
  /** CSV field names, from the header row or `csv.columns`. */
  private fieldNames: readonly string[] | undefined;

  constructor(options: FileSourceOptions, context: SourceContext, chunkBytes: number) {
    this.options = options;
    this.resolvedPath = resolve(context.cwd, options.path);
    this.splits = context.taskIndex === 0 ? [0] : [];
    this.finished = context.taskIndex !== 0;
    this.buffer = Buffer.allocUnsafe(this.finished ? 0 : chunkBytes);
    this.csvParser = options.format === 'csv' ? new CsvRecordParser(options.csv.delimiter) : undefined;
    this.fieldNames = options.csv.header ? undefined : options.csv.columns;
    const resumed = context.resume?.get(0);
    if (resumed !== undefined && !this.finished) {
      const position = parseFilePosition(resumed, options.path);
      this.readOffset = position.offset;
      this.textOffset = position.offset;
      this.line = position.line;
      this.atStart = position.offset === 0;
      if (options.csv.header && position.header !== undefined) this.fieldNames = position.header;
    }
  }

  async open(): Promise<void> {
    if (this.finished) return;
    try {
      this.handle = await open(this.resolvedPath, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
      throw new Error(`file source: cannot open '${this.options.path}' (${this.resolvedPath}): ${reason}`);
    }
  }

  async poll(maxRecords: number): Promise<SourceBatch | null> {
    if (this.finished) return null;
    const batch = this.csvParser === undefined ? await this.pollLines(maxRecords) : await this.pollCsv(this.csvParser, maxRecords);
    if (batch.values.length === 0 && this.finished) return null;
    return batch;
  }

  describePosition(_split: number, position: number): string {
    return `${this.options.path}:${position}`;
  }

  checkpointPosition(split: number): FilePosition {
    if (split !== 0 || this.splits.length === 0) {
      throw new RangeError(`file source '${this.options.path}': split ${split} is not read by this reader (a file is one split, 0, read by task 0)`);
    }
    const offset = this.textOffset + this.bytesBefore(this.cursor);
    // Field names from `csv.columns` come from the spec again; only a header row's names need keeping.
    if (this.options.csv.header && this.csvParser !== undefined && this.fieldNames !== undefined) {
      return { offset, line: this.line, header: this.fieldNames.slice() };
    }
    return { offset, line: this.line };
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.finished = true;
    await handle?.close();
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
    return { split: 0, encoding: 'json-text', values, positions, lenient: false };
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
    return { split: 0, encoding: 'values', values, positions, lenient: true };
  }

  /** Drops the consumed text, reads the next chunk and appends to the text the lines it completes. */
  private async readChunk(): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) throw new Error(`file source '${this.options.path}': poll() before open()`);
    const consumed = this.bytesBefore(this.cursor);
    const { bytesRead } = await handle.read(this.buffer, 0, this.buffer.length, this.readOffset);
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
      // Release the file as soon as it is read, not only when the job closes its sources.
      this.handle = undefined;
      await handle.close();
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
