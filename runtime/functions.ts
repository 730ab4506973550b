// The expression library functions that generated code calls as `rt.<name>(…)` (the others print inline; see compiler/ir/functions.ts).
//
// Values arrive as the generated code holds them: int, float and timestamp as numbers (timestamps in epoch
// milliseconds), json as parsed JSON. Arguments are never null unless the library marks the parameter nullable;
// the compiler enforces that, so these functions do not test for it. Dates are UTC throughout. Patterns, units and
// paths are literals of the spec, so their compiled forms are cached by text and each call allocates only its result.

const MS_PER_SECOND = 1_000;
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

/** The remainder with the sign of the divisor, so times before 1970 fall into the right day, hour, … */
function floorMod(value: number, divisor: number): number {
  const remainder = value % divisor;
  return remainder < 0 ? remainder + divisor : remainder;
}

// ---- text

/** Part of `text` from `start` (0-based; negative counts from the end), `length` characters long or to the end. */
export function substr(text: string, start: number, length?: number): string {
  const size = text.length;
  const begin = start < 0 ? Math.max(size + start, 0) : Math.min(start, size);
  const end = length === undefined ? size : length <= 0 ? begin : Math.min(begin + length, size);
  return text.substring(begin, end);
}

/** Every occurrence of `search` replaced; plain text on both sides (no `$&` patterns); an empty search changes nothing. */
export function replace(text: string, search: string, replacement: string): string {
  if (search === '') return text;
  let index = text.indexOf(search);
  if (index < 0) return text;
  let result = '';
  let from = 0;
  while (index >= 0) {
    result += text.substring(from, index) + replacement;
    from = index + search.length;
    index = text.indexOf(search, from);
  }
  return result + text.substring(from);
}

const regexCache = new Map<string, RegExp>();

function compiledRegex(pattern: string): RegExp {
  let regex = regexCache.get(pattern);
  if (regex === undefined) {
    // No `g` or `y` flag: the expression keeps no lastIndex between calls.
    regex = new RegExp(pattern);
    regexCache.set(pattern, regex);
  }
  return regex;
}

/** Whether a part of `text` matches; anchor the pattern with ^ and $ to match the whole text. */
export function regex_match(text: string, pattern: string): boolean {
  return compiledRegex(pattern).test(text);
}

/** The first capture group of the first match (the whole match when the pattern has no group), or null. */
export function regex_extract(text: string, pattern: string): string | null {
  const match = compiledRegex(pattern).exec(text);
  if (match === null) return null;
  return match.length > 1 ? (match[1] ?? null) : match[0];
}

// ---- numbers

/**
 * Rounded half away from zero (2.5 → 3, -2.5 → -3, as SQL's ROUND), to `digits` decimals (negative: tens,
 * hundreds, …). A value within a few ulps of a half counts as the half, so round(1.005, 2) is 1.01 as written.
 */
export function round(value: number, digits?: number): number {
  if (digits === undefined || digits === 0) return value < 0 ? 0 - Math.round(-value) : Math.round(value);
  const magnitude = Math.abs(value);
  const factor = 10 ** Math.abs(digits);
  const scaled = digits > 0 ? magnitude * factor : magnitude / factor;
  let whole = Math.floor(scaled);
  const fraction = scaled - whole;
  if (fraction >= 0.5 || 0.5 - fraction <= scaled * Number.EPSILON * 4) whole += 1;
  const rounded = digits > 0 ? whole / factor : whole * factor;
  return value < 0 ? 0 - rounded : rounded;
}

/** The smaller of two numbers or two strings (by UTF-16 code units); `min(a, b, c)` prints as `min(min(a, b), c)`. */
export function min<T extends number | string>(a: T, b: T): T {
  return b < a ? b : a;
}

/** The larger of two numbers or two strings (by UTF-16 code units). */
export function max<T extends number | string>(a: T, b: T): T {
  return b > a ? b : a;
}

// ---- conversions: null stays null; a value that does not convert becomes null

/** Text as JavaScript's `Number` reads it (surrounding white space allowed); null when it is not a finite number. */
function parseNumber(text: string): number | null {
  if (text.trim() === '') return null;
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : null;
}

export function to_string(value: string | number | boolean): string;
export function to_string(value: unknown): string | null;
/** Strings as themselves, numbers as JavaScript writes them, true/false, other json values as JSON text. */
export function to_string(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return null;
    default:
      return value === null ? null : JSON.stringify(value);
  }
}

export function to_int(value: number | boolean): number;
export function to_int(value: unknown): number | null;
/** Numbers truncated toward zero, true/false as 1/0, numeric text parsed and truncated; otherwise null. */
export function to_int(value: unknown): number | null {
  const number = to_float(value);
  return number === null ? null : Math.trunc(number);
}

export function to_float(value: number | boolean): number;
export function to_float(value: unknown): number | null;
/** Numbers as they are, true/false as 1/0, numeric text parsed; otherwise null. */
export function to_float(value: unknown): number | null {
  switch (typeof value) {
    case 'number':
      return value;
    case 'boolean':
      return value ? 1 : 0;
    case 'string':
      return parseNumber(value);
    default:
      return null;
  }
}

export function to_timestamp(value: number): number;
export function to_timestamp(value: unknown): number | null;
/** Numbers as epoch milliseconds; text as epoch milliseconds or ISO-8601 (UTC unless it names an offset); otherwise null. */
export function to_timestamp(value: unknown): number | null {
  if (typeof value === 'number') return Math.floor(value);
  if (typeof value !== 'string') return null;
  if (/^\s*-?\d+\s*$/.test(value)) return Number(value);
  return parseIsoTimestamp(value);
}

const ISO_TIMESTAMP = /^\s*([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?\s*$/;

/** ISO-8601 date or date-time; without an offset it is UTC (never the machine's zone, so results do not depend on where pipec runs). */
export function parseIsoTimestamp(text: string): number | null {
  const match = ISO_TIMESTAMP.exec(text);
  if (match === null) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = match[4] === undefined ? 0 : Number(match[4]);
  const minute = match[5] === undefined ? 0 : Number(match[5]);
  const second = match[6] === undefined ? 0 : Number(match[6]);
  const millisecond = match[7] === undefined ? 0 : Number(match[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  const offsetMinutes = match[9] === undefined ? 0 : (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11] ?? '0'));
  const days = daysFromCivil(year, month, day);
  return days * MS_PER_DAY + hour * MS_PER_HOUR + minute * MS_PER_MINUTE + second * MS_PER_SECOND + millisecond - offsetMinutes * MS_PER_MINUTE;
}

// ---- json

/**
 * `value.key` / `value[index]` on a json value: the member, or null when the value is not an object or array or
 * lacks it. Only own properties count, so `payload.constructor` is null rather than a function.
 */
export function json_member(value: unknown, key: string | number): unknown {
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    const index = typeof key === 'number' ? key : /^\d+$/.test(key) ? Number(key) : -1;
    return index >= 0 && index < value.length ? (value[index] ?? null) : null;
  }
  const name = typeof key === 'number' ? String(key) : key;
  return Object.hasOwn(value, name) ? ((value as Record<string, unknown>)[name] ?? null) : null;
}

const pathCache = new Map<string, readonly (string | number)[]>();

function compiledPath(path: string): readonly (string | number)[] {
  let keys = pathCache.get(path);
  if (keys === undefined) {
    keys = path.split('.').map((key) => (/^\d+$/.test(key) ? Number(key) : key));
    pathCache.set(path, keys);
  }
  return keys;
}

/** The value at a dotted path (`'items.0.sku'`) in a json value, or in JSON text (parsed on each call); null when absent. */
export function json_get(value: unknown, path: string): unknown {
  let current: unknown = value;
  if (typeof current === 'string') {
    try {
      current = JSON.parse(current);
    } catch {
      return null;
    }
  }
  const keys = compiledPath(path);
  for (let i = 0; i < keys.length && current !== null; i++) current = json_member(current, keys[i]);
  return current ?? null;
}

// ---- time (UTC)

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// The civil date of the last `civilFromTime` call: module scratch instead of a returned object, so that the
// date functions allocate nothing per record.
let civilYear = 1970;
let civilMonth = 1;
let civilDay = 1;

/** Sets civilYear, civilMonth, civilDay to the UTC date of `time` (H. Hinnant's civil_from_days). */
function civilFromTime(time: number): void {
  const z = Math.floor(time / MS_PER_DAY) + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  civilDay = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  civilMonth = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  civilYear = yearOfEra + era * 400 + (civilMonth <= 2 ? 1 : 0);
}

export type DateTruncUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** The start of the unit `time` falls in, in UTC; weeks start on Monday (ISO 8601). */
export function date_trunc(unit: DateTruncUnit, time: number): number {
  switch (unit) {
    case 'second':
      return time - floorMod(time, MS_PER_SECOND);
    case 'minute':
      return time - floorMod(time, MS_PER_MINUTE);
    case 'hour':
      return time - floorMod(time, MS_PER_HOUR);
    case 'day':
      return time - floorMod(time, MS_PER_DAY);
    case 'week':
      return time - floorMod(time, MS_PER_DAY) - (day_of_week(time) - 1) * MS_PER_DAY;
    case 'month':
      civilFromTime(time);
      return daysFromCivil(civilYear, civilMonth, 1) * MS_PER_DAY;
    case 'year':
      civilFromTime(time);
      return daysFromCivil(civilYear, 1, 1) * MS_PER_DAY;
  }
}

/** 0–23. */
export function hour(time: number): number {
  return Math.floor(floorMod(time, MS_PER_DAY) / MS_PER_HOUR);
}

/** 0–59. */
export function minute(time: number): number {
  return Math.floor(floorMod(time, MS_PER_HOUR) / MS_PER_MINUTE);
}

/** Day of the month, 1–31. */
export function day(time: number): number {
  civilFromTime(time);
  return civilDay;
}

/** 1 (January) – 12. */
export function month(time: number): number {
  civilFromTime(time);
  return civilMonth;
}

export function year(time: number): number {
  civilFromTime(time);
  return civilYear;
}

/** ISO 8601: 1 = Monday … 7 = Sunday. 1970-01-01 was a Thursday (4). */
export function day_of_week(time: number): number {
  return floorMod(Math.floor(time / MS_PER_DAY) + 3, 7) + 1;
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** One piece of a compiled date pattern: literal text, or a pattern letter repeated `width` times. */
type DatePatternPart = string | { readonly letter: string; readonly width: number };

const datePatternCache = new Map<string, readonly DatePatternPart[]>();

/** Splits a pattern into letter runs and literal text ('quoted', '' for a quote); the compiler has validated it. */
function compiledDatePattern(pattern: string): readonly DatePatternPart[] {
  let parts = datePatternCache.get(pattern);
  if (parts !== undefined) return parts;
  const compiled: DatePatternPart[] = [];
  let i = 0;
  while (i < pattern.length) {
    const character = pattern[i];
    if (character === "'") {
      if (pattern[i + 1] === "'") {
        compiled.push("'");
        i += 2;
        continue;
      }
      // Quoted text runs to the next lone quote; '' inside it is a quote too.
      let quoted = '';
      i++;
      while (i < pattern.length) {
        if (pattern[i] === "'") {
          if (pattern[i + 1] !== "'") break;
          i++;
        }
        quoted += pattern[i];
        i++;
      }
      compiled.push(quoted);
      i++;
    } else if (/[A-Za-z]/.test(character)) {
      let width = 1;
      while (pattern[i + width] === character) width++;
      compiled.push({ letter: character, width });
      i += width;
    } else {
      compiled.push(character);
      i++;
    }
  }
  parts = compiled;
  datePatternCache.set(pattern, parts);
  return parts;
}

function pad(value: number, width: number): string {
  const digits = String(value);
  return digits.length >= width ? digits : '0'.repeat(width - digits.length) + digits;
}

/**
 * `time` as text in UTC: yyyy (year) yy (two digits) M MM MMM MMMM (month) d dd (day) E EEE EEEE (weekday)
 * H HH (hour) m mm (minute) s ss (second) S… (fraction of a second) X (zone, always Z); 'text' is copied.
 */
export function date_format(time: number, pattern: string): string {
  const parts = compiledDatePattern(pattern);
  civilFromTime(time);
  let text = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (typeof part === 'string') {
      text += part;
      continue;
    }
    const width = part.width;
    switch (part.letter) {
      case 'y':
        text += width === 2 ? pad(floorMod(civilYear, 100), 2) : pad(civilYear, width);
        break;
      case 'M':
        text += width >= 4 ? MONTH_NAMES[civilMonth - 1] : width === 3 ? MONTH_NAMES[civilMonth - 1].slice(0, 3) : pad(civilMonth, width);
        break;
      case 'd':
        text += pad(civilDay, width);
        break;
      case 'E':
        text += width >= 4 ? WEEKDAY_NAMES[day_of_week(time) - 1] : WEEKDAY_NAMES[day_of_week(time) - 1].slice(0, 3);
        break;
      case 'H':
        text += pad(hour(time), width);
        break;
      case 'm':
        text += pad(minute(time), width);
        break;
      case 's':
        text += pad(Math.floor(floorMod(time, MS_PER_MINUTE) / MS_PER_SECOND), width);
        break;
      case 'S': {
        // A fraction of a second to `width` digits, truncated (S: tenths, SSS: milliseconds).
        const milliseconds = pad(Math.floor(floorMod(time, MS_PER_SECOND)), 3);
        text += width <= 3 ? milliseconds.slice(0, width) : milliseconds + '0'.repeat(width - 3);
        break;
      }
      case 'X':
        text += 'Z';
        break;
      default:
        text += part.letter.repeat(width);
    }
  }
  return text;
}
