// Phase 4, check: the record type and key of every stream, and the type of every expression against its record.

import { diagnostic, suggestion, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { specOffset, type SpecExpr } from '../ir/expr.ts';
import type { Aggregate, KeySpec, Pipeline, SinkNode, SourceNode, StepNode, StreamInfo, TypedKey, TypedPipeline } from '../ir/pipeline.ts';
import { FLOAT, INT, STRING, TIMESTAMP, fieldOf, isNumeric, isPrimitive, sameType, typeToString, type Field, type RecordType, type Type } from '../ir/types.ts';
import { checkExpression } from './expression.ts';
import { pascalCase } from '../ir/names.ts';

export interface CheckResult {
  readonly typed: TypedPipeline | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/** The fields every dead-letter record has (DESIGN §4.1). */
export const DEAD_LETTER_TYPE: RecordType = {
  kind: 'record',
  name: 'DeadLetter',
  fields: [
    { name: 'source', type: STRING, optional: false },
    { name: 'position', type: STRING, optional: false },
    { name: 'error', type: STRING, optional: false },
    { name: 'raw', type: STRING, optional: false },
  ],
};

export function check(pipeline: Pipeline): CheckResult {
  const checker = new Checker(pipeline);
  checker.run();
  const failed = checker.diagnostics.some((d) => d.severity === 'error');
  return { typed: failed ? undefined : { pipeline, streams: checker.streams }, diagnostics: checker.diagnostics };
}

/** The type of an aggregate's argument over its step's input records, for the phases after check; undefined for `count()`. */
export function aggregateArgumentType(aggregate: Aggregate, scope: RecordType): Type | undefined {
  return aggregate.argument && checkExpression(aggregate.argument.expr, scope).type;
}

class Checker {
  readonly diagnostics: Diagnostic[] = [];
  readonly streams = new Map<string, StreamInfo>();

  constructor(private readonly pipeline: Pipeline) {}

  run(): void {
    for (const source of this.pipeline.sources) {
      const type = this.pipeline.types.get(source.typeName);
      if (type === undefined) continue;
      this.streams.set(source.id, { name: source.id, type, key: undefined });
      if (source.deadLetter !== undefined) this.streams.set(source.deadLetter, { name: source.deadLetter, type: DEAD_LETTER_TYPE, key: undefined });
      if (source.connector === 'kafka') this.checkKafkaMetadata(source, type);
      const eventTime = source.eventTime;
      if (eventTime?.field !== undefined) {
        const name = eventTime.field;
        const field = fieldOf(type, name);
        const detail =
          field === undefined
            ? `is not a field of \`${type.name}\`${suggestion(name, type.fields.map((f) => f.name))}`
            : !isPrimitive(field.type, 'timestamp') && !isPrimitive(field.type, 'int')
              ? `is ${typeToString(field.type)}; event time needs a timestamp or int (epoch ms) field`
              : field.optional
                ? 'is optional; event time needs a field every record has'
                : undefined;
        if (detail !== undefined) this.error('PC206', eventTime.at, { name, detail });
      }
    }
    for (const step of this.pipeline.steps) this.checkStep(step);
    for (const sink of this.pipeline.sinks) this.checkSinkExpressions(sink);
  }

  /** A Kafka sink's key and header expressions: each a string or a number (written as its decimal text). */
  private checkSinkExpressions(sink: SinkNode): void {
    const input = this.streams.get(sink.from.name);
    if (input === undefined) return;
    const { key, headers } = sink.expressions;
    const named = [...(key === undefined ? [] : [{ where: `the key of sink \`${sink.id}\``, value: key }]),
      ...headers.map((header) => ({ where: `header \`${header.name}\` of sink \`${sink.id}\``, value: header.value }))];
    for (const { where, value } of named) {
      const typed = this.typeOf(value, input.type);
      if (typed && !isPrimitive(typed.type, 'string') && !isNumeric(typed.type)) this.error('PC312', value.at, { where, type: typeToString(typed.type) });
    }
  }

  /** `metadata: { field: what }` of a Kafka source: each field declared in the type, with the type of what it receives. */
  private checkKafkaMetadata(source: SourceNode, type: RecordType): void {
    const metadata = source.options.metadata as Readonly<Record<string, string>> | undefined;
    for (const [name, what] of Object.entries(metadata ?? {})) {
      const at = source.metadataAt.get(name) ?? source.at;
      const field = fieldOf(type, name);
      if (field === undefined) {
        this.error('PC313', at, { name, source: source.id, detail: `is not a field of \`${type.name}\`${suggestion(name, type.fields.map((f) => f.name))}; declare it there` });
        continue;
      }
      const expected = metadataType(what);
      const matches = expected === 'map<string>'
        ? field.type.kind === 'map' && isPrimitive(field.type.value, 'string')
        : expected === 'timestamp'
          ? isPrimitive(field.type, 'timestamp') || isPrimitive(field.type, 'int')
          : isPrimitive(field.type, expected);
      if (!matches) {
        this.error('PC313', at, { name, source: source.id, detail: `is ${typeToString(field.type)}, but \`${what}\` is ${expected}; declare it as \`${expected}\`` });
      } else if (!field.optional && (what === 'key' || what.startsWith('headers.'))) {
        this.error('PC313', at, { name, source: source.id, detail: `must be optional (\`string?\`): a message may have no ${what === 'key' ? 'key' : `header \`${what.slice(8)}\``}` });
      }
    }
  }

  private error(code: Parameters<typeof diagnostic>[0], offset: number, args: Record<string, string | number>): void {
    this.diagnostics.push(diagnostic(code, { source: this.pipeline.source, offset }, args));
  }

  /** Type of an expression over `scope`; reports its errors at their place in the spec. */
  private typeOf(spec: SpecExpr, scope: RecordType): { type: Type; optional: boolean } | undefined {
    const result = checkExpression(spec.expr, scope);
    for (const error of result.errors) {
      this.diagnostics.push(diagnostic(error.code, { source: this.pipeline.source, offset: specOffset(spec, error.at) }, error.args));
    }
    return result.errors.length > 0 ? undefined : result;
  }

  private input(step: StepNode, index = 0): StreamInfo | undefined {
    const ref = step.from[index];
    return ref && this.streams.get(ref.name);
  }

  private define(name: string, type: RecordType, key: TypedKey | undefined): void {
    this.streams.set(name, { name, type, key });
  }

  private checkStep(step: StepNode): void {
    const input = this.input(step);
    // An input whose type is unknown was already reported; its consumers are not checked again.
    if (input === undefined) return;
    const own = (fields: readonly Field[]): RecordType => ({ kind: 'record', name: pascalCase(step.id), fields });
    switch (step.kind) {
      case 'filter': {
        this.condition(step.condition, input.type, `the filter of step \`${step.id}\``);
        this.define(step.id, input.type, input.key);
        return;
      }
      case 'map': {
        const fields = step.fields.flatMap((field): Field[] => {
          const typed = this.typeOf(field.value, input.type);
          return typed ? [{ name: field.name, type: typed.type, optional: typed.optional }] : [];
        });
        this.define(step.id, own(fields), input.key);
        return;
      }
      case 'set': {
        const replaced = new Map<string, Field>();
        for (const field of step.fields) {
          const typed = this.typeOf(field.value, input.type);
          if (typed) replaced.set(field.name, { name: field.name, type: typed.type, optional: typed.optional });
        }
        const fields = input.type.fields.map((field) => replaced.get(field.name) ?? field);
        for (const field of replaced.values()) if (!fieldOf(input.type, field.name)) fields.push(field);
        this.define(step.id, own(fields), input.key);
        return;
      }
      case 'explode': {
        const field = fieldOf(input.type, step.field);
        if (field === undefined) {
          this.error('PC301', step.fieldAt, {
            name: step.field, where: `the record type \`${input.type.name}\``, suggestion: suggestion(step.field, input.type.fields.map((f) => f.name)),
          });
          return;
        }
        if (field.type.kind !== 'list') {
          this.error('PC308', step.fieldAt, { name: step.field, type: typeToString(field.type) });
          return;
        }
        const element = field.type.element;
        this.define(step.id, own(input.type.fields.map((f) => (f === field ? { name: f.name, type: element, optional: false } : f))), input.key);
        return;
      }
      case 'key_by':
      case 'dedupe': {
        // Dedupe partitions by its own key, as key_by does: downstream keyed steps see that key.
        const key = this.key(step.key, input.type);
        if (key) this.define(step.id, input.type, key);
        return;
      }
      case 'union': {
        const inputs = step.from.map((ref) => this.streams.get(ref.name));
        if (inputs.some((stream) => stream === undefined)) return;
        const first = inputs[0]!;
        const different = inputs.find((stream) => !sameType(stream!.type, first.type));
        if (different) {
          this.error('PC207', step.at, {
            name: step.id,
            detail: `\`${first.name}\` is ${first.type.name}, \`${different.name}\` is ${different.type.name}`,
          });
          return;
        }
        // A union merges differently keyed streams: the result is not keyed; key it again downstream.
        this.define(step.id, first.type, undefined);
        return;
      }
      case 'split': {
        for (const branch of step.branches) {
          this.condition(branch.value, input.type, `branch \`${branch.name}\` of step \`${step.id}\``);
          this.define(`${step.id}.${branch.name}`, input.type, input.key);
        }
        return;
      }
      case 'validate': {
        for (const rule of step.rules) this.condition(rule.value, input.type, `rule \`${rule.name}\` of step \`${step.id}\``);
        this.define(step.id, input.type, input.key);
        this.define(step.invalidOutput, {
          kind: 'record',
          name: pascalCase(step.invalidOutput),
          fields: [...input.type.fields, { name: 'failed_rules', type: { kind: 'list', element: STRING }, optional: false }],
        }, input.key);
        return;
      }
      case 'window': {
        const key = step.keyBy ? this.key(step.keyBy, input.type) : input.key;
        if (step.keyBy && key === undefined) return;
        const keyFields = (key?.spec.fields ?? []).map((field, i): Field => ({ name: field.name, type: key!.types[i], optional: false }));
        const aggregates = step.aggregates.flatMap((aggregate) => this.aggregate(aggregate, input.type) ?? []);
        this.define(step.id, own([
          ...keyFields,
          { name: 'window_start', type: TIMESTAMP, optional: false },
          { name: 'window_end', type: TIMESTAMP, optional: false },
          ...aggregates,
        ]), key);
        if (step.lateOutput !== undefined) this.define(step.lateOutput, input.type, key);
        return;
      }
    }
  }

  private condition(spec: SpecExpr, scope: RecordType, where: string): void {
    const typed = this.typeOf(spec, scope);
    if (typed && (!isPrimitive(typed.type, 'bool') || typed.optional)) {
      this.error('PC306', spec.at, { where, type: typeToString(typed.type) + (typed.optional ? '?' : '') });
    }
  }

  private key(spec: KeySpec, scope: RecordType): TypedKey | undefined {
    const types: Type[] = [];
    for (const field of spec.fields) {
      const typed = this.typeOf(field.value, scope);
      if (typed === undefined) return undefined;
      types.push(typed.type);
    }
    return { spec, types };
  }

  /** The output field of an aggregate (DESIGN §4.4), e.g. `sum(price * quantity)` → float. */
  private aggregate(aggregate: Aggregate, scope: RecordType): Field | undefined {
    const argument = aggregate.argument && this.typeOf(aggregate.argument, scope);
    if (aggregate.argument && argument === undefined) return undefined;
    const field = (type: Type, optional: boolean): Field => ({ name: aggregate.name, type, optional });
    const numeric = () => {
      if (argument && !isNumeric(argument.type)) {
        this.error('PC305', aggregate.at, { name: aggregate.fn, detail: `needs a number, got ${typeToString(argument.type)}` });
        return false;
      }
      return true;
    };
    switch (aggregate.fn) {
      case 'count':
      case 'count_distinct':
        return field(INT, false);
      case 'sum':
        return numeric() ? field(argument && isPrimitive(argument.type, 'int') ? INT : FLOAT, false) : undefined;
      case 'avg':
      case 'percentile':
        return numeric() ? field(FLOAT, argument?.optional ?? false) : undefined;
      case 'stddev':
        return numeric() ? field(FLOAT, true) : undefined;
      case 'min':
      case 'max':
      case 'first':
      case 'last':
        return argument && field(argument.type, argument.optional);
      case 'collect':
        return argument && field({ kind: 'list', element: argument.type }, false);
    }
  }
}

/** The spec type a Kafka metadata column has: `key`, `topic`, `operation` and `headers.NAME` are strings, `headers` a map of them. */
function metadataType(what: string): 'string' | 'int' | 'timestamp' | 'map<string>' {
  if (what === 'partition' || what === 'offset') return 'int';
  if (what === 'timestamp') return 'timestamp';
  if (what === 'headers') return 'map<string>';
  return 'string';
}
