// Spec parameters: their declared types, converting defaults and --param values to them, and finding `${params.NAME}` in text.

import { parseDuration } from '../ir/duration.ts';
import { describeValue } from './describe.ts';

export type ParamValue = string | number | boolean;

export const paramTypes = ['duration', 'string', 'int', 'float', 'bool'] as const;
export type ParamType = (typeof paramTypes)[number];

export function isParamType(name: unknown): name is ParamType {
  return typeof name === 'string' && (paramTypes as readonly string[]).includes(name);
}

export type Conversion =
  | { readonly ok: true; readonly value: ParamValue }
  | { readonly ok: false; readonly detail: string };

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A default from the YAML (already a number or boolean when written as one) or a --param string, as a value of `type`.
 * Durations stay strings like "1m": the schema and the later phases read them as written in the spec.
 */
export function convertParam(type: ParamType, raw: ParamValue): Conversion {
  switch (type) {
    case 'string':
      return { ok: true, value: String(raw) };
    case 'duration':
      return typeof raw === 'string' && parseDuration(raw) !== undefined
        ? { ok: true, value: raw }
        : { ok: false, detail: `expected a duration like "5m", got ${describeValue(raw)}` };
    case 'int': {
      const value = typeof raw === 'string' && INTEGER.test(raw.trim()) ? Number(raw) : raw;
      return typeof value === 'number' && Number.isSafeInteger(value)
        ? { ok: true, value }
        : { ok: false, detail: `expected a whole number, got ${describeValue(raw)}` };
    }
    case 'float': {
      const value = typeof raw === 'string' && DECIMAL.test(raw.trim()) ? Number(raw) : raw;
      return typeof value === 'number' && Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, detail: `expected a number, got ${describeValue(raw)}` };
    }
    case 'bool': {
      const value = raw === 'true' ? true : raw === 'false' ? false : raw;
      return typeof value === 'boolean'
        ? { ok: true, value }
        : { ok: false, detail: `expected true or false, got ${describeValue(raw)}` };
    }
  }
}

export interface ParamReference {
  readonly name: string;
  /** Index of `${` in the text. */
  readonly start: number;
  /** Index just past `}`. */
  readonly end: number;
}

const REFERENCE = /\$\{\s*params\.([A-Za-z_][\w-]*)\s*\}/g;

/** Every `${params.NAME}` in a string, in order. */
export function findParamReferences(text: string): ParamReference[] {
  if (!text.includes('${')) return [];
  const references: ParamReference[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    references.push({ name: match[1], start: match.index, end: match.index + match[0].length });
  }
  return references;
}

export interface MaskedText {
  /** The text with each `${params.NAME}` written `$(params.NAME)`: same length, so every offset stays. */
  readonly text: string;
  /** Offsets of the `$` of each masked reference. */
  readonly starts: ReadonlySet<number>;
}

/**
 * `{` and `}` end a plain scalar inside a YAML flow map, so `{ tumbling: ${params.window} }` (the documented
 * way to write a parameter) is not valid YAML. The loader parses a masked copy instead and puts the braces back.
 */
export function maskParamReferences(text: string): MaskedText {
  const references = findParamReferences(text);
  if (references.length === 0) return { text, starts: new Set() };
  let masked = '';
  let copied = 0;
  for (const reference of references) {
    masked += `${text.slice(copied, reference.start)}$(${text.slice(reference.start + 2, reference.end - 1)})`;
    copied = reference.end;
  }
  masked += text.slice(copied);
  return { text: masked, starts: new Set(references.map((reference) => reference.start)) };
}

const MASKED_REFERENCE = /\$\(\s*params\.[A-Za-z_][\w-]*\s*\)/g;

/** Starts (in `value`) of the masked references in a parsed string, as candidates: the caller checks they came from masking. */
export function findMaskedReferences(value: string): { readonly start: number; readonly end: number }[] {
  if (!value.includes('$(')) return [];
  return [...value.matchAll(MASKED_REFERENCE)].map((match) => ({ start: match.index, end: match.index + match[0].length }));
}

/** `$(params.NAME)` back to `${params.NAME}`. */
export function unmaskReference(masked: string): string {
  return `\${${masked.slice(2, -1)}}`;
}
