// The parser generated per record type against JSON.parse and the generated decoder: a line the parser reads gives
// exactly the record they give (same fields, same order, same values, -0 included), and every other line is left to
// them (the parser returns undefined), on a corpus of edge cases and on thousands of random lines.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emit } from '../../../compiler/emit/index.ts';
import { stateSchema } from '../../../compiler/state/index.ts';
import { JsonScanner, RecordDecoder, type JobDefinition, type SourceDefinition } from '../../../runtime/index.ts';
import { checked, render } from '../../support/compile.ts';
import { seededRandom } from '../../support/random.ts';

const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url));

/** Every primitive type the parser reads, required and optional, and names that a local cannot take as they are. */
const SPEC = `pipeline: parsing
types:
  Reading:
    sensor: string
    label: string?
    count: int
    level: int?
    value: float
    spread: float?
    ok: bool
    checked: bool?
    ts: timestamp
    seen: timestamp?
    constructor: string?
    default: string?
    line: int?
sources:
  readings: { connector: file, path: readings.jsonl, type: Reading }
sinks:
  out: { from: readings, connector: stdout }
`;

type FieldKind = 'string' | 'int' | 'float' | 'bool' | 'timestamp';

const FIELDS: readonly { readonly name: string; readonly kind: FieldKind; readonly optional: boolean }[] = [
  { name: 'sensor', kind: 'string', optional: false },
  { name: 'label', kind: 'string', optional: true },
  { name: 'count', kind: 'int', optional: false },
  { name: 'level', kind: 'int', optional: true },
  { name: 'value', kind: 'float', optional: false },
  { name: 'spread', kind: 'float', optional: true },
  { name: 'ok', kind: 'bool', optional: false },
  { name: 'checked', kind: 'bool', optional: true },
  { name: 'ts', kind: 'timestamp', optional: false },
  { name: 'seen', kind: 'timestamp', optional: true },
  { name: 'constructor', kind: 'string', optional: true },
  { name: 'default', kind: 'string', optional: true },
  { name: 'line', kind: 'int', optional: true },
];

/** The required fields and `constructor`, which the decoder does not read as null when it is missing. */
const BASE = '{"sensor":"s-1","count":3,"value":2.5,"ok":true,"ts":1767225600000,"constructor":"c"}';

const directories: string[] = [];
let source: SourceDefinition;
const scanner = new JsonScanner();

beforeAll(async () => {
  const { typed, diagnostics } = checked(SPEC);
  if (typed === undefined) throw new Error(`spec does not check:\n${render(diagnostics)}`);
  const directory = mkdtempSync(join(tmpdir(), 'pipec-parser-'));
  directories.push(directory);
  const module = join(directory, 'parsing.ts');
  const { code, sourceMap } = emit(typed, stateSchema(typed), { specPath: 'parsing.yaml', runtimeImport: RUNTIME, fileName: 'parsing.ts', specFromModule: 'parsing.yaml', pipecVersion: 'test' });
  writeFileSync(module, code);
  writeFileSync(`${module}.map`, sourceMap);
  writeFileSync(join(directory, 'parsing.yaml'), SPEC);
  source = ((await import(pathToFileURL(module).href)) as { default: JobDefinition }).default.sources[0];
});

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

type Outcome = { readonly record: Record<string, unknown> } | { readonly error: string };

/** What the runtime did before the parser: JSON.parse, then the decoder. */
function parsedAndDecoded(line: string): Outcome {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    return { error: `unparsable JSON: ${(error as Error).message}` };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { error: 'expected a JSON object' };
  const decoder = new RecordDecoder(false);
  const record = source.decode(raw as Record<string, unknown>, decoder) as Record<string, unknown>;
  return decoder.error === undefined ? { record } : { error: decoder.error };
}

/**
 * The parser's record for `line`, after checking it is JSON.parse and the decoder's to the bit and in field order;
 * undefined when the parser gave the line up.
 */
function parsed(line: string): Record<string, unknown> | undefined {
  const record = source.parse!(line, scanner) as Record<string, unknown> | undefined;
  if (record === undefined) return undefined;
  const expected = parsedAndDecoded(line);
  expect(expected, line).toEqual({ record });
  if ('record' in expected) {
    expect(Object.keys(record), line).toEqual(Object.keys(expected.record));
    for (const key of Object.keys(record)) expect(Object.is(record[key], expected.record[key]), `${line}: ${key}`).toBe(true);
  }
  return record;
}

/** BASE with `members` added at its end (a later duplicate key wins). */
const base = (members: string) => `${BASE.slice(0, -1)},${members}}`;

describe('the generated parser reads the common line as JSON.parse and the decoder do', () => {
  it('is the source definition’s parse', () => {
    expect(source.parse).toBeTypeOf('function');
  });

  it.each([
    ['the required fields', BASE],
    ['every field', '{"sensor":"a","label":"b","count":1,"level":2,"value":3.25,"spread":0.5,"ok":false,"checked":true,"ts":5,"seen":6,"constructor":"c","default":"d","line":7}'],
    ['optional fields null', base('"label":null,"level":null,"spread":null,"checked":null,"seen":null,"default":null,"line":null,"constructor":null')],
    ['keys in another order', '{"ts":1,"constructor":"c","ok":false,"value":-1.5,"count":-3,"sensor":""}'],
    ['whitespace wherever JSON allows it', ' \t{ "sensor" :\t"s" ,\r\n"count": 3 , "value" : 2.5,"ok" :true,"ts":1 ,"constructor":"c" , "line" : null }\r\n '],
    ['an int written 1.0, -0, 1e3, or too large to be exact', base('"count":1.0,"level":-0,"line":1e3')],
    ['a big int', base('"count":12345678901234567890,"level":9007199254740993')],
    ['floats of every shape', base('"value":-0.0,"spread":1E-7')],
    ['floats with many digits', base('"value":123456789012345.6789,"spread":0.30000000000000004')],
    ['the smallest and largest doubles', base('"value":5e-324,"spread":1.7976931348623157e308')],
    ['a fraction of 22 and of 23 digits', base('"value":0.1234567890123456789012,"spread":0.12345678901234567890123')],
    ['timestamps as digits and as ISO-8601 text', base('"ts":"1767225600000","seen":"2026-01-01T10:00:00.250Z"')],
    ['a timestamp without a zone (UTC)', base('"ts":"2026-01-01 10:00:00","seen":"2026-01-01T10:00"')],
    ['non-ASCII text, an emoji and a lone surrogate', base(`"sensor":"Zürich 東京 😀","label":"\ud800x"`)],
    ['a later duplicate key', base('"count":1,"count":2,"label":"x","label":null')],
    ['undeclared keys with nested values and escapes', base('"extra":{"a":[1,{"b":"\\u00e9\\n\\"\\\\\\/"}],"c":null,"d":true},"list":[],"object":{},"s":"q\\"","n":-1.5e+3')],
    ['an undeclared __proto__', base('"__proto__":{"polluted":1}')],
  ])('%s', (_, line) => {
    expect(parsed(line), line).toBeDefined();
  });

  it('keeps a later duplicate key, as JSON.parse does', () => {
    expect(parsed(base('"count":1,"count":2'))?.count).toBe(2);
    expect(parsed(base('"count":"x","count":2'))).toBeUndefined();
  });
});

describe('the generated parser leaves to JSON.parse and the decoder', () => {
  it.each([
    ['an escape in a declared string', base('"sensor":"a\\nb"')],
    ['an escaped key', base('"sen\\u0073or":"x"')],
    ['a string for an int', base('"count":"3"')],
    ['a fraction for an int', base('"count":2.5')],
    ['a number out of range', base('"value":1e400')],
    ['a number for a string', base('"sensor":5')],
    ['a number for a bool', base('"ok":1')],
    ['a bool for a timestamp', base('"ts":true')],
    ['a timestamp that is no date', base('"ts":"yesterday"')],
    ['an object for a float', base('"value":{"x":1}')],
    ['null for a required field', base('"sensor":null')],
    ['a missing required field', '{"count":3,"value":2.5,"ok":true,"ts":1,"constructor":"c"}'],
    ['a missing field the decoder reads from Object.prototype', '{"sensor":"s","count":3,"value":2.5,"ok":true,"ts":1}'],
    ['an array', '[1,2]'],
    ['a string', '"text"'],
    ['null', 'null'],
    ['an empty line', ''],
    ['a trailing comma', base('"level":1,')],
    ['a missing colon', base('"level" 1')],
    ['single quotes', base("'level':1")],
    ['a leading zero', base('"level":01')],
    ['a bare fraction', base('"value":.5')],
    ['a fraction without digits', base('"value":1.')],
    ['a plus sign', base('"value":+1')],
    ['an exponent without digits', base('"value":1e')],
    ['NaN', base('"value":NaN')],
    ['Infinity', base('"value":Infinity')],
    ['a literal cut short', base('"ok":tru')],
    ['a literal run on', base('"ok":truee')],
    ['a control character in a string', base('"label":"a\tb"')],
    ['a control character in a skipped string', base('"extra":"a\u0001b"')],
    ['a bad escape in a skipped string', base('"extra":"\\x41"')],
    ['a short unicode escape in a skipped string', base('"extra":"\\u12"')],
    ['an unclosed skipped array', base('"extra":[1,2')],
    ['a skipped array with a trailing comma', base('"extra":[1,]')],
    ['a skipped object without a value', base('"extra":{"a"}')],
    ['text after the object', `${BASE} x`],
    ['two objects', `${BASE}${BASE}`],
    ['a byte order mark', `\ufeff${BASE}`],
    ['a no-break space', `\u00a0${BASE}`],
    ['a vertical tab', base('"level":\v1')],
    ['an unclosed object', BASE.slice(0, -1)],
  ])('%s', (_, line) => {
    expect(source.parse!(line, scanner), line).toBeUndefined();
  });

  it('values of undeclared keys nested deeper than the scanner recurses', () => {
    const deep = `${'['.repeat(70)}1${']'.repeat(70)}`;
    const line = base(`"extra":${deep}`);
    expect(source.parse!(line, scanner)).toBeUndefined();
    expect(parsedAndDecoded(line)).toHaveProperty('record');
    expect(parsed(base(`"extra":${'['.repeat(60)}1${']'.repeat(60)}`))).toBeDefined();
  });

  it('every prefix of a line', () => {
    const line = base('"label":"x","extra":{"a":[1,2.5e-3,"y"]},"seen":null');
    for (let end = 0; end < line.length; end++) expect(source.parse!(line.slice(0, end), scanner), line.slice(0, end)).toBeUndefined();
    expect(parsed(line)).toBeDefined();
  });
});

// ---- random lines: clean ones, which vary only in what the parser must read (order, whitespace, duplicate and
// undeclared keys, every shape of value), and noisy ones, with wrong types, escapes, bad JSON and lines cut short.

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const digits = (random: Random, count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join('');

/** JSON whitespace mostly; in a noisy line, now and then a character JSON.parse does not take as whitespace. */
function space(random: Random, noisy: boolean): string {
  const draw = random();
  if (draw < 0.7) return '';
  if (draw < 0.98 || !noisy) return pick(random, [' ', '  ', '\t', '\r\n', '\n ', ' \r']);
  return pick(random, ['\u00a0', '\v', '\f', '\ufeff', '\u2028']);
}

/** A JSON number's text: integers, fractions and exponents of every length; in a noisy line, also near-misses. */
function numberText(random: Random, noisy: boolean): string {
  const draw = random();
  if (draw < 0.1) return pick(random, ['0', '-0', '-0.0', '1.0', '1e3', '1E+2', '-1e-0', '5e-324', '1e400', '-1e400', '9007199254740993', '0.1', '2.5']);
  if (draw < 0.14 && noisy) return pick(random, ['.5', '01', '1.', '+1', '-', '1e', '0x10', 'NaN', 'Infinity', '1.5.5', '--1', '1e+']);
  const sign = random() < 0.3 ? '-' : '';
  const whole = random() < 0.2 ? '0' : `${1 + Math.floor(random() * 9)}${digits(random, Math.floor(random() * 18))}`;
  const fraction = random() < 0.6 ? `.${digits(random, 1 + Math.floor(random() * 25))}` : '';
  const exponent = random() < 0.1 ? `${pick(random, ['e', 'E'])}${pick(random, ['', '+', '-'])}${Math.floor(random() * 330)}` : '';
  return `${sign}${whole}${fraction}${exponent}`;
}

/** A JSON string's text: plain or non-ASCII; in a noisy line, also with escapes or a raw control character. */
function stringText(random: Random, noisy: boolean): string {
  const draw = random();
  const body =
    draw < 0.7
      ? pick(random, ['', 'a', 's-1', 'sensor 42', 'with space'])
      : draw < 0.85 || !noisy
        ? pick(random, ['Zürich', '東京', '😀', '\ud800', '\udc00x', 'é'])
        : draw < 0.98
          ? pick(random, ['\\n', '\\"', '\\\\', '\\/', '\\u00e9', '\\ud83d\\ude00', 'a\\tb'])
          : pick(random, ['\t', '\u0000', '\u001f', '\\x', '\\u12g4']);
  return `"${body}"`;
}

/** An undeclared key's text; with `escapes`, one may spell a declared key with an escape, which the parser gives up on. */
function keyText(random: Random, escapes: boolean): string {
  return `"${pick(random, ['extra', 'nested', 'x', 'sensor_', 'Count', 'lin', '東', ...(escapes ? ['a\\"b', '\\u0073ensor'] : [])])}"`;
}

function timestampText(random: Random, noisy: boolean): string {
  const draw = random();
  if (draw < 0.6) return String(1_767_225_600_000 + Math.floor(random() * 1e9));
  if (draw < 0.7) return `"${1_767_225_600_000 + Math.floor(random() * 1e9)}"`;
  if (draw < 0.85) return pick(random, ['"2026-01-01T10:00:00Z"', '"2026-01-01 10:00:00"', '"2026-01-01T10:00:00.5+02:00"', '"2026-01-01"', '"-5"']);
  if (draw < 0.9 && noisy) return pick(random, ['"soon"', '""', '"1e3"', '"12:00"']);
  return numberText(random, noisy);
}

/** Any JSON value, nested up to `depth` more levels; in a noisy line, now and then a near-miss. */
function anyValueText(random: Random, depth: number, noisy: boolean): string {
  const draw = random();
  if (draw < 0.2) return random() < 0.5 ? stringText(random, noisy) : keyText(random, true);
  if (draw < 0.4) return numberText(random, noisy);
  if (draw < 0.5) return pick(random, noisy ? ['true', 'false', 'null', 'nul', 'True'] : ['true', 'false', 'null']);
  if (depth === 0 || draw < 0.6) return pick(random, ['{}', '[]', '[ ]', '{ }']);
  const count = Math.floor(random() * 4);
  const separator = () => `${space(random, noisy)},${space(random, noisy)}`;
  if (draw < 0.8) return `[${space(random, noisy)}${Array.from({ length: count }, () => anyValueText(random, depth - 1, noisy)).join(separator())}${space(random, noisy)}]`;
  const members = Array.from({ length: count }, () => `${keyText(random, true)}${space(random, noisy)}:${space(random, noisy)}${anyValueText(random, depth - 1, noisy)}`);
  return `{${space(random, noisy)}${members.join(separator())}${space(random, noisy)}}`;
}

/** A value for a field of `kind`: of its type, or null where the field is optional; in a noisy line, anything. */
function fieldValueText(random: Random, kind: FieldKind, optional: boolean, noisy: boolean): string {
  const draw = random();
  if (draw < 0.05 && (optional || noisy)) return 'null';
  if (draw < 0.12 && noisy) return anyValueText(random, 2, noisy);
  switch (kind) {
    case 'string':
      return stringText(random, noisy);
    case 'int':
      return random() < 0.7 || !noisy ? String(Math.floor((random() - 0.5) * 1e6)) : numberText(random, noisy);
    case 'float':
      return numberText(random, noisy);
    case 'bool':
      return pick(random, ['true', 'false']);
    case 'timestamp':
      return timestampText(random, noisy);
  }
}

/**
 * A line of the Reading type: fields in any order, optional ones left out, some repeated, undeclared keys, random
 * whitespace; a noisy line may also leave out required fields, escape a key, or be cut short or have a character
 * changed.
 */
function randomLine(random: Random, noisy: boolean): string {
  const members: string[] = [];
  const member = (key: string, value: string) => `${key}${space(random, noisy)}:${space(random, noisy)}${value}`;
  for (const field of FIELDS) {
    const required = !field.optional || field.name === 'constructor';
    if (random() < (required ? (noisy ? 0.03 : 0) : 0.3)) continue;
    const key = noisy && random() < 0.02 ? `"${field.name.slice(0, 1)}\\u00${field.name.charCodeAt(1).toString(16)}${field.name.slice(2)}"` : `"${field.name}"`;
    members.push(member(key, fieldValueText(random, field.kind, field.optional, noisy)));
    if (random() < 0.05) members.push(member(`"${field.name}"`, fieldValueText(random, field.kind, field.optional, noisy)));
  }
  for (let extra = Math.floor(random() * 3); extra > 0; extra--) members.push(member(keyText(random, noisy), anyValueText(random, 3, noisy)));
  for (let index = members.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [members[index], members[other]] = [members[other], members[index]];
  }
  const line = `${space(random, noisy)}{${space(random, noisy)}${members.join(`${space(random, noisy)},${space(random, noisy)}`)}${space(random, noisy)}}${space(random, noisy)}`;
  const draw = random();
  if (!noisy || draw < 0.5) return line;
  if (draw < 0.75) return line.slice(0, Math.floor(random() * line.length));
  const at = Math.floor(random() * line.length);
  return `${line.slice(0, at)}${pick(random, ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '0', 'e', '-', '.'])}${line.slice(at + 1)}`;
}

describe('random lines', () => {
  it('clean ones are read as JSON.parse and the decoder read them', () => {
    const random = seededRandom(6);
    let read = 0;
    for (let index = 0; index < 10_000; index++) if (parsed(randomLine(random, false)) !== undefined) read++;
    // Only numbers beyond a double's range (1e400) make a clean line give up.
    expect(read).toBeGreaterThan(9_000);
  });

  it('noisy ones are read as JSON.parse and the decoder read them, or left to them', () => {
    const random = seededRandom(7);
    let read = 0;
    for (let index = 0; index < 10_000; index++) if (parsed(randomLine(random, true)) !== undefined) read++;
    // Nearly every noisy line has something the parser leaves to them; those it reads are compared all the same.
    expect(read).toBeGreaterThan(100);
  });

  it('numbers of every length convert as JSON.parse converts them', () => {
    const random = seededRandom(8);
    let read = 0;
    for (let index = 0; index < 20_000; index++) if (parsed(base(`"value":${numberText(random, false)},"spread":${numberText(random, false)}`)) !== undefined) read++;
    expect(read).toBeGreaterThan(18_000);
  });
});
