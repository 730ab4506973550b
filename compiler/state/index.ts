// Phase 5, state: a checked pipeline → its state schema (what checkpoints hold per stateful step), and PC401 for the
// changes that checkpoints written under an earlier schema could not be restored across.

import type { StateSchema, StepStateSchema } from '../../runtime/api.ts';
import { compareStateSchemas, type StateIncompatibility } from '../../runtime/state/schema.ts';
import { aggregateArgumentType } from '../check/index.ts';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { Aggregate, StepNode, StreamInfo, TypedPipeline } from '../ir/pipeline.ts';
import { typeToString, type RecordType } from '../ir/types.ts';
import { compare } from './format.ts';

export { formatStateSchema } from './format.ts';

type StatefulStep = Extract<StepNode, { kind: 'window' | 'dedupe' }>;

/** The state schema of every window and dedupe step, by uid, uids and fields in sorted order. */
export function stateSchema(typed: TypedPipeline): StateSchema {
  const schema: Record<string, StepStateSchema> = {};
  const steps = statefulSteps(typed).sort((a, b) => compare(a.state.uid, b.state.uid));
  for (const step of steps) schema[step.state.uid] = stepSchema(typed, step);
  return schema;
}

/**
 * PC401 for each change from `recorded` (the schema the last build wrote, which existing checkpoints match) to the
 * pipeline's schema that would make those checkpoints unreadable, at the changed aggregate field, the window (or
 * dedupe) when the operator changed, or the key when the key changed.
 */
export function stateCompatibility(typed: TypedPipeline, recorded: StateSchema): Diagnostic[] {
  const steps = new Map(statefulSteps(typed).map((step) => [step.state.uid, step]));
  return compareStateSchemas(recorded, stateSchema(typed)).map((incompatibility) => {
    const step = steps.get(incompatibility.uid)!;
    const migrate = incompatibility.change === 'field' ? `, or declare \`migrate: { reset: [${[...step.state.reset, incompatibility.field].join(', ')}] }\`` : '';
    return diagnostic(
      'PC401',
      { source: typed.pipeline.source, offset: changedAt(typed, step, incompatibility) },
      { step: step.id, uid: incompatibility.uid, change: incompatibility.description, migrate },
    );
  });
}

function statefulSteps(typed: TypedPipeline): StatefulStep[] {
  return typed.pipeline.steps.filter((step): step is StatefulStep => step.kind === 'window' || step.kind === 'dedupe');
}

function stepSchema(typed: TypedPipeline, step: StatefulStep): StepStateSchema {
  const base = { step: step.id, operator: step.kind === 'window' ? step.window.kind : 'dedupe', key: keyType(stream(typed, step.id)) };
  if (step.kind === 'dedupe') return { ...base, fields: {} };
  const input = stream(typed, step.from[0].name).type;
  const fields: Record<string, string> = {};
  for (const aggregate of [...step.aggregates].sort((a, b) => compare(a.name, b.name))) fields[aggregate.name] = signature(aggregate, input);
  return step.state.reset.length > 0 ? { ...base, fields, reset: step.state.reset } : { ...base, fields };
}

/** `sum(float)`, `count()`, `percentile(float, 0.95)`: the function, its argument's type and its options. */
function signature(aggregate: Aggregate, input: RecordType): string {
  const argument = aggregateArgumentType(aggregate, input);
  const parts: string[] = [];
  if (argument !== undefined) parts.push(typeToString(argument));
  if (aggregate.percentile !== undefined) parts.push(String(aggregate.percentile));
  return `${aggregate.fn}(${parts.join(', ')})`;
}

/** The key as the spec writes types: `string`, or `[string,int]` for a composite key; `[]` for a window over the whole stream. */
function keyType(stream: StreamInfo): string {
  const types = stream.key?.types ?? [];
  return types.length === 1 ? typeToString(types[0]) : `[${types.map(typeToString).join(',')}]`;
}

function changedAt(typed: TypedPipeline, step: StatefulStep, incompatibility: StateIncompatibility): number {
  switch (incompatibility.change) {
    case 'operator':
      return step.state.at;
    case 'key':
      return stream(typed, step.id).key?.spec.fields[0]?.value.at ?? step.state.at;
    case 'field': {
      const field = incompatibility.field;
      const aggregate = step.kind === 'window' ? step.aggregates.find((candidate) => candidate.name === field) : undefined;
      return aggregate?.at ?? step.state.at;
    }
  }
}

function stream(typed: TypedPipeline, name: string): StreamInfo {
  const info = typed.streams.get(name);
  if (info === undefined) throw new Error(`pipec bug: stream ${name} has no type after check`);
  return info;
}
