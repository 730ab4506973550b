// Field readers that generated decoders call to turn a raw record into a typed one (DESIGN §4.1).
//
// A reader returns the converted value, or records the first mismatch in `decoder.error` and returns a placeholder,
// so a decoder reads every field straight through and its caller checks `error` once. On success a reader
// allocates nothing but its result; error messages are built only on the failure path.
//
// Rules: a required field that is missing or null is `missing field 'x'`; a value of the wrong type is
// `field 'x': expected int, got "abc"`. Optional readers return null for missing or null. A lenient decoder (CSV)
// converts strings into the field's type and treats an empty string as missing.

import type { Decoder, RawRecord } from './api.ts';

export class RecordDecoder implements Decoder {
  error: string | undefined = undefined;
  /** Set per batch from `SourceBatch.lenient`. */
  lenient: boolean;

  constructor(lenient = false) {
    this.lenient = lenient;
  }

  reset(): void {
    this.error = undefined;
  }
}

/** Reads one element of a list or one value of a map; `field` and `key` name it in an error message. */
export type ElementReader<T> = (value: unknown, decoder: Decoder, field: string, key: string | number) => T;

/** A generated decoder of a record type, used for nested records. */
export type NestedDecoder<T> = (raw: RawRecord, decoder: Decoder) => T;

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH_MILLISECONDS = /^-?\d+$/;
/** An ISO-8601 date and time without a zone designator, which Date.parse would read as local time. */
const ZONELESS_DATE_TIME = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?$/;
const SHOWN_VALUE_LENGTH = 60;

// ---------------------------------------------------------------------------------------------------------------
// Errors (failure path only).

function reportMissing(decoder: Decoder, field: string): void {
  decoder.error ??= `missing field '${field}'`;
}

/** `key` is the index or map key of an element of `field`, or undefined for the field itself. */
function reportMismatch(decoder: Decoder, field: string, key: string | number | undefined, expected: string, value: unknown): void {
  decoder.error ??= `field '${label(field, key)}': expected ${expected}, got ${show(value)}`;
}

/** `tags`, `tags[3]` or `prices.EUR`. */
function label(field: string, key: string | number | undefined): string {
  return key === undefined ? field : typeof key === 'number' ? `${field}[${key}]` : `${field}.${key}`;
}

function show(value: unknown): string {
  // JSON would print Infinity as null.
  if (typeof value === 'number') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > SHOWN_VALUE_LENGTH ? text.slice(0, SHOWN_VALUE_LENGTH) + '…' : text;
}

/** In a lenient decoder an empty string stands for a missing value. */
function isAbsent(value: unknown, decoder: Decoder): boolean {
  return value === undefined || value === null || (value === '' && decoder.lenient);
}

// ---------------------------------------------------------------------------------------------------------------
// Conversions: the value in the type, or undefined when it does not convert. `value` is neither null nor undefined.

function toInt(value: unknown, lenient: boolean): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (lenient && typeof value === 'string' && INTEGER.test(value)) return Number(value);
  return undefined;
}

function toFloat(value: unknown, lenient: boolean): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (lenient && typeof value === 'string' && DECIMAL.test(value)) {
    const number = Number(value);
    return Number.isFinite(number) ? number : undefined;
  }
  return undefined;
}

function toBool(value: unknown, lenient: boolean): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (lenient) {
    if (value === 'true') return true;
    if (value === 'false') return false;
  }
  return undefined;
}

/**
 * Epoch ms from a number, a string of digits (epoch ms), or an ISO-8601 string. A date and time without a zone
 * is read as UTC, not as the machine's local time, so a pipeline gives the same result on every machine.
 */
export function toTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (EPOCH_MILLISECONDS.test(value)) return Number(value);
  const parsed = ZONELESS_DATE_TIME.test(value) ? Date.parse(`${value.slice(0, 10)}T${value.slice(11)}Z`) : Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** A JSON value; a lenient decoder parses a string cell as JSON text. */
function toJson(value: unknown, lenient: boolean): unknown {
  if (lenient && typeof value === 'string') {
    try {
      return JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value;
}

/** A list, map or nested record: already structured, or (lenient) a string cell of JSON text. */
function toStructure(value: unknown, lenient: boolean): unknown {
  return lenient && typeof value === 'string' ? toJson(value, true) : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// string

export function readString(raw: RawRecord, field: string, decoder: Decoder): string {
  const value = raw[field];
  if (typeof value === 'string' && (value !== '' || !decoder.lenient)) return value;
  if (isAbsent(value, decoder)) reportMissing(decoder, field);
  else reportMismatch(decoder, field, undefined, 'string', value);
  return '';
}

export function readOptionalString(raw: RawRecord, field: string, decoder: Decoder): string | null {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  if (typeof value === 'string') return value;
  reportMismatch(decoder, field, undefined, 'string', value);
  return null;
}

export function readStringElement(value: unknown, decoder: Decoder, field: string, key: string | number): string {
  if (typeof value === 'string') return value;
  reportMismatch(decoder, field, key, 'string', value);
  return '';
}

// ---------------------------------------------------------------------------------------------------------------
// int

export function readInt(raw: RawRecord, field: string, decoder: Decoder): number {
  const value = raw[field];
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (isAbsent(value, decoder)) {
    reportMissing(decoder, field);
    return 0;
  }
  const result = toInt(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'int', value);
  return 0;
}

export function readOptionalInt(raw: RawRecord, field: string, decoder: Decoder): number | null {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  const result = toInt(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'int', value);
  return null;
}

export function readIntElement(value: unknown, decoder: Decoder, field: string, key: string | number): number {
  const result = value === null || value === undefined ? undefined : toInt(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, key, 'int', value);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// float

export function readFloat(raw: RawRecord, field: string, decoder: Decoder): number {
  const value = raw[field];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (isAbsent(value, decoder)) {
    reportMissing(decoder, field);
    return 0;
  }
  const result = toFloat(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'float', value);
  return 0;
}

export function readOptionalFloat(raw: RawRecord, field: string, decoder: Decoder): number | null {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  const result = toFloat(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'float', value);
  return null;
}

export function readFloatElement(value: unknown, decoder: Decoder, field: string, key: string | number): number {
  const result = value === null || value === undefined ? undefined : toFloat(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, key, 'float', value);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// bool

export function readBool(raw: RawRecord, field: string, decoder: Decoder): boolean {
  const value = raw[field];
  if (typeof value === 'boolean') return value;
  if (isAbsent(value, decoder)) {
    reportMissing(decoder, field);
    return false;
  }
  const result = toBool(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'bool', value);
  return false;
}

export function readOptionalBool(raw: RawRecord, field: string, decoder: Decoder): boolean | null {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  const result = toBool(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'bool', value);
  return null;
}

export function readBoolElement(value: unknown, decoder: Decoder, field: string, key: string | number): boolean {
  const result = value === null || value === undefined ? undefined : toBool(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, key, 'bool', value);
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// timestamp (epoch ms)

export function readTimestamp(raw: RawRecord, field: string, decoder: Decoder): number {
  const value = raw[field];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (isAbsent(value, decoder)) {
    reportMissing(decoder, field);
    return 0;
  }
  const result = toTimestamp(value);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'timestamp', value);
  return 0;
}

export function readOptionalTimestamp(raw: RawRecord, field: string, decoder: Decoder): number | null {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  const result = toTimestamp(value);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'timestamp', value);
  return null;
}

export function readTimestampElement(value: unknown, decoder: Decoder, field: string, key: string | number): number {
  const result = value === null || value === undefined ? undefined : toTimestamp(value);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, key, 'timestamp', value);
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// json: any JSON value, unchecked

export function readJson(raw: RawRecord, field: string, decoder: Decoder): unknown {
  const value = raw[field];
  if (isAbsent(value, decoder)) {
    reportMissing(decoder, field);
    return null;
  }
  const result = toJson(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'json', value);
  return null;
}

export function readOptionalJson(raw: RawRecord, field: string, decoder: Decoder): unknown {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  const result = toJson(value, decoder.lenient);
  if (result !== undefined) return result;
  reportMismatch(decoder, field, undefined, 'json', value);
  return null;
}

export function readJsonElement(value: unknown, decoder: Decoder, field: string, key: string | number): unknown {
  if (value !== undefined) return value;
  reportMismatch(decoder, field, key, 'json', value);
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// list<T>, map<T> and nested records. `key` is set when the container is itself an element of `field`.

function listOf<T>(value: unknown, decoder: Decoder, field: string, key: string | number | undefined, element: ElementReader<T>): T[] {
  const list = toStructure(value, decoder.lenient);
  if (!Array.isArray(list)) {
    reportMismatch(decoder, field, key, 'list', value);
    return [];
  }
  // Only a list inside a list or map needs its own name for its elements' errors.
  const name = key === undefined ? field : label(field, key);
  const result = new Array<T>(list.length);
  for (let index = 0; index < list.length; index++) result[index] = element(list[index], decoder, name, index);
  return result;
}

function mapOf<T>(value: unknown, decoder: Decoder, field: string, key: string | number | undefined, element: ElementReader<T>): Record<string, T> {
  const map = toStructure(value, decoder.lenient);
  if (!isPlainObject(map)) {
    reportMismatch(decoder, field, key, 'map', value);
    return {};
  }
  const name = key === undefined ? field : label(field, key);
  const result: Record<string, T> = {};
  for (const mapKey in map) result[mapKey] = element(map[mapKey], decoder, name, mapKey);
  return result;
}

/** Runs a nested decoder; its error, if it is the first, is prefixed with where the record is. */
function recordOf<T>(value: unknown, decoder: Decoder, field: string, key: string | number | undefined, decode: NestedDecoder<T>): T | null {
  const record = toStructure(value, decoder.lenient);
  if (!isPlainObject(record)) {
    reportMismatch(decoder, field, key, 'record', value);
    return null;
  }
  if (decoder.error !== undefined) return decode(record, decoder);
  const result = decode(record, decoder);
  if (decoder.error !== undefined) decoder.error = `field '${label(field, key)}': ${decoder.error}`;
  return result;
}

export function readList<T>(raw: RawRecord, field: string, decoder: Decoder, element: ElementReader<T>): T[] {
  const value = raw[field];
  if (isAbsent(value, decoder)) {
    reportMissing(decoder, field);
    return [];
  }
  return listOf(value, decoder, field, undefined, element);
}

export function readOptionalList<T>(raw: RawRecord, field: string, decoder: Decoder, element: ElementReader<T>): T[] | null {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  return listOf(value, decoder, field, undefined, element);
}

export function readMap<T>(raw: RawRecord, field: string, decoder: Decoder, element: ElementReader<T>): Record<string, T> {
  const value = raw[field];
  if (isAbsent(value, decoder)) {
    reportMissing(decoder, field);
    return {};
  }
  return mapOf(value, decoder, field, undefined, element);
}

export function readOptionalMap<T>(raw: RawRecord, field: string, decoder: Decoder, element: ElementReader<T>): Record<string, T> | null {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  return mapOf(value, decoder, field, undefined, element);
}

/** On a mismatch the result is null, whatever T is: the caller sees `decoder.error` and drops the record. */
export function readRecord<T>(raw: RawRecord, field: string, decoder: Decoder, decode: NestedDecoder<T>): T {
  const value = raw[field];
  if (isAbsent(value, decoder)) {
    reportMissing(decoder, field);
    return null as T;
  }
  return recordOf(value, decoder, field, undefined, decode) as T;
}

export function readOptionalRecord<T>(raw: RawRecord, field: string, decoder: Decoder, decode: NestedDecoder<T>): T | null {
  const value = raw[field];
  if (isAbsent(value, decoder)) return null;
  return recordOf(value, decoder, field, undefined, decode);
}

// ---------------------------------------------------------------------------------------------------------------
// Element readers for element types other than primitives. Generated code creates them once, at module level:
// `const readLineItemElement = rt.recordElement(decodeLineItem);` for `list<LineItem>`.

/** Elements of type T? (`list<string?>`): null elements stay null. */
export function optionalElement<T>(element: ElementReader<T>): ElementReader<T | null> {
  return (value, decoder, field, key) => (isAbsent(value, decoder) ? null : element(value, decoder, field, key));
}

export function listElement<T>(element: ElementReader<T>): ElementReader<T[]> {
  return (value, decoder, field, key) => listOf(value, decoder, field, key, element);
}

export function mapElement<T>(element: ElementReader<T>): ElementReader<Record<string, T>> {
  return (value, decoder, field, key) => mapOf(value, decoder, field, key, element);
}

export function recordElement<T>(decode: NestedDecoder<T>): ElementReader<T> {
  return (value, decoder, field, key) => recordOf(value, decoder, field, key, decode) as T;
}
