// Whether checkpoints written under one state schema can be restored under another (DESIGN §4.5); pipec build and restores ask.

import type { StateSchema, StepStateSchema } from '../api.ts';

interface IncompatibilityBase {
  /** The state's uid, the same in both schemas. */
  readonly uid: string;
  /** The step id in the current schema. */
  readonly step: string;
  /** The recorded and current operator kind, key type or aggregate signature. */
  readonly recorded: string;
  readonly current: string;
  /** The change in words, e.g. "aggregate `total` changed from `sum(float)` to `max(float)`". */
  readonly description: string;
}

/** A change to a step's state that checkpoints taken before it cannot be restored across. */
export type StateIncompatibility = IncompatibilityBase & (
  | { readonly change: 'operator' }
  | { readonly change: 'key' }
  | { readonly change: 'field'; readonly field: string }
);

/**
 * The changes from `recorded` (the schema of existing checkpoints) to `current` that make those checkpoints
 * unreadable, as Flink's POJO state evolution has it. A uid only in `recorded` (a step removed, or its uid changed)
 * leaves its state behind; a uid only in `current` starts empty; an aggregate field added starts empty and one
 * removed is dropped. Incompatible: another operator kind, another key type, or an aggregate field of the same name
 * with another function or argument type, unless the step resets that field (`migrate: { reset: [field] }`).
 * A change of operator or key makes every field moot, so fields are compared only when both stayed.
 */
export function compareStateSchemas(recorded: StateSchema, current: StateSchema): StateIncompatibility[] {
  const incompatibilities: StateIncompatibility[] = [];
  for (const uid of Object.keys(current).sort()) {
    const before = recorded[uid];
    if (before === undefined) continue;
    const now = current[uid];
    const base = { uid, step: now.step };
    if (before.operator !== now.operator) {
      incompatibilities.push({
        ...base, change: 'operator', recorded: before.operator, current: now.operator,
        description: `its operator changed from ${describeOperator(before.operator)} to ${describeOperator(now.operator)}`,
      });
    }
    if (before.key !== now.key) {
      incompatibilities.push({ ...base, change: 'key', recorded: before.key, current: now.key, description: `its key changed from \`${before.key}\` to \`${now.key}\`` });
    }
    if (incompatibilities.some((incompatibility) => incompatibility.uid === uid)) continue;
    for (const field of Object.keys(now.fields).sort()) {
      const was = before.fields[field];
      const is = now.fields[field];
      if (was === undefined || now.reset?.includes(field) || sameState(was, is)) continue;
      incompatibilities.push({ ...base, change: 'field', field, recorded: was, current: is, description: `aggregate \`${field}\` changed from \`${was}\` to \`${is}\`` });
    }
  }
  return incompatibilities;
}

/**
 * Per uid, the aggregate fields a restore must leave empty: those the step resets (`migrate: { reset: [...] }`)
 * whose state in the checkpoint was kept another way. A field whose recorded signature is already the current one
 * (the checkpoint was taken after the migration) is restored as usual, so a crash after the change loses nothing.
 */
export function fieldsToReset(recorded: StateSchema, current: StateSchema): ReadonlyMap<string, ReadonlySet<string>> {
  const reset = new Map<string, ReadonlySet<string>>();
  for (const [uid, now] of Object.entries(current)) {
    const before = recorded[uid];
    const stale = (now.reset ?? []).filter((field) => before?.fields[field] !== undefined && !sameState(before.fields[field], now.fields[field]));
    if (stale.length > 0) reset.set(uid, new Set(stale));
  }
  return reset;
}

function describeOperator(operator: StepStateSchema['operator']): string {
  return operator === 'dedupe' ? '`dedupe`' : `a \`${operator}\` window`;
}

/**
 * Two aggregate signatures, `fn(argument type, options…)`, keep state the same way when function and argument type
 * agree; the options only shape the result (`percentile(float, 0.5)` keeps the same values as `percentile(float, 0.95)`).
 */
function sameState(recorded: string, current: string): boolean {
  const before = stateOf(recorded);
  const now = stateOf(current);
  return before !== undefined && now !== undefined ? before === now : recorded === current;
}

/** `percentile(float, 0.95)` → `percentile(float)`; undefined for text that is no signature. */
function stateOf(signature: string): string | undefined {
  const call = /^(\w+)\(([^,]*)(?:,.*)?\)$/.exec(signature.trim());
  return call === null ? undefined : `${call[1]}(${call[2].trim()})`;
}
