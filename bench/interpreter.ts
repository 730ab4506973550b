// An unfused interpreter of a typed pipeline: the benchmark's picture of what a naive engine does with the same spec.
//
// It walks the IR instead of compiling it: records are decoded by walking their type, every step is an object with
// one generic `process` method, a stream hands each record to its consumers through that method, every expression
// is evaluated by walking its tree (evaluate.ts), and windows run the runtime's own operators with one generic
// accumulator (a slot per aggregate, each aggregate dispatched on its function for every record). Sources, sinks,
// exchanges, watermarks and the executor are the runtime's, as for a compiled job, and so is the output: record for
// record and byte for byte the compiled job's, which is what lets the benchmark compare the two.

import * as rt from '../runtime/index.ts';
import type { Decoder, ElementReader, JobDefinition, JobEntries, Key, NestedDecoder, RawRecord, SinkDefinition, SourceDefinition, Task } from '../runtime/index.ts';
import { assertNever } from '../compiler/ir/expr.ts';
import type { Aggregate, AggregateFunction, KeySpec, SinkNode, SourceNode, StepNode, StreamInfo, TypedPipeline } from '../compiler/ir/pipeline.ts';
import { isNumeric, type PrimitiveName, type RecordType, type Type } from '../compiler/ir/types.ts';
import { aggregateArgumentType } from '../compiler/check/index.ts';
import { stateSchema } from '../compiler/state/index.ts';
import { Expression, type Row } from './evaluate.ts';

/** A job definition that interprets `typed`; run it with the runtime's runJob like a compiled job. */
export function interpretJob(typed: TypedPipeline): JobDefinition {
  const pipeline = typed.pipeline;
  return {
    name: pipeline.name,
    spec: pipeline.source.path,
    pipecVersion: 'interpreter',
    sources: pipeline.sources.map((source) => sourceDefinition(source, streamOf(typed, source.id).type)),
    sinks: pipeline.sinks.map(sinkDefinition),
    checkpoints: pipeline.checkpoints.declared ? { intervalMs: pipeline.checkpoints.intervalMs, mode: pipeline.checkpoints.mode, retain: pipeline.checkpoints.retain } : undefined,
    state: pipeline.state,
    restart: pipeline.restart,
    stateSchema: stateSchema(typed),
    build: (task) => new JobBuilder(typed, task).build(),
  };
}

function streamOf(typed: TypedPipeline, name: string): StreamInfo {
  const stream = typed.streams.get(name);
  if (stream === undefined) throw new Error(`interpreter: stream ${name} has no type`);
  return stream;
}

// ---- sources and sinks

function sourceDefinition(source: SourceNode, type: RecordType): SourceDefinition {
  const connector = source.connector;
  if (connector !== 'file' && connector !== 'generator') throw new Error(`interpreter: source ${source.id}: the runtime has no ${connector} connector`);
  const decode = recordDecoder(type);
  const eventTime = source.eventTime;
  const field = eventTime?.field;
  return {
    id: source.id,
    connector,
    options: source.options,
    decode,
    eventTime:
      eventTime === undefined
        ? undefined
        : { extract: (record: Row) => record[field!] as number, maxOutOfOrdernessMs: eventTime.maxOutOfOrdernessMs, idleTimeoutMs: eventTime.idleTimeoutMs },
  };
}

function sinkDefinition(sink: SinkNode): SinkDefinition {
  const connector = sink.connector;
  if (connector !== 'file' && connector !== 'stdout') throw new Error(`interpreter: sink ${sink.id}: the runtime has no ${connector} connector`);
  return { id: sink.id, connector, options: sink.options };
}

// ---- decoding by walking the record type

type FieldReader = (raw: RawRecord, field: string, decoder: Decoder) => unknown;

interface PrimitiveReaders {
  readonly required: FieldReader;
  readonly optional: FieldReader;
  readonly element: ElementReader<unknown>;
}

const primitiveReaders: Readonly<Record<PrimitiveName, PrimitiveReaders>> = {
  string: { required: rt.readString, optional: rt.readOptionalString, element: rt.readStringElement },
  int: { required: rt.readInt, optional: rt.readOptionalInt, element: rt.readIntElement },
  float: { required: rt.readFloat, optional: rt.readOptionalFloat, element: rt.readFloatElement },
  bool: { required: rt.readBool, optional: rt.readOptionalBool, element: rt.readBoolElement },
  timestamp: { required: rt.readTimestamp, optional: rt.readOptionalTimestamp, element: rt.readTimestampElement },
  json: { required: rt.readJson, optional: rt.readOptionalJson, element: rt.readJsonElement },
};

/** Reads a record field by field in the order of its type, as the compiled decoders do. */
function recordDecoder(type: RecordType): NestedDecoder<Row> {
  const fields = type.fields.map((field) => ({ name: field.name, read: fieldReader(field.type, field.optional) }));
  return (raw, decoder) => {
    const row: Row = {};
    for (const field of fields) row[field.name] = field.read(raw, field.name, decoder);
    return row;
  };
}

function fieldReader(type: Type, optional: boolean): FieldReader {
  switch (type.kind) {
    case 'primitive':
      return optional ? primitiveReaders[type.name].optional : primitiveReaders[type.name].required;
    case 'list': {
      const element = elementReader(type.element);
      return optional ? (raw, field, d) => rt.readOptionalList(raw, field, d, element) : (raw, field, d) => rt.readList(raw, field, d, element);
    }
    case 'map': {
      const element = elementReader(type.value);
      return optional ? (raw, field, d) => rt.readOptionalMap(raw, field, d, element) : (raw, field, d) => rt.readMap(raw, field, d, element);
    }
    case 'record': {
      const decode = recordDecoder(type);
      return optional ? (raw, field, d) => rt.readOptionalRecord(raw, field, d, decode) : (raw, field, d) => rt.readRecord(raw, field, d, decode);
    }
    case 'null':
      return () => null;
    default:
      return assertNever(type);
  }
}

function elementReader(type: Type): ElementReader<unknown> {
  switch (type.kind) {
    case 'primitive':
      return primitiveReaders[type.name].element;
    case 'list':
      return rt.listElement(elementReader(type.element));
    case 'map':
      return rt.mapElement(elementReader(type.value));
    case 'record':
      return rt.recordElement(recordDecoder(type));
    case 'null':
      return rt.readJsonElement;
    default:
      return assertNever(type);
  }
}

// ---- steps

/** Anything a stream hands records to: a step, a sink, or another stream. */
interface Consumer {
  /** `key` is the record's key on a keyed stream, '' on one that is not keyed. */
  process(record: Row, key: Key, time: number): void;
}

/** A stream of the pipeline: hands every record to each of its consumers in turn, steps first, then sinks. */
class Stream implements Consumer {
  readonly consumers: Consumer[] = [];

  process(record: Row, key: Key, time: number): void {
    for (const consumer of this.consumers) consumer.process(record, key, time);
  }
}

class SinkStep implements Consumer {
  constructor(private readonly writer: rt.SinkWriter<Row>) {}

  process(record: Row): void {
    this.writer.write(record);
  }
}

class FilterStep implements Consumer {
  constructor(
    private readonly condition: Expression,
    private readonly output: Stream,
  ) {}

  process(record: Row, key: Key, time: number): void {
    if (this.condition.evaluate(record)) this.output.process(record, key, time);
  }
}

/** `map`, `set` and `explode` build a new record field by field: a field is computed, copied, or the exploded element. */
type FieldSource = { readonly name: string } & (
  | { readonly kind: 'computed'; readonly value: Expression }
  | { readonly kind: 'copied' }
  | { readonly kind: 'element' }
);

function buildRecord(fields: readonly FieldSource[], record: Row, element: unknown): Row {
  const built: Row = {};
  for (const field of fields) {
    switch (field.kind) {
      case 'computed':
        built[field.name] = field.value.evaluate(record);
        break;
      case 'copied':
        built[field.name] = record[field.name];
        break;
      case 'element':
        built[field.name] = element;
        break;
      default:
        assertNever(field);
    }
  }
  return built;
}

class BuildStep implements Consumer {
  constructor(
    private readonly fields: readonly FieldSource[],
    private readonly output: Stream,
  ) {}

  process(record: Row, key: Key, time: number): void {
    this.output.process(buildRecord(this.fields, record, undefined), key, time);
  }
}

class ExplodeStep implements Consumer {
  constructor(
    private readonly field: string,
    private readonly fields: readonly FieldSource[],
    private readonly output: Stream,
  ) {}

  process(record: Row, key: Key, time: number): void {
    const list = (record[this.field] ?? []) as readonly unknown[];
    for (const element of list) this.output.process(buildRecord(this.fields, record, element), key, time);
  }
}

/** The key of a record by a key spec: one field's value, or the composite of several. */
class KeyOf {
  private readonly fields: readonly Expression[];

  constructor(key: KeySpec, scope: RecordType) {
    this.fields = key.fields.map((field) => new Expression(field.value.expr, scope));
  }

  evaluate(record: Row): Key {
    if (this.fields.length === 1) return this.fields[0].evaluate(record) as Key;
    return rt.compositeKey(...this.fields.map((field) => field.evaluate(record) as string | number | boolean | null));
  }
}

class KeyByStep implements Consumer {
  constructor(
    private readonly key: KeyOf,
    private readonly exchange: rt.ExchangeSender<Key, Row>,
  ) {}

  process(record: Row, _key: Key, time: number): void {
    this.exchange.send(this.key.evaluate(record), record, time);
  }
}

class SplitStep implements Consumer {
  constructor(private readonly branches: readonly { readonly condition: Expression; readonly output: Stream }[]) {}

  process(record: Row, key: Key, time: number): void {
    for (const branch of this.branches) {
      if (branch.condition.evaluate(record)) {
        branch.output.process(record, key, time);
        return;
      }
    }
  }
}

/** Dedupe partitions by its key, as the compiled job does: records reach the task that owns the key, then its operator. */
class DedupeStep implements Consumer {
  constructor(
    private readonly key: KeyOf,
    private readonly exchange: rt.ExchangeSender<Key, Row>,
  ) {}

  process(record: Row, _key: Key, time: number): void {
    this.exchange.send(this.key.evaluate(record), record, time);
  }
}

class ValidateStep implements Consumer {
  constructor(
    private readonly rules: readonly { readonly name: string; readonly condition: Expression }[],
    private readonly invalidFields: readonly string[],
    private readonly output: Stream,
    private readonly invalidOutput: Stream,
  ) {}

  process(record: Row, key: Key, time: number): void {
    let failed: string[] | undefined;
    for (const rule of this.rules) if (!rule.condition.evaluate(record)) (failed ??= []).push(rule.name);
    if (failed === undefined) {
      this.output.process(record, key, time);
      return;
    }
    const invalid: Row = {};
    for (const name of this.invalidFields) invalid[name] = name === 'failed_rules' ? failed : record[name];
    this.invalidOutput.process(invalid, key, time);
  }
}

/** A window step: records reach the operator directly (keyed input) or through the step's own exchange. */
class WindowStep implements Consumer {
  constructor(
    private readonly operator: { process(key: Key, record: Row, time: number): void },
    private readonly input: { readonly exchange: rt.ExchangeSender<Key, Row>; readonly key: KeyOf | undefined } | undefined,
  ) {}

  process(record: Row, key: Key, time: number): void {
    const input = this.input;
    if (input === undefined) this.operator.process(key, record, time);
    else input.exchange.send(input.key === undefined ? '' : input.key.evaluate(record), record, time);
  }
}

// ---- the generic accumulator

interface Average {
  sum: number;
  count: number;
}

/** One accumulator for every window step: the key and one slot per aggregate, of a shape that depends on the function. */
interface GenericAccumulator {
  readonly key: Key;
  readonly slots: unknown[];
}

interface AggregateStep {
  readonly name: string;
  readonly fn: AggregateFunction;
  /** Undefined for `count()`. */
  readonly argument: Expression | undefined;
  readonly percentile: number | undefined;
  /** Its argument values are numbers, which checkpoints write with rt.saveNumber. */
  readonly numeric: boolean;
}

function emptySlot(fn: AggregateFunction): unknown {
  switch (fn) {
    case 'count':
    case 'sum':
      return 0;
    case 'avg':
      return { sum: 0, count: 0 } satisfies Average;
    case 'min':
    case 'max':
      return null;
    case 'count_distinct':
      return new rt.DistinctCount<unknown>();
    case 'first':
      return new rt.FirstValue<unknown>();
    case 'last':
      return new rt.LastValue<unknown>();
    case 'collect':
      return new rt.Collect<unknown>();
    case 'stddev':
      return new rt.Variance();
    case 'percentile':
      return new rt.Percentile();
    default:
      return assertNever(fn);
  }
}

/** The slot after adding `value` (a null value is skipped before this, as the compiled code skips it). */
function addToSlot(fn: AggregateFunction, slot: unknown, value: unknown, time: number): unknown {
  switch (fn) {
    case 'count':
      return (slot as number) + 1;
    case 'sum':
      return (slot as number) + (value as number);
    case 'avg':
      (slot as Average).sum += value as number;
      (slot as Average).count += 1;
      return slot;
    case 'min':
      return slot === null || (value as number) < (slot as number) ? value : slot;
    case 'max':
      return slot === null || (value as number) > (slot as number) ? value : slot;
    case 'count_distinct':
      (slot as rt.DistinctCount<unknown>).add(value);
      return slot;
    case 'first':
      (slot as rt.FirstValue<unknown>).add(value, time);
      return slot;
    case 'last':
      (slot as rt.LastValue<unknown>).add(value, time);
      return slot;
    case 'collect':
      (slot as rt.Collect<unknown>).add(value, time);
      return slot;
    case 'stddev':
      (slot as rt.Variance).add(value as number);
      return slot;
    case 'percentile':
      (slot as rt.Percentile).add(value as number);
      return slot;
    default:
      return assertNever(fn);
  }
}

function mergeSlots(fn: AggregateFunction, into: unknown, from: unknown): unknown {
  switch (fn) {
    case 'count':
    case 'sum':
      return (into as number) + (from as number);
    case 'avg':
      (into as Average).sum += (from as Average).sum;
      (into as Average).count += (from as Average).count;
      return into;
    case 'min':
      return from !== null && (into === null || (from as number) < (into as number)) ? from : into;
    case 'max':
      return from !== null && (into === null || (from as number) > (into as number)) ? from : into;
    case 'count_distinct':
      (into as rt.DistinctCount<unknown>).merge(from as rt.DistinctCount<unknown>);
      return into;
    case 'first':
      (into as rt.FirstValue<unknown>).merge(from as rt.FirstValue<unknown>);
      return into;
    case 'last':
      (into as rt.LastValue<unknown>).merge(from as rt.LastValue<unknown>);
      return into;
    case 'collect':
      (into as rt.Collect<unknown>).merge(from as rt.Collect<unknown>);
      return into;
    case 'stddev':
      (into as rt.Variance).merge(from as rt.Variance);
      return into;
    case 'percentile':
      (into as rt.Percentile).merge(from as rt.Percentile);
      return into;
    default:
      return assertNever(fn);
  }
}

function slotResult(aggregate: AggregateStep, slot: unknown): unknown {
  switch (aggregate.fn) {
    case 'count':
    case 'sum':
    case 'min':
    case 'max':
      return slot;
    case 'avg':
      return (slot as Average).count === 0 ? null : (slot as Average).sum / (slot as Average).count;
    case 'count_distinct':
      return (slot as rt.DistinctCount<unknown>).value();
    case 'first':
      return (slot as rt.FirstValue<unknown>).value();
    case 'last':
      return (slot as rt.LastValue<unknown>).value();
    case 'collect':
      return (slot as rt.Collect<unknown>).value();
    case 'stddev':
      return (slot as rt.Variance).sampleStddev();
    case 'percentile':
      return (slot as rt.Percentile).value(aggregate.percentile!);
    default:
      return assertNever(aggregate.fn);
  }
}

/** A slot as plain JSON data for checkpoints: what the compiled `save` writes for the aggregate. */
function saveSlot(aggregate: AggregateStep, slot: unknown): unknown {
  switch (aggregate.fn) {
    case 'count':
      return slot;
    case 'sum':
      return rt.saveNumber(slot as number);
    case 'avg':
      return rt.saveAverage((slot as Average).sum, (slot as Average).count);
    case 'min':
    case 'max':
      return aggregate.numeric ? rt.saveNumber(slot as number | null) : slot;
    case 'count_distinct':
    case 'first':
    case 'last':
    case 'collect':
    case 'stddev':
    case 'percentile':
      return (slot as { save(): unknown }).save();
    default:
      return assertNever(aggregate.fn);
  }
}

/** The slot `saveSlot` wrote. */
function loadSlot(aggregate: AggregateStep, saved: unknown): unknown {
  const loadValue = aggregate.numeric ? rt.loadNumber : rt.loadAsIs;
  switch (aggregate.fn) {
    case 'count':
    case 'sum':
      return rt.loadNumber(saved);
    case 'avg': {
      const [sum, count] = rt.loadAverage(saved);
      return { sum, count } satisfies Average;
    }
    case 'min':
    case 'max':
      return aggregate.numeric ? rt.loadOptionalNumber(saved) : saved;
    case 'count_distinct':
      return rt.DistinctCount.load(saved, loadValue);
    case 'first':
      return rt.FirstValue.load(saved, loadValue);
    case 'last':
      return rt.LastValue.load(saved, loadValue);
    case 'collect':
      return rt.Collect.load(saved, loadValue);
    case 'stddev':
      return rt.Variance.load(saved);
    case 'percentile':
      return rt.Percentile.load(saved);
    default:
      return assertNever(aggregate.fn);
  }
}

/** The aggregation of any window step, driven by its list of aggregates. */
export class GenericAggregation implements rt.WindowAggregation<Key, Row, GenericAccumulator, Row> {
  constructor(
    private readonly aggregates: readonly AggregateStep[],
    /** The output's key fields, in order. */
    private readonly keyFields: readonly string[],
  ) {}

  create(key: Key): GenericAccumulator {
    return { key, slots: this.aggregates.map((aggregate) => emptySlot(aggregate.fn)) };
  }

  add(acc: GenericAccumulator, record: Row, time: number): void {
    for (let i = 0; i < this.aggregates.length; i++) {
      const aggregate = this.aggregates[i];
      const value = aggregate.argument === undefined ? undefined : aggregate.argument.evaluate(record);
      // An aggregate skips null values (count(x) counts the non-null ones); count() counts every record.
      if (aggregate.argument !== undefined && value === null) continue;
      acc.slots[i] = addToSlot(aggregate.fn, acc.slots[i], value, time);
    }
  }

  merge(into: GenericAccumulator, from: GenericAccumulator): void {
    for (let i = 0; i < this.aggregates.length; i++) into.slots[i] = mergeSlots(this.aggregates[i].fn, into.slots[i], from.slots[i]);
  }

  result(acc: GenericAccumulator, windowStart: number, windowEnd: number): Row {
    const row: Row = {};
    const keyFields = this.keyFields;
    for (let i = 0; i < keyFields.length; i++) row[keyFields[i]] = keyFields.length === 1 ? acc.key : rt.keyPart(acc.key as string, i);
    row.window_start = windowStart;
    row.window_end = windowEnd;
    for (let i = 0; i < this.aggregates.length; i++) row[this.aggregates[i].name] = slotResult(this.aggregates[i], acc.slots[i]);
    return row;
  }

  save(acc: GenericAccumulator): rt.SavedAccumulator {
    const saved: Record<string, unknown> = {};
    for (let i = 0; i < this.aggregates.length; i++) saved[this.aggregates[i].name] = saveSlot(this.aggregates[i], acc.slots[i]);
    return saved;
  }

  load(key: Key, saved: rt.SavedAccumulator): GenericAccumulator {
    const acc = this.create(key);
    for (let i = 0; i < this.aggregates.length; i++) {
      const aggregate = this.aggregates[i];
      if (saved[aggregate.name] !== undefined) acc.slots[i] = loadSlot(aggregate, saved[aggregate.name]);
    }
    return acc;
  }
}

/** The generic aggregation of a window step, as the interpreter runs it. */
export function genericAggregation(step: Extract<StepNode, { kind: 'window' }>, scope: RecordType, windowed: StreamInfo): GenericAggregation {
  return new GenericAggregation(
    step.aggregates.map((aggregate: Aggregate) => {
      const argumentType = aggregateArgumentType(aggregate, scope);
      return {
        name: aggregate.name,
        fn: aggregate.fn,
        argument: aggregate.argument === undefined ? undefined : new Expression(aggregate.argument.expr, scope),
        percentile: aggregate.percentile,
        numeric: argumentType !== undefined && isNumeric(argumentType),
      };
    }),
    (windowed.key?.spec.fields ?? []).map((field) => field.name),
  );
}

// ---- building one task's steps

/** The streams a step produces: its id, or its branches for a split; plus late and invalid outputs. */
function streamsOf(step: StepNode): string[] {
  switch (step.kind) {
    case 'split':
      return step.branches.map((branch) => `${step.id}.${branch.name}`);
    case 'window':
      return step.lateOutput === undefined ? [step.id] : [step.id, step.lateOutput];
    case 'validate':
      return [step.id, step.invalidOutput];
    case 'filter':
    case 'map':
    case 'set':
    case 'explode':
    case 'key_by':
    case 'union':
    case 'dedupe':
      return [step.id];
    default:
      return assertNever(step);
  }
}

class JobBuilder {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly typed: TypedPipeline,
    private readonly task: Task,
  ) {}

  build(): JobEntries {
    const pipeline = this.typed.pipeline;
    for (const source of pipeline.sources) {
      this.streams.set(source.id, new Stream());
      if (source.deadLetter !== undefined) this.streams.set(source.deadLetter, new Stream());
    }
    for (const step of pipeline.steps) for (const name of streamsOf(step)) this.streams.set(name, new Stream());
    // Consumers in the compiled code's order: the steps reading a stream in topological order, then its sinks.
    for (const step of pipeline.steps) {
      const consumer = this.step(step);
      for (const ref of step.from) this.stream(ref.name).consumers.push(consumer);
    }
    for (const sink of pipeline.sinks) this.stream(sink.from.name).consumers.push(new SinkStep(this.task.sink<Row>(sink.id)));
    const entries: Record<string, JobEntries[string]> = {};
    for (const source of pipeline.sources) {
      const records = this.stream(source.id);
      const deadLetters = source.deadLetter === undefined ? undefined : this.stream(source.deadLetter);
      entries[source.id] = {
        record: (record: Row, time: number) => records.process(record, '', time),
        ...(deadLetters === undefined ? {} : { deadLetter: (record: rt.DeadLetterRecord, time: number) => deadLetters.process(record as unknown as Row, '', time) }),
      };
    }
    return entries;
  }

  private stream(name: string): Stream {
    const stream = this.streams.get(name);
    if (stream === undefined) throw new Error(`interpreter: no stream ${name}`);
    return stream;
  }

  private info(name: string): StreamInfo {
    return streamOf(this.typed, name);
  }

  private step(step: StepNode): Consumer {
    // The type of the records the step reads (a union's inputs all have one type).
    const scope = this.info(step.from[0].name).type;
    const output = this.stream(streamsOf(step)[0]);
    switch (step.kind) {
      case 'filter':
        return new FilterStep(new Expression(step.condition.expr, scope), output);
      case 'map':
        return new BuildStep(
          step.fields.map((field) => ({ name: field.name, kind: 'computed', value: new Expression(field.value.expr, scope) })),
          output,
        );
      case 'set':
        return new BuildStep(
          this.info(step.id).type.fields.map((field): FieldSource => {
            const assigned = step.fields.find((f) => f.name === field.name);
            return assigned ? { name: field.name, kind: 'computed', value: new Expression(assigned.value.expr, scope) } : { name: field.name, kind: 'copied' };
          }),
          output,
        );
      case 'explode':
        return new ExplodeStep(
          step.field,
          this.info(step.id).type.fields.map((field): FieldSource => ({ name: field.name, kind: field.name === step.field ? 'element' : 'copied' })),
          output,
        );
      case 'key_by':
        return new KeyByStep(new KeyOf(step.key, scope), this.exchange(step.id, output));
      case 'union':
        return output;
      case 'split':
        return new SplitStep(
          step.branches.map((branch) => ({ condition: new Expression(branch.value.expr, scope), output: this.stream(`${step.id}.${branch.name}`) })),
        );
      case 'dedupe': {
        const options = { id: step.id, uid: step.state.uid, withinMs: step.withinMs };
        const operator = this.task.register(new rt.DedupeOperator(options));
        const exchange = this.task.exchange<Key, Row>(step.id, (key, record, time) => {
          if (operator.isFirst(key, time)) output.process(record, key, time);
        });
        return new DedupeStep(new KeyOf(step.key, scope), exchange);
      }
      case 'validate':
        return new ValidateStep(
          step.rules.map((rule) => ({ name: rule.name, condition: new Expression(rule.value.expr, scope) })),
          this.info(step.invalidOutput).type.fields.map((field) => field.name),
          output,
          this.stream(step.invalidOutput),
        );
      case 'window':
        return this.window(step, scope, output);
      default:
        return assertNever(step);
    }
  }

  /** An exchange whose receiving end hands keyed records on to `output`. */
  private exchange(id: string, output: Stream): rt.ExchangeSender<Key, Row> {
    return this.task.exchange<Key, Row>(id, (key, record, time) => output.process(record, key, time));
  }

  private window(step: Extract<StepNode, { kind: 'window' }>, scope: RecordType, output: Stream): Consumer {
    const aggregation = genericAggregation(step, scope, this.info(step.id));
    const late = step.lateOutput === undefined ? undefined : this.stream(step.lateOutput);
    const common = {
      id: step.id,
      uid: step.state.uid,
      allowedLatenessMs: step.allowedLatenessMs,
      aggregation,
      emit: (key: Key, row: Row, time: number) => output.process(row, key, time),
      late: late === undefined ? undefined : (key: Key, record: Row, time: number) => late.process(record, key, time),
      metrics: this.task.metrics,
    };
    const window = step.window;
    let operator: { process(key: Key, record: Row, time: number): void } & rt.Operator;
    switch (window.kind) {
      case 'tumbling':
        operator = new rt.TumblingWindowOperator({ ...common, sizeMs: window.sizeMs, offsetMs: window.offsetMs });
        break;
      case 'sliding':
        operator = new rt.SlidingWindowOperator({ ...common, sizeMs: window.sizeMs, slideMs: window.slideMs, offsetMs: window.offsetMs });
        break;
      case 'session':
        operator = new rt.SessionWindowOperator({ ...common, gapMs: window.gapMs });
        break;
      case 'global':
        operator = new rt.GlobalWindowOperator({ ...common, trigger: window.trigger, evictor: window.evictor });
        break;
      default:
        return assertNever(window);
    }
    this.task.register(operator);
    // As compiled: a window keys its own input when it names a key or its input is not keyed.
    const keysItsInput = step.keyBy !== undefined || this.info(step.from[0].name).key === undefined;
    if (!keysItsInput) return new WindowStep(operator, undefined);
    const exchange = this.task.exchange<Key, Row>(step.id, (key, record, time) => operator.process(key, record, time));
    return new WindowStep(operator, { exchange, key: step.keyBy === undefined ? undefined : new KeyOf(step.keyBy, scope) });
  }
}
