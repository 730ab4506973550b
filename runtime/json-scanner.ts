// Reads one line of JSON text in place, for the parsers that pipec generates per record type (compiler/emit): the
// common line, an object of plain values, is read with charCodeAt and no intermediate object.
//
// The scanner never decides anything JSON.parse and the decoder would decide otherwise: on anything beyond the common
// case (an escape in a key or in a declared field's string, a declared field of the wrong type or null where the
// type wants a value, text JSON.parse rejects) it gives up, and the caller reads the line with JSON.parse and the
// record's decoder, which also say what is wrong with it. Values of keys the type does not declare are checked
// against the JSON grammar and skipped, nested or not, without being built.

import { toTimestamp } from './decode.ts';

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const ONE = 0x31;
const NINE = 0x39;
const COLON = 0x3a;
const UPPER_A = 0x41;
const UPPER_E = 0x45;
const UPPER_F = 0x46;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const LOWER_A = 0x61;
const LOWER_B = 0x62;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Skipped values nested deeper than this give up: the scanner recurses, JSON.parse does not. */
const MAX_NESTING = 64;

/**
 * A number of at most this many digits is an exact double, and so is its fraction's power of ten up to
 * 10^MAX_EXACT_SCALE: their quotient is then the correctly rounded value, which is what JSON.parse gives (Clinger's
 * fast path, as in strtod). Other numbers are converted by Number(), which rounds as JSON.parse does.
 */
const MAX_EXACT_DIGITS = 15;
const MAX_EXACT_SCALE = 22;
const POWERS_OF_TEN = Array.from({ length: MAX_EXACT_SCALE + 1 }, (_, exponent) => Number(`1e${exponent}`));

/**
 * How a generated parser reads a line: `startObject`, then per member `nextKey`, `readKey` for the declared keys that
 * start with `keyInitial` until one matches and a value reader (`string`, `optionalInt`, …) for it, or `skipMember`
 * when none does; then `gaveUp` says whether the line was the common case. One scanner serves every line of a thread
 * in turn.
 */
export class JsonScanner {
  /** The line is not the common case: what the scanner returned since startObject is a placeholder. */
  gaveUp = false;
  private text = '';
  /** Where the scanner is: at a key's opening quote after nextKey, at its value after readKey, after a value read. */
  private at = 0;
  private firstMember = true;

  startObject(line: string): void {
    this.text = line;
    this.gaveUp = false;
    this.firstMember = true;
    const at = spaceEnd(line, 0);
    if (line.charCodeAt(at) === OPEN_BRACE) this.at = at + 1;
    else this.gaveUp = true;
  }

  /** Moves to the next member's key: false at the end of the object, or when the line gave up. */
  nextKey(): boolean {
    if (this.gaveUp) return false;
    const text = this.text;
    let at = spaceEnd(text, this.at);
    const code = text.charCodeAt(at);
    if (code === CLOSE_BRACE) return this.endObject(at + 1);
    if (this.firstMember) this.firstMember = false;
    else if (code === COMMA) at = spaceEnd(text, at + 1);
    else return this.giveUp();
    if (text.charCodeAt(at) !== QUOTE) return this.giveUp();
    this.at = at;
    return true;
  }

  /** The key's first character: a generated parser switches on it, then tries the declared keys that start with it. */
  keyInitial(): string {
    return this.text[this.at + 1];
  }

  /**
   * Whether the key is `name` (a declared field's, without characters that JSON escapes); if it is, moves to its
   * value. Comparing in place, without finding the key's end first, reads a key without a loop of our own.
   */
  readKey(name: string): boolean {
    const text = this.text;
    const start = this.at + 1;
    const end = start + name.length;
    if (text.charCodeAt(start) !== name.charCodeAt(0) || text.charCodeAt(end) !== QUOTE || !text.startsWith(name, start)) return false;
    this.toValue(end + 1);
    return true;
  }

  /** Skips a member whose key is none of the declared ones; an escaped key may spell one of them, so it gives up. */
  skipMember(): void {
    const keyEnd = plainStringEnd(this.text, this.at + 1);
    if (keyEnd < 0) this.gaveUp = true;
    else if (this.toValue(keyEnd + 1)) this.skipValue(0);
  }

  string(): string {
    const { text, at } = this;
    if (text.charCodeAt(at) === QUOTE) {
      const end = plainStringEnd(text, at + 1);
      if (end >= 0) {
        this.at = end + 1;
        return text.slice(at + 1, end);
      }
    }
    this.gaveUp = true;
    return '';
  }

  optionalString(): string | null {
    return this.nullValue() ? null : this.string();
  }

  int(): number {
    const value = this.number();
    if (Number.isInteger(value)) return value;
    this.gaveUp = true;
    return 0;
  }

  optionalInt(): number | null {
    return this.nullValue() ? null : this.int();
  }

  float(): number {
    const value = this.number();
    if (Number.isFinite(value)) return value;
    this.gaveUp = true;
    return 0;
  }

  optionalFloat(): number | null {
    return this.nullValue() ? null : this.float();
  }

  bool(): boolean {
    const { text, at } = this;
    if (text.startsWith('true', at)) {
      this.at = at + 4;
      return true;
    }
    if (text.startsWith('false', at)) {
      this.at = at + 5;
      return false;
    }
    this.gaveUp = true;
    return false;
  }

  optionalBool(): boolean | null {
    return this.nullValue() ? null : this.bool();
  }

  /** Epoch ms from a number, or from a string as the decoder converts it (digits, or ISO-8601). */
  timestamp(): number {
    if (this.text.charCodeAt(this.at) !== QUOTE) return this.float();
    const value = toTimestamp(this.string());
    if (value !== undefined) return value;
    this.gaveUp = true;
    return 0;
  }

  optionalTimestamp(): number | null {
    return this.nullValue() ? null : this.timestamp();
  }

  /** Reads a `null` if there is one. */
  private nullValue(): boolean {
    if (!this.text.startsWith('null', this.at)) return false;
    this.at += 4;
    return true;
  }

  /**
   * Reads a number, `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, converting it as it goes; NaN, and the
   * line gives up, when none starts here.
   */
  private number(): number {
    const text = this.text;
    const start = this.at;
    let at = start;
    let code = text.charCodeAt(at);
    const negative = code === MINUS;
    if (negative) code = text.charCodeAt(++at);
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    if (code === ZERO) {
      code = text.charCodeAt(++at);
    } else if (code >= ONE && code <= NINE) {
      do {
        mantissa = mantissa * 10 + (code - ZERO);
        digits++;
        code = text.charCodeAt(++at);
      } while (code >= ZERO && code <= NINE);
    } else {
      return this.notNumber();
    }
    if (code === DOT) {
      code = text.charCodeAt(++at);
      if (!(code >= ZERO && code <= NINE)) return this.notNumber();
      do {
        mantissa = mantissa * 10 + (code - ZERO);
        digits++;
        scale++;
        code = text.charCodeAt(++at);
      } while (code >= ZERO && code <= NINE);
    }
    let exact = digits <= MAX_EXACT_DIGITS && scale <= MAX_EXACT_SCALE;
    if (code === LOWER_E || code === UPPER_E) {
      code = text.charCodeAt(++at);
      if (code === PLUS || code === MINUS) code = text.charCodeAt(++at);
      if (!(code >= ZERO && code <= NINE)) return this.notNumber();
      do code = text.charCodeAt(++at);
      while (code >= ZERO && code <= NINE);
      exact = false;
    }
    this.at = at;
    if (!exact) return Number(text.slice(start, at));
    const magnitude = scale === 0 ? mantissa : mantissa / POWERS_OF_TEN[scale];
    return negative ? -magnitude : magnitude;
  }

  private notNumber(): number {
    this.gaveUp = true;
    return NaN;
  }

  /** Moves past the colon after a key that ends before `at`, to the value; false when there is no colon. */
  private toValue(at: number): boolean {
    const text = this.text;
    at = spaceEnd(text, at);
    if (text.charCodeAt(at) !== COLON) return this.giveUp();
    this.at = spaceEnd(text, at + 1);
    return true;
  }

  /** Skips any JSON value, checking it against the grammar; one nested deeper than MAX_NESTING gives up. */
  private skipValue(depth: number): void {
    const { text, at } = this;
    switch (text.charCodeAt(at)) {
      case QUOTE: {
        const end = stringEnd(text, at + 1);
        if (end < 0) this.gaveUp = true;
        else this.at = end + 1;
        return;
      }
      case OPEN_BRACE:
        if (depth < MAX_NESTING) this.skipContainer(CLOSE_BRACE, depth + 1);
        else this.gaveUp = true;
        return;
      case OPEN_BRACKET:
        if (depth < MAX_NESTING) this.skipContainer(CLOSE_BRACKET, depth + 1);
        else this.gaveUp = true;
        return;
      case LOWER_T:
        this.skipLiteral('true');
        return;
      case LOWER_F:
        this.skipLiteral('false');
        return;
      case LOWER_N:
        this.skipLiteral('null');
        return;
      default:
        this.number();
    }
  }

  /** Skips the members of an object (`close` is `}`) or the elements of an array (`]`), and what closes them. */
  private skipContainer(close: number, depth: number): void {
    const text = this.text;
    let at = spaceEnd(text, this.at + 1);
    if (text.charCodeAt(at) === close) {
      this.at = at + 1;
      return;
    }
    for (;;) {
      if (close === CLOSE_BRACE) {
        const keyEnd = text.charCodeAt(at) === QUOTE ? stringEnd(text, at + 1) : -1;
        if (keyEnd < 0 || !this.toValue(keyEnd + 1)) {
          this.gaveUp = true;
          return;
        }
      } else {
        this.at = at;
      }
      this.skipValue(depth);
      if (this.gaveUp) return;
      at = spaceEnd(text, this.at);
      const separator = text.charCodeAt(at);
      if (separator === close) {
        this.at = at + 1;
        return;
      }
      if (separator !== COMMA) {
        this.gaveUp = true;
        return;
      }
      at = spaceEnd(text, at + 1);
    }
  }

  private skipLiteral(literal: string): void {
    if (this.text.startsWith(literal, this.at)) this.at += literal.length;
    else this.gaveUp = true;
  }

  /** The object closed before `at`: the line must end there, but for whitespace. Always false, for nextKey. */
  private endObject(at: number): false {
    if (spaceEnd(this.text, at) !== this.text.length) this.gaveUp = true;
    return false;
  }

  private giveUp(): false {
    this.gaveUp = true;
    return false;
  }
}

/** The first index from `at` on that is not JSON whitespace (space, tab, line feed, carriage return). */
function spaceEnd(text: string, at: number): number {
  for (;;) {
    const code = text.charCodeAt(at);
    if (code !== SPACE && code !== TAB && code !== LINE_FEED && code !== CARRIAGE_RETURN) return at;
    at++;
  }
}

/**
 * Where the string whose characters start at `at` closes (the index of its quote), or -1 when an escape or a
 * control character comes first, or no quote does: the text between the quotes is then the string's value.
 */
function plainStringEnd(text: string, at: number): number {
  for (let index = at; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) return index;
    if (code === BACKSLASH || code < SPACE) return -1;
  }
  return -1;
}

/** As plainStringEnd, but a valid escape is passed over: only for strings that are skipped. */
function stringEnd(text: string, at: number): number {
  for (let index = at; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) return index;
    if (code < SPACE) return -1;
    if (code === BACKSLASH) {
      index++;
      const escaped = text.charCodeAt(index);
      if (escaped === LOWER_U) {
        for (let digit = 1; digit <= 4; digit++) if (!isHexDigit(text.charCodeAt(index + digit))) return -1;
        index += 4;
      } else if (!isSingleEscape(escaped)) {
        return -1;
      }
    }
  }
  return -1;
}

/** `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`. */
function isSingleEscape(code: number): boolean {
  return code === QUOTE || code === BACKSLASH || code === SLASH || code === LOWER_B || code === LOWER_F || code === LOWER_N || code === LOWER_R || code === LOWER_T;
}

function isHexDigit(code: number): boolean {
  return (code >= ZERO && code <= NINE) || (code >= UPPER_A && code <= UPPER_F) || (code >= LOWER_A && code <= LOWER_F);
}
