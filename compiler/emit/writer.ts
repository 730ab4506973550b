// A small indented text writer that remembers, for each line, the spec offset it came from (for the source map).

export class CodeWriter {
  private readonly lines: string[] = [];
  /** Per line, the offset in the spec file of the YAML node the line was generated for, or -1. */
  private readonly origins: number[] = [];
  private depth = 0;
  private origin = -1;

  line(text = ''): this {
    this.lines.push(text === '' ? '' : '  '.repeat(this.depth) + text);
    this.origins.push(this.origin);
    return this;
  }

  /** Lines written inside `body` are indented one level deeper. */
  indented(body: () => void): this {
    this.depth++;
    body();
    this.depth--;
    return this;
  }

  /** `head {` … `}` with `body` indented between; a head that ends in `(`, `[` or `{` opens the block itself. */
  block(head: string, body: () => void, tail = '}'): this {
    this.line(head === '' ? '{' : /[([{]$/.test(head) ? head : `${head} {`);
    this.indented(body);
    return this.line(tail);
  }

  /** Lines written inside `body` map to the spec offset `offset`. */
  from(offset: number, body: () => void): this {
    const outer = this.origin;
    this.origin = offset;
    body();
    this.origin = outer;
    return this;
  }

  get lineCount(): number {
    return this.lines.length;
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }

  lineOrigins(): readonly number[] {
    return this.origins;
  }
}
