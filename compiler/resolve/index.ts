// Phase 3, resolve: a validated spec document → the pipeline graph IR (names, `from` edges, types declared, topological order).

import { formatPath, type LoadedSpec } from '../load/index.ts';
import { diagnostic, suggestion, type Diagnostic, type DiagnosticArgs } from '../diagnostics/diagnostic.ts';
import type { DiagnosticCode } from '../diagnostics/codes.ts';
import type { SpecExpr } from '../ir/expr.ts';
import { parseDuration } from '../ir/duration.ts';
import type {
  Aggregate, KeySpec, NamedExpr, Pipeline, SinkExpressions, SinkNode, SourceNode, StepNode, StreamRef, WindowSpec,
} from '../ir/pipeline.ts';
import type { Field, RecordType, Type } from '../ir/types.ts';
import { datasetTypes } from '../../runtime/connectors/generator/schema.ts';
import { parseAggregateCall, parseExpression, parseTypeString } from './expression.ts';
import { OPERATOR_KEYS, type KeyBy, type Scalar, type SpecDocument, type SpecSink, type SpecSource, type SpecStep, type SpecWindow } from './spec.ts';

export interface ResolveResult {
  /** The graph, with the steps that had errors left out, so that later phases still report what they find. */
  readonly pipeline: Pipeline;
  readonly diagnostics: readonly Diagnostic[];
}

type Path = readonly (string | number)[];

/** Builds the graph IR and reports every problem it finds. */
export function resolve(spec: LoadedSpec): ResolveResult {
  const resolver = new Resolver(spec);
  const pipeline = resolver.run();
  return { pipeline, diagnostics: resolver.diagnostics };
}

/** Keys of a source or sink that are not a connector's options. */
const COMMON_KEYS = new Set(['connector', 'type', 'event_time', 'dead_letter', 'from', 'description']);
/** Blocks of options named after a connector. */
const CONNECTOR_BLOCKS = new Set(['file', 'generator', 'kafka', 'postgres-cdc', 'stdout', 'postgres']);

/** Record type names for the generator's datasets when a source names none: `orders` → `Order`. */
const DATASET_TYPE_NAMES: Readonly<Record<string, string>> = {
  orders: 'Order', clicks: 'Click', payments: 'Payment', users: 'User', inventory: 'InventoryEvent',
};

class Resolver {
  readonly diagnostics: Diagnostic[] = [];
  private readonly doc: SpecDocument;
  /** Every name a `from` may refer to, with where it is defined. */
  private readonly streams = new Map<string, number>();
  private readonly ids = new Map<string, number>();

  constructor(private readonly spec: LoadedSpec) {
    this.doc = spec.value as SpecDocument;
  }

  run(): Pipeline {
    const types = this.resolveTypes();
    const sources = Object.entries(this.doc.sources ?? {}).map(([id, source]) => this.resolveSource(id, source, types));
    const unsortedSteps = (this.doc.steps ?? []).flatMap((step, index) => this.resolveStep(step, index) ?? []);
    const sinks = Object.entries(this.doc.sinks ?? {}).map(([id, sink]) => this.resolveSink(id, sink));
    this.checkReferences(unsortedSteps, sinks);
    const steps = this.sortSteps(unsortedSteps);
    this.reportDeadEnds(sources, steps, sinks);
    this.checkUids(unsortedSteps);
    // A default ttl is for the declared state of `process` steps; windows and dedupe free their state themselves.
    if (this.doc.state?.ttl !== undefined) this.report('PC208', ['state', 'ttl'], { feature: '`state.ttl` (the default ttl of `process` steps\' state)' }, 'key');
    const checkpoints = this.doc.checkpoints ?? {};
    const restart = this.doc.restart;
    return {
      name: this.doc.pipeline,
      description: this.doc.description ?? '',
      source: this.spec.source,
      params: this.spec.params,
      types,
      sources,
      steps,
      sinks,
      checkpoints: {
        declared: this.doc.checkpoints !== undefined,
        intervalMs: this.duration(checkpoints.interval, ['checkpoints', 'interval'], 10_000),
        mode: checkpoints.mode ?? 'exactly_once',
        retain: checkpoints.retain ?? 3,
      },
      state: { backend: this.doc.state?.backend ?? 'rocksdb' },
      restart: restart && { attempts: restart.attempts ?? 3, delayMs: this.duration(restart.delay, ['restart', 'delay'], 10_000) },
    };
  }

  // ---- diagnostics and positions

  private report(code: DiagnosticCode, path: Path, args: DiagnosticArgs = {}, part: 'key' | 'value' = 'value'): void {
    this.diagnostics.push(diagnostic(code, { source: this.spec.source, offset: this.spec.offsetOf(path, part) }, args));
  }

  private at(path: Path, part: 'key' | 'value' = 'value'): number {
    return this.spec.offsetOf(path, part);
  }

  /** Claims an id; false (and PC203) when it is taken. */
  private define(name: string, path: Path, isStream: boolean): boolean {
    if (this.ids.has(name)) {
      this.report('PC203', path, { name });
      return false;
    }
    this.ids.set(name, this.at(path));
    if (isStream) this.streams.set(name, this.at(path));
    return true;
  }

  private duration(text: string | undefined, path: Path, fallback: number): number {
    if (text === undefined) return fallback;
    const ms = parseDuration(text);
    if (ms === undefined) {
      this.report('PC105', path, { path: formatPath(path), value: JSON.stringify(text) });
      return fallback;
    }
    return ms;
  }

  private expression(value: Scalar, path: Path): SpecExpr | undefined {
    const text = String(value);
    const at = this.spec.contentOffset(path);
    const { expr, errors } = parseExpression(text);
    for (const error of errors) {
      this.diagnostics.push(diagnostic(error.code, { source: this.spec.source, offset: this.spec.offsetInText(path, error.at) }, error.args));
    }
    return expr && errors.length === 0 ? { text, expr, at, offsets: this.offsets(path, text, at) } : undefined;
  }

  /** Where each character of a string value is in the file, when that is not simply `at + i`. */
  private offsets(path: Path, text: string, at: number): number[] | undefined {
    const offsets = Array.from({ length: text.length + 1 }, (_, i) => this.spec.offsetInText(path, i));
    return offsets.every((offset, i) => offset === at + i) ? undefined : offsets;
  }

  private namedExpressions(entries: Readonly<Record<string, Scalar>>, path: Path): NamedExpr[] {
    return Object.entries(entries).flatMap(([name, value]) => this.namedExpression(name, value, [...path, name]));
  }

  /** The expression at `path` named `name`, or nothing when it has errors (they are reported). */
  private namedExpression(name: string, value: Scalar, path: Path): NamedExpr[] {
    const spec = this.expression(value, path);
    return spec ? [{ name, value: spec }] : [];
  }

  // ---- types

  private readonly types = new Map<string, RecordType>();
  private readonly resolvingTypes = new Set<string>();

  /** Declared types, resolved in any order (they may refer to each other), plus the generator datasets' types. */
  private resolveTypes(): Map<string, RecordType> {
    for (const name of Object.keys(this.doc.types ?? {})) this.namedType(name, ['types', name]);
    for (const [id, source] of Object.entries(this.doc.sources ?? {})) {
      const dataset = this.connectorOptions(source, ['sources', id], false).dataset;
      const name = source.type === undefined && source.connector === 'generator' ? DATASET_TYPE_NAMES[String(dataset)] : undefined;
      if (name !== undefined && !this.types.has(name)) {
        const fields = datasetTypes[dataset as keyof typeof datasetTypes];
        this.types.set(name, { kind: 'record', name, fields: this.fields(fields, ['sources', id, 'dataset']) });
      }
    }
    return this.types;
  }

  private namedType(name: string, path: Path): RecordType | undefined {
    const existing = this.types.get(name);
    if (existing) return existing;
    const declared = this.doc.types ?? {};
    const fields = declared[name];
    if (fields === undefined || this.resolvingTypes.has(name)) {
      const detail = fields === undefined ? suggestion(name, Object.keys(declared)) : ' (a type cannot contain itself)';
      this.report('PC205', path, { name, suggestion: detail });
      return undefined;
    }
    this.resolvingTypes.add(name);
    const record: RecordType = { kind: 'record', name, fields: this.fields(fields, ['types', name]) };
    this.resolvingTypes.delete(name);
    this.types.set(name, record);
    return record;
  }

  private fields(declared: Readonly<Record<string, string>>, path: Path): Field[] {
    return Object.entries(declared).flatMap(([fieldName, typeText]): Field[] => {
      const type = this.typeFromString(typeText, [...path, fieldName]);
      return type ? [{ name: fieldName, ...type }] : [];
    });
  }

  private typeFromString(text: string, path: Path): { type: Type; optional: boolean } | undefined {
    const parsed = parseTypeString(text);
    if (parsed.type === undefined) {
      this.report('PC102', path, { path: formatPath(path), detail: parsed.error ?? `not a type: ${JSON.stringify(text)}` });
      return undefined;
    }
    const fill = (type: Type): Type | undefined => {
      switch (type.kind) {
        case 'record':
          return this.namedType(type.name, path);
        case 'list': {
          const element = fill(type.element);
          return element && { kind: 'list', element };
        }
        case 'map': {
          const value = fill(type.value);
          return value && { kind: 'map', value };
        }
        case 'primitive':
        case 'null':
          return type;
      }
    };
    const type = fill(parsed.type);
    return type && { type, optional: parsed.optional };
  }

  // ---- sources and sinks

  private resolveSource(id: string, source: SpecSource, types: Map<string, RecordType>): SourceNode {
    const path = ['sources', id];
    this.define(id, path, true);
    if (source.connector === 'postgres-cdc') {
      this.report('PC208', [...path, 'connector'], { feature: `the \`${source.connector}\` source` });
    }
    const options = this.connectorOptions(source, path);
    const typeName = source.type ?? (source.connector === 'generator' ? DATASET_TYPE_NAMES[String(options.dataset)] : undefined) ?? '';
    if (source.type !== undefined && !types.has(source.type)) this.namedType(source.type, [...path, 'type']);
    if (source.dead_letter !== undefined) this.define(source.dead_letter, [...path, 'dead_letter'], true);
    const eventTime = source.event_time;
    for (const key of ['interval', 'max_lateness'] as const) {
      if (typeof options[key] === 'string') options[key] = this.duration(options[key] as string, [...path, key], 0);
    }
    if (source.connector === 'kafka') normalizeKafkaSourceOptions(options);
    return {
      id,
      connector: source.connector,
      options,
      typeName,
      eventTime:
        eventTime === undefined || (eventTime.field === undefined && eventTime.source !== 'timestamp')
          ? undefined
          : {
              field: eventTime.field,
              maxOutOfOrdernessMs: this.duration(eventTime.max_out_of_orderness, [...path, 'event_time', 'max_out_of_orderness'], 0),
              idleTimeoutMs: this.duration(eventTime.idle_timeout, [...path, 'event_time', 'idle_timeout'], 0),
              at: this.at([...path, 'event_time', eventTime.field === undefined ? 'source' : 'field']),
            },
      deadLetter: source.dead_letter,
      metadataAt: new Map(Object.keys(isObject(options.metadata) ? options.metadata : {}).map((name) => {
        const block = isObject(source.kafka) && isObject(source.kafka.metadata) && name in source.kafka.metadata;
        return [name, this.at([...path, ...(block ? ['kafka'] : []), 'metadata', name], 'key')];
      })),
      at: this.at(path, 'key'),
    };
  }

  private resolveSink(id: string, sink: SpecSink): SinkNode {
    const path = ['sinks', id];
    this.define(id, path, false);
    if (sink.connector === 'postgres') {
      this.report('PC208', [...path, 'connector'], { feature: `the \`${sink.connector}\` sink` });
    }
    const options = this.connectorOptions(sink, path);
    let expressions: SinkExpressions = { key: undefined, headers: [] };
    if (sink.connector === 'kafka') {
      // The key and headers are expressions, compiled into the job like a step's; the options keep the rest.
      const optionPath = (name: string) => (isObject(sink.kafka) && name in sink.kafka ? [...path, 'kafka', name] : [...path, name]);
      const { key, headers } = options;
      delete options.key;
      delete options.headers;
      expressions = {
        key: key === undefined ? undefined : this.expression(key as Scalar, optionPath('key')),
        headers: Object.entries(isObject(headers) ? headers : {}).flatMap(([name, value]) => {
          const expr = this.expression(value as Scalar, [...optionPath('headers'), name]);
          return expr === undefined ? [] : [{ name, value: expr }];
        }),
      };
    }
    return { id, from: { name: sink.from, at: this.at([...path, 'from']) }, connector: sink.connector, options, expressions, at: this.at(path, 'key') };
  }

  /**
   * The options of the chosen connector: those beside `connector`, plus those in the block named after it
   * (`file: { path: … }`), so that a parameter can choose the connector. Blocks of other connectors are dropped.
   */
  private connectorOptions(spec: { readonly connector: string; readonly [key: string]: unknown }, path: Path, report = true): Record<string, unknown> {
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(spec)) {
      if (!COMMON_KEYS.has(key) && !CONNECTOR_BLOCKS.has(key)) options[key] = value;
    }
    const block = spec[spec.connector];
    if (block !== null && typeof block === 'object') {
      for (const [key, value] of Object.entries(block as Record<string, unknown>)) {
        if (key in options && report) this.report('PC212', [...path, spec.connector, key], { name: key, connector: spec.connector }, 'key');
        options[key] = value;
      }
    }
    return options;
  }

  // ---- steps

  /** Streams some step or sink reads, including steps left out of the graph for their errors. */
  private readonly consumed = new Set<string>();

  private resolveStep(step: SpecStep, index: number): StepNode | undefined {
    const path = ['steps', index];
    const inputs = step.union ?? (step.from === undefined ? [] : typeof step.from === 'string' ? [step.from] : step.from);
    for (const name of inputs) this.consumed.add(name);
    // A step whose id is taken stays out of the graph: its edges would only add confusing errors.
    if (!this.define(step.id, [...path, 'id'], true)) return undefined;
    // `key_by` may stand beside the keyed operator it keys (`key_by` + `window` in one step, as in DESIGN §4).
    const operators = OPERATOR_KEYS.filter((key) => step[key] !== undefined && !(key === 'aggregate' && step.window !== undefined));
    const operator = operators.length > 1 ? operators.find((key) => key !== 'key_by') : operators[0];
    const fromList = inputs;
    const fromPath = step.union !== undefined ? [...path, 'union'] : [...path, 'from'];
    const from: StreamRef[] = fromList.map((name, i) => ({
      name,
      at: this.at(typeof step.from === 'string' && step.union === undefined ? fromPath : [...fromPath, i]),
    }));
    const base = { id: step.id, from, at: this.at(path) };
    if (step.broadcast !== undefined) this.report('PC208', [...path, 'broadcast'], { feature: '`broadcast`' }, 'key');
    if (operator === undefined || operator === 'union') {
      return { ...base, kind: 'union' };
    }
    if (from.length !== 1 && operator !== 'join') {
      this.report('PC210', [...path, 'from'], { name: step.id, count: from.length });
      return undefined;
    }
    const opPath = [...path, operator];
    switch (operator) {
      case 'filter': {
        const condition = this.expression(step.filter!, opPath);
        return condition && { ...base, kind: 'filter', condition };
      }
      case 'map':
        return { ...base, kind: 'map', fields: this.namedExpressions(step.map!, opPath) };
      case 'set':
        return { ...base, kind: 'set', fields: this.namedExpressions(step.set!, opPath) };
      case 'explode':
        return { ...base, kind: 'explode', field: step.explode!, fieldAt: this.at(opPath) };
      case 'key_by':
        return { ...base, kind: 'key_by', key: this.keySpec(step.key_by!, opPath, step.id) };
      case 'split':
        for (const branch of Object.keys(step.split!)) this.streams.set(`${step.id}.${branch}`, this.at([...opPath, branch], 'key'));
        return { ...base, kind: 'split', branches: this.namedExpressions(step.split!, opPath) };
      case 'dedupe':
        return {
          ...base,
          kind: 'dedupe',
          key: this.keySpec(step.dedupe!.key, [...opPath, 'key'], step.id),
          withinMs: this.duration(step.dedupe!.within, [...opPath, 'within'], 0),
          state: { uid: step.uid ?? step.id, reset: [], at: this.at(opPath, 'key') },
        };
      case 'validate': {
        const validate = step.validate!;
        this.define(validate.invalid_output, [...opPath, 'invalid_output'], true);
        return { ...base, kind: 'validate', rules: this.namedExpressions(validate.rules, [...opPath, 'rules']), invalidOutput: validate.invalid_output };
      }
      case 'window':
        return this.resolveWindow(step, path, base);
      case 'aggregate':
        this.report('PC208', opPath, { feature: 'a running `aggregate` without `window`' }, 'key');
        return undefined;
      case 'join':
      case 'pattern':
      case 'process':
        this.report('PC208', opPath, { feature: `the \`${operator}\` operator` }, 'key');
        return undefined;
    }
  }

  /** A key: one field, a list of fields (each an expression naming itself), or named expressions. */
  private keySpec(key: KeyBy, path: Path, stepId: string): KeySpec {
    const fields =
      typeof key === 'string'
        ? this.namedExpression(key, key, path)
        : Array.isArray(key)
          ? (key as readonly string[]).flatMap((field, i) => this.namedExpression(field, field, [...path, i]))
          : this.namedExpressions(key as Readonly<Record<string, Scalar>>, path);
    return { fields, stepId };
  }

  private resolveWindow(step: SpecStep, path: Path, base: { id: string; from: StreamRef[]; at: number }): StepNode | undefined {
    const window = step.window as SpecWindow;
    const windowPath = [...path, 'window'];
    const spec = this.windowSpec(window, windowPath);
    if (window.late_output !== undefined) this.define(window.late_output, [...windowPath, 'late_output'], true);
    const aggregates = Object.entries(step.aggregate ?? {}).flatMap(([name, call]): Aggregate[] => {
      const aggregatePath = [...path, 'aggregate', name];
      const at = this.spec.contentOffset(aggregatePath);
      const parsed = parseAggregateCall(String(call));
      for (const error of parsed.errors) {
        this.diagnostics.push(diagnostic(error.code, { source: this.spec.source, offset: this.spec.offsetInText(aggregatePath, error.at) }, error.args));
      }
      if (parsed.errors.length > 0 || parsed.fn === undefined) return [];
      return [{
        name,
        fn: parsed.fn,
        argument: parsed.argument && { text: String(call), expr: parsed.argument, at, offsets: this.offsets(aggregatePath, String(call), at) },
        percentile: parsed.percentile,
        at,
      }];
    });
    return spec && {
      ...base,
      kind: 'window',
      window: spec,
      state: { uid: step.uid ?? step.id, reset: this.resetFields(step, path), at: this.at(windowPath, 'key') },
      keyBy: step.key_by === undefined ? undefined : this.keySpec(step.key_by, [...path, 'key_by'], step.id),
      aggregates,
      allowedLatenessMs: this.duration(window.allowed_lateness, [...windowPath, 'allowed_lateness'], 0),
      lateOutput: window.late_output,
    };
  }

  /** `migrate.reset` of a window step: names of its aggregate fields (PC301 for any other name). */
  private resetFields(step: SpecStep, path: Path): string[] {
    const reset = step.migrate?.reset ?? [];
    const fields = Object.keys(step.aggregate ?? {});
    reset.forEach((name, i) => {
      if (fields.includes(name)) return;
      this.report('PC301', [...path, 'migrate', 'reset', i], { name, where: `the aggregate fields of step \`${step.id}\``, suggestion: suggestion(name, fields) });
    });
    return reset.filter((name) => fields.includes(name));
  }

  private windowSpec(window: SpecWindow, path: Path): WindowSpec | undefined {
    const offsetMs = this.duration(window.offset, [...path, 'offset'], 0);
    if (window.tumbling !== undefined) {
      return { kind: 'tumbling', sizeMs: this.duration(window.tumbling, [...path, 'tumbling'], 60_000), offsetMs };
    }
    if (window.sliding !== undefined) {
      return {
        kind: 'sliding',
        sizeMs: this.duration(window.sliding.size, [...path, 'sliding', 'size'], 60_000),
        slideMs: this.duration(window.sliding.slide, [...path, 'sliding', 'slide'], 60_000),
        offsetMs,
      };
    }
    if (window.session !== undefined) {
      return { kind: 'session', gapMs: this.duration(window.session.gap, [...path, 'session', 'gap'], 60_000) };
    }
    if (window.global !== undefined) {
      const { trigger, evictor } = window.global;
      return {
        kind: 'global',
        trigger:
          trigger.count !== undefined
            ? { kind: 'count', count: trigger.count }
            : trigger.every !== undefined
              ? { kind: 'every', intervalMs: this.duration(trigger.every, [...path, 'global', 'trigger', 'every'], 60_000) }
              : { kind: 'event_time' },
        evictor:
          evictor === undefined
            ? undefined
            : evictor.count !== undefined
              ? { kind: 'count', count: evictor.count }
              : { kind: 'time', spanMs: this.duration(evictor.time, [...path, 'global', 'evictor', 'time'], 0) },
      };
    }
    return undefined;
  }

  // ---- the graph

  private checkReferences(steps: readonly StepNode[], sinks: readonly SinkNode[]): void {
    const known = [...this.streams.keys()];
    const check = (ref: StreamRef) => {
      if (this.streams.has(ref.name)) return;
      const [stepId, branch] = ref.name.split('.');
      const step = steps.find((candidate) => candidate.id === stepId);
      if (branch !== undefined && step?.kind === 'split') {
        this.diagnostics.push(diagnostic('PC209', { source: this.spec.source, offset: ref.at }, {
          step: stepId, name: branch, suggestion: suggestion(branch, step.branches.map((b) => b.name)),
        }));
        return;
      }
      this.diagnostics.push(diagnostic('PC201', { source: this.spec.source, offset: ref.at }, { name: ref.name, suggestion: suggestion(ref.name, known) }));
    };
    for (const step of steps) step.from.forEach(check);
    for (const sink of sinks) {
      check(sink.from);
      const producer = steps.find((step) => step.id === sink.from.name);
      if (producer?.kind === 'split') {
        this.diagnostics.push(diagnostic('PC211', { source: this.spec.source, offset: sink.from.at }, { name: producer.id }));
      }
    }
  }

  /** Orders steps so each comes after its inputs; reports cycles. */
  private sortSteps(steps: readonly StepNode[]): StepNode[] {
    const byOutput = new Map<string, StepNode>();
    for (const step of steps) {
      byOutput.set(step.id, step);
      for (const name of outputsOf(step)) byOutput.set(name, step);
    }
    const sorted: StepNode[] = [];
    const state = new Map<StepNode, 'visiting' | 'done'>();
    const visit = (step: StepNode, trail: StepNode[]): void => {
      const seen = state.get(step);
      if (seen === 'done') return;
      if (seen === 'visiting') {
        const cycle = [...trail.slice(trail.indexOf(step)), step].map((s) => s.id).join(' → ');
        this.diagnostics.push(diagnostic('PC202', { source: this.spec.source, offset: step.at }, { cycle }));
        return;
      }
      state.set(step, 'visiting');
      for (const ref of step.from) {
        const producer = byOutput.get(ref.name);
        if (producer) visit(producer, [...trail, step]);
      }
      state.set(step, 'done');
      sorted.push(step);
    };
    for (const step of steps) visit(step, []);
    return sorted;
  }

  /** Two stateful steps must not file their state under one uid: a restore would mix them up. */
  private checkUids(steps: readonly StepNode[]): void {
    const owners = new Map<string, string>();
    const specSteps = this.doc.steps ?? [];
    for (const step of steps) {
      if (step.kind !== 'window' && step.kind !== 'dedupe') continue;
      const other = owners.get(step.state.uid);
      if (other === undefined) {
        owners.set(step.state.uid, step.id);
        continue;
      }
      const index = specSteps.findIndex((spec) => spec.id === step.id);
      const path = specSteps[index].uid === undefined ? ['steps', index, 'id'] : ['steps', index, 'uid'];
      this.report('PC213', path, { step: step.id, uid: step.state.uid, other });
    }
  }

  private reportDeadEnds(sources: readonly SourceNode[], steps: readonly StepNode[], sinks: readonly SinkNode[]): void {
    const consumed = new Set<string>([...this.consumed, ...sinks.map((sink) => sink.from.name)]);
    const warn = (name: string, offset: number) => {
      if (!consumed.has(name)) this.diagnostics.push(diagnostic('PC204', { source: this.spec.source, offset }, { name }));
    };
    for (const source of sources) {
      warn(source.id, source.at);
      if (source.deadLetter !== undefined) warn(source.deadLetter, source.at);
    }
    for (const step of steps) {
      if (step.kind === 'split') for (const branch of step.branches) warn(`${step.id}.${branch.name}`, step.at);
      else warn(step.id, step.at);
      for (const output of namedOutputsOf(step)) warn(output, step.at);
    }
  }
}

/** Streams a step produces besides its own id. */
export function outputsOf(step: StepNode): string[] {
  return step.kind === 'split' ? step.branches.map((branch) => `${step.id}.${branch.name}`) : [step.id, ...namedOutputsOf(step)];
}

function namedOutputsOf(step: StepNode): string[] {
  if (step.kind === 'window' && step.lateOutput !== undefined) return [step.lateOutput];
  if (step.kind === 'validate') return [step.invalidOutput];
  return [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Kafka source options in the one shape the connector reads: `topics` a list, `start_timestamp` epoch milliseconds. */
function normalizeKafkaSourceOptions(options: Record<string, unknown>): void {
  if (typeof options.topics === 'string') options.topics = [options.topics];
  if (typeof options.start_timestamp === 'string') options.start_timestamp = Date.parse(options.start_timestamp);
}
