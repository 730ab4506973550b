// Where each character of a YAML string scalar's value sits in the file, across quotes, escapes, folded lines and block indentation.

import { Scalar } from 'yaml';

/**
 * For each index of `value` (and one past its end), the offset in `text` of the character it came from.
 * The value's characters appear in the source in order; what differs is whitespace (folding, indentation)
 * and escapes, so one forward walk over both aligns them.
 */
export function alignScalar(text: string, scalar: Scalar, value: string): number[] {
  const range = scalar.range;
  if (!range) return Array.from({ length: value.length + 1 }, () => 0);
  const end = range[1];
  const style = scalar.type;
  let position = contentStart(text, scalar);
  const doubleQuoted = style === Scalar.QUOTE_DOUBLE;
  const singleQuoted = style === Scalar.QUOTE_SINGLE;
  const offsets = new Array<number>(value.length + 1);
  let index = 0;
  while (index < value.length) {
    if (position >= end) {
      offsets[index++] = end;
      continue;
    }
    const wanted = value[index];
    const found = text[position];
    if (doubleQuoted && found === '\\') {
      const next = text[position + 1];
      if (next === '\n' || next === '\r') {
        // An escaped line break joins the lines and yields no character.
        position += 2;
        while (position < end && isWhitespace(text[position])) position++;
        continue;
      }
      const produced = escapeLength(next);
      offsets[index++] = position;
      // `\U` beyond the basic plane gives two UTF-16 units, both at the escape.
      if (next === 'U' && index < value.length && isLowSurrogate(value.charCodeAt(index))) offsets[index++] = position;
      position += produced;
      continue;
    }
    if (singleQuoted && found === "'" && text[position + 1] === "'") {
      offsets[index++] = position;
      position += 2;
      continue;
    }
    if (found === wanted) {
      offsets[index++] = position++;
      continue;
    }
    if (isWhitespace(found)) {
      // Indentation or a folded line break in the source that the value does not keep.
      position++;
      continue;
    }
    if (isWhitespace(wanted)) {
      // A line break folded into a space: it stands where the next line's text starts.
      offsets[index++] = position;
      continue;
    }
    // The value and the source disagree in a way folding does not explain: count on from here.
    while (index < value.length) offsets[index++] = Math.min(position++, end);
  }
  offsets[value.length] = Math.min(position, end);
  return offsets;
}

/** Offset of the first character of a scalar's content: after an opening quote, or at the first content line of a block scalar. */
export function contentStart(text: string, scalar: Scalar): number {
  const range = scalar.range;
  if (!range) return 0;
  const start = range[0];
  switch (scalar.type) {
    case Scalar.QUOTE_DOUBLE:
    case Scalar.QUOTE_SINGLE:
      return start + 1;
    case Scalar.BLOCK_LITERAL:
    case Scalar.BLOCK_FOLDED: {
      // Skip the header (`|`, `>-`, a comment), then blank lines and the indentation of the first content line.
      let position = text.indexOf('\n', start);
      if (position === -1 || position >= range[1]) return range[1];
      while (position < range[1] && isWhitespace(text[position])) position++;
      return position;
    }
    default:
      return start;
  }
}

function isWhitespace(character: string): boolean {
  return character === ' ' || character === '\t' || character === '\n' || character === '\r';
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Source length of a double-quoted escape starting with `\` followed by `letter`. */
function escapeLength(letter: string | undefined): number {
  switch (letter) {
    case 'x':
      return 4;
    case 'u':
      return 6;
    case 'U':
      return 10;
    default:
      return 2;
  }
}
