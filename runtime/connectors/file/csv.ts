// An RFC 4180 CSV record parser that works on text arriving in chunks: it parses one record at a time and says
// when the text ends inside a record, so the caller can append the next chunk and parse that record again.

const QUOTE = 34; // "
const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;

export class CsvRecordParser {
  /** The cells of the last parsed record. */
  cells: string[] = [];
  /** Offset just past the last parsed record, its line break included. */
  end = 0;
  /** Line breaks the last parsed record spans, inside quoted cells and its own terminating one. */
  lineBreaks = 0;
  /** Whether any cell of the last parsed record was quoted (a quoted empty cell is not a blank line). */
  quoted = false;
  private readonly delimiter: number;
  private readonly delimiterText: string;
  /** The first quote at or after the last search, in `quoteSearchText`; -1 if none. */
  private nextQuote = -1;
  private quoteSearchText: string | undefined;

  constructor(delimiter: string) {
    checkCsvDelimiter(delimiter);
    this.delimiter = delimiter.charCodeAt(0);
    this.delimiterText = delimiter;
  }

  /**
   * Parses the record that starts at `start`. Returns false when the text ends inside the record and more text may
   * follow (`final` false); with `final` the end of the text ends the record. A quote that never closes takes the
   * rest of the text, and characters after a closing quote are kept in the cell, rather than failing the file.
   */
  parse(text: string, start: number, final: boolean): boolean {
    // Fast path: a whole line without quotes splits on the delimiter natively.
    const lineFeed = text.indexOf('\n', start);
    if (lineFeed >= 0) {
      if (text !== this.quoteSearchText || (this.nextQuote >= 0 && this.nextQuote < start)) {
        // Searched once per chunk when the text has no quotes, and once per quoted record otherwise.
        this.quoteSearchText = text;
        this.nextQuote = text.indexOf('"', start);
      }
      if (this.nextQuote < 0 || this.nextQuote > lineFeed) {
        const end = lineFeed > start && text.charCodeAt(lineFeed - 1) === CARRIAGE_RETURN ? lineFeed - 1 : lineFeed;
        this.cells = text.slice(start, end).split(this.delimiterText);
        this.quoted = false;
        this.end = lineFeed + 1;
        this.lineBreaks = 1;
        return true;
      }
    }
    const cells: string[] = [];
    this.cells = cells;
    const length = text.length;
    const delimiter = this.delimiter;
    this.quoted = false;
    let position = start;
    let lineBreaks = 0;
    for (;;) {
      let cell = '';
      if (position < length && text.charCodeAt(position) === QUOTE) {
        this.quoted = true;
        let segment = position + 1;
        for (;;) {
          const quote = text.indexOf('"', segment);
          if (quote < 0) {
            if (!final) return false;
            cell += text.slice(segment);
            position = length;
            break;
          }
          // The quote may be the first of a doubled quote whose second half is in the next chunk.
          if (quote + 1 === length && !final) return false;
          if (text.charCodeAt(quote + 1) === QUOTE) {
            cell += text.slice(segment, quote + 1);
            segment = quote + 2;
            continue;
          }
          cell += text.slice(segment, quote);
          position = quote + 1;
          break;
        }
        lineBreaks += countLineFeeds(cell);
      }
      // The unquoted cell, or what follows a closing quote, up to the next delimiter or line feed.
      let stop = position;
      while (stop < length) {
        const code = text.charCodeAt(stop);
        if (code === delimiter || code === LINE_FEED) break;
        stop++;
      }
      if (stop === length && !final) return false;
      let cellEnd = stop;
      if (stop < length && text.charCodeAt(stop) === LINE_FEED && cellEnd > position && text.charCodeAt(cellEnd - 1) === CARRIAGE_RETURN) cellEnd--;
      if (cellEnd > position) cell += text.slice(position, cellEnd);
      cells.push(cell);
      if (stop === length) {
        this.end = length;
        this.lineBreaks = lineBreaks;
        return true;
      }
      position = stop + 1;
      if (text.charCodeAt(stop) === LINE_FEED) {
        this.end = position;
        this.lineBreaks = lineBreaks + 1;
        return true;
      }
    }
  }
}

/** Line feeds in `text` from `start` on. */
export function countLineFeeds(text: string, start = 0): number {
  let count = 0;
  for (let index = text.indexOf('\n', start); index >= 0; index = text.indexOf('\n', index + 1)) count++;
  return count;
}

/** Throws unless `delimiter` can separate CSV fields: one character other than a quote or a line break. */
export function checkCsvDelimiter(delimiter: string): void {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new Error(`csv delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }
}
