// Spec tests' comparison: the records a sink received against those a case expects.

import { parseInstant } from './instant.ts';

/** Floats (sums of prices) depend on the order of additions: they match within this relative difference. */
export const RELATIVE_TOLERANCE = 1e-9;

/** How a sink's records differ from the expected ones; a sink that matches has none. */
export interface RecordDifference {
  /** Expected records the sink did not receive, as the case writes them. */
  readonly missing: readonly unknown[];
  /** Records the sink received that the case does not expect. */
  readonly unexpected: readonly unknown[];
  /** With `ordered: true`: the same records arrived in another order; the first position where they differ. */
  readonly misordered?: { readonly index: number; readonly expected: unknown; readonly actual: unknown };
}

/**
 * Compares as multisets (each expected record matches one received record, a repeat must be received as often), and
 * with `ordered` also position by position. Undefined when they match.
 */
export function compareRecords(expected: readonly unknown[], actual: readonly unknown[], ordered: boolean): RecordDifference | undefined {
  const { missing, unexpected } = unmatched(expected, actual);
  if (missing.length > 0 || unexpected.length > 0) return { missing, unexpected };
  if (!ordered) return undefined;
  for (let index = 0; index < expected.length; index++) {
    if (!valuesMatch(expected[index], actual[index])) {
      return { missing: [], unexpected: [], misordered: { index, expected: expected[index], actual: actual[index] } };
    }
  }
  return undefined;
}

/**
 * Whether a received value is the expected one: the same JSON shape and keys (in any order) with equal leaves.
 * Integers are compared exactly; when either number has a fraction, they match within RELATIVE_TOLERANCE. An
 * expected ISO-8601 date and time matches the epoch milliseconds it stands for, since timestamps are written as
 * epoch milliseconds but read more easily as dates.
 */
export function valuesMatch(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'number' && typeof actual === 'number') return numbersMatch(expected, actual);
  if (typeof expected === 'string' && typeof actual === 'number') return parseInstant(expected) === actual;
  if (typeof expected !== 'object' || typeof actual !== 'object' || expected === null || actual === null) return expected === actual;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== actual.length) return false;
    for (let index = 0; index < expected.length; index++) if (!valuesMatch(expected[index], actual[index])) return false;
    return true;
  }
  const expectedRecord = expected as Readonly<Record<string, unknown>>;
  const actualRecord = actual as Readonly<Record<string, unknown>>;
  const keys = Object.keys(expectedRecord);
  if (keys.length !== Object.keys(actualRecord).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(actualRecord, key) || !valuesMatch(expectedRecord[key], actualRecord[key])) return false;
  }
  return true;
}

function numbersMatch(expected: number, actual: number): boolean {
  if (expected === actual) return true;
  if (Number.isInteger(expected) && Number.isInteger(actual)) return false;
  return Math.abs(expected - actual) <= RELATIVE_TOLERANCE * Math.max(Math.abs(expected), Math.abs(actual));
}

/**
 * Pairs expected with received records: first those equal as written (by canonical JSON), then, among the rest,
 * each expected record with the first received one it matches within tolerance. Returns what stays unpaired on
 * each side, in its original order.
 */
function unmatched(expected: readonly unknown[], actual: readonly unknown[]): { missing: unknown[]; unexpected: unknown[] } {
  const pairedActual = new Array<boolean>(actual.length).fill(false);
  const pairedExpected = new Array<boolean>(expected.length).fill(false);
  const byText = new Map<string, number[]>();
  actual.forEach((record, index) => {
    const text = canonicalJson(record);
    const indexes = byText.get(text);
    if (indexes === undefined) byText.set(text, [index]);
    else indexes.push(index);
  });
  expected.forEach((record, index) => {
    const candidates = byText.get(canonicalJson(record));
    const found = candidates?.shift();
    if (found === undefined) return;
    pairedExpected[index] = true;
    pairedActual[found] = true;
  });
  expected.forEach((record, index) => {
    if (pairedExpected[index]) return;
    const found = actual.findIndex((candidate, candidateIndex) => !pairedActual[candidateIndex] && valuesMatch(record, candidate));
    if (found < 0) return;
    pairedExpected[index] = true;
    pairedActual[found] = true;
  });
  return {
    missing: expected.filter((_, index) => !pairedExpected[index]),
    unexpected: actual.filter((_, index) => !pairedActual[index]),
  };
}

/** JSON with object keys sorted, so that two records with the same fields in another order have the same text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

/** A missing record and the unexpected one most like it, and the fields in which they differ. */
export interface NearPair {
  readonly missing: number;
  readonly unexpected: number;
  readonly fields: readonly string[];
}

/**
 * Pairs each missing record with the unexpected record that agrees with it in the most fields (at least half of
 * them), each unexpected record used once, so a diff can say "differs in total_revenue" instead of leaving the
 * reader to spot it in two lines of JSON.
 */
export function nearPairs(missing: readonly unknown[], unexpected: readonly unknown[]): NearPair[] {
  const pairs: NearPair[] = [];
  const used = new Set<number>();
  missing.forEach((expected, missingIndex) => {
    if (!isRecord(expected)) return;
    let best: NearPair | undefined;
    let bestAgreeing = 0;
    unexpected.forEach((actual, unexpectedIndex) => {
      if (used.has(unexpectedIndex) || !isRecord(actual)) return;
      const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
      const fields = keys.filter((key) => !(Object.hasOwn(expected, key) && Object.hasOwn(actual, key) && valuesMatch(expected[key], actual[key])));
      const agreeing = keys.length - fields.length;
      if (agreeing * 2 >= keys.length && agreeing > bestAgreeing) {
        best = { missing: missingIndex, unexpected: unexpectedIndex, fields };
        bestAgreeing = agreeing;
      }
    });
    if (best !== undefined) {
      used.add(best.unexpected);
      pairs.push(best);
    }
  });
  return pairs;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
