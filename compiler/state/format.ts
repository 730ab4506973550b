// The text of generated/<pipeline>.state.json, on its own so that the CLI writes it without loading the compiler.

import type { StateSchema } from '../../runtime/api.ts';

/** The schema as pretty JSON with every key sorted, ending in a newline: the same schema, the same bytes. */
export function formatStateSchema(schema: StateSchema): string {
  return `${JSON.stringify(sortKeys(schema), null, 2)}\n`;
}

/** Code-point order, the same in every locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compare(a, b));
  return Object.fromEntries(entries.map(([key, entry]) => [key, sortKeys(entry)]));
}
