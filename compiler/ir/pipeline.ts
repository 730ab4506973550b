// The pipeline graph IR: what `resolve` builds from a validated spec and every later phase reads.
// Every node keeps `at`, the offset in the spec file of the YAML node it came from, for diagnostics.

import type { SpecExpr } from './expr.ts';
import type { SourceText } from './source.ts';
import type { RecordType, Type } from './types.ts';

export interface Pipeline {
  readonly name: string;
  readonly description: string;
  readonly source: SourceText;
  /** Parameter values after defaults and --param overrides, as substituted into the spec. */
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly types: ReadonlyMap<string, RecordType>;
  readonly sources: readonly SourceNode[];
  /** In topological order: every step comes after the steps it reads. */
  readonly steps: readonly StepNode[];
  readonly sinks: readonly SinkNode[];
  readonly checkpoints: CheckpointConfig;
  readonly state: StateConfig;
  /** `restart:`; undefined when the spec has none (a run fails on its first error). */
  readonly restart: RestartConfig | undefined;
}

export interface CheckpointConfig {
  /** Whether the spec has a `checkpoints:` block; without one, the values are the defaults `--checkpoint-dir` runs with. */
  readonly declared: boolean;
  readonly intervalMs: number;
  readonly mode: 'exactly_once' | 'at_least_once';
  readonly retain: number;
}

export interface RestartConfig {
  readonly attempts: number;
  readonly delayMs: number;
}

export interface StateConfig {
  readonly backend: 'memory' | 'rocksdb';
}

export type ConnectorOptions = Readonly<Record<string, unknown>>;

export interface EventTimeConfig {
  /** The record field holding event time; undefined: the record's own timestamp in the source (Kafka's record timestamp). */
  readonly field: string | undefined;
  readonly maxOutOfOrdernessMs: number;
  /** 0 = partitions never count as idle. */
  readonly idleTimeoutMs: number;
  readonly at: number;
}

export interface SourceNode {
  readonly id: string;
  readonly connector: 'file' | 'generator' | 'kafka' | 'postgres-cdc';
  /** The connector's own keys (path, format, dataset, topics, …) as validated by the schema. */
  readonly options: ConnectorOptions;
  /** Name of the record type in `types:`; generator sources may omit it and get their dataset's type. */
  readonly typeName: string;
  readonly eventTime: EventTimeConfig | undefined;
  /** Named output for records that do not match the type. */
  readonly deadLetter: string | undefined;
  /** Kafka: where each field of `metadata:` is in the spec, for diagnostics. */
  readonly metadataAt: ReadonlyMap<string, number>;
  readonly at: number;
}

export interface SinkNode {
  readonly id: string;
  readonly from: StreamRef;
  readonly connector: 'file' | 'stdout' | 'kafka' | 'postgres';
  readonly options: ConnectorOptions;
  /** Expressions over the sink's records that the connector evaluates per record (a Kafka message's key and headers). */
  readonly expressions: SinkExpressions;
  readonly at: number;
}

export interface SinkExpressions {
  readonly key: SpecExpr | undefined;
  readonly headers: readonly NamedExpr[];
}

/** A reference to a stream: a source, a step, a branch (`step.branch`) or a named output (dead letters, late records, invalid records). */
export interface StreamRef {
  readonly name: string;
  readonly at: number;
}

/** A named expression: an output field of `map`/`set`, a key field, a split branch, a validation rule. */
export interface NamedExpr {
  readonly name: string;
  readonly value: SpecExpr;
}

export type WindowSpec =
  | { readonly kind: 'tumbling'; readonly sizeMs: number; readonly offsetMs: number }
  | { readonly kind: 'sliding'; readonly sizeMs: number; readonly slideMs: number; readonly offsetMs: number }
  | { readonly kind: 'session'; readonly gapMs: number }
  | { readonly kind: 'global'; readonly trigger: GlobalTrigger; readonly evictor: GlobalEvictor | undefined };

export type GlobalTrigger =
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'every'; readonly intervalMs: number }
  | { readonly kind: 'event_time' };

export type GlobalEvictor = { readonly kind: 'count'; readonly count: number } | { readonly kind: 'time'; readonly spanMs: number };

export type AggregateFunction =
  | 'count' | 'sum' | 'avg' | 'min' | 'max' | 'count_distinct'
  | 'first' | 'last' | 'collect' | 'stddev' | 'percentile';

export interface Aggregate {
  /** The output field. */
  readonly name: string;
  readonly fn: AggregateFunction;
  /** The aggregated expression; absent for `count()`. */
  readonly argument: SpecExpr | undefined;
  /** `percentile(EXPR, P)`: P in [0, 1] (or (1, 100], read as a percentage). */
  readonly percentile: number | undefined;
  readonly at: number;
}

/** The key a keyed step partitions by: named key fields, each an expression over the record. */
export interface KeySpec {
  readonly fields: readonly NamedExpr[];
  /** The `key_by` step that set the key, for messages. */
  readonly stepId: string;
}

/** What a stateful step (window, dedupe) keeps in checkpoints is filed under its uid. */
export interface StepState {
  /** The step's `uid:`, else its id. */
  readonly uid: string;
  /** Aggregate fields whose state a restore drops, so they start empty: `migrate: { reset: [...] }`. */
  readonly reset: readonly string[];
  /** Where the operator (`window:`, `dedupe:`) is in the spec: diagnostics about the whole state point here. */
  readonly at: number;
}

interface StepBase {
  readonly id: string;
  readonly from: readonly StreamRef[];
  readonly at: number;
}

export type StepNode =
  | (StepBase & { readonly kind: 'filter'; readonly condition: SpecExpr })
  | (StepBase & { readonly kind: 'map'; readonly fields: readonly NamedExpr[] })
  | (StepBase & { readonly kind: 'set'; readonly fields: readonly NamedExpr[] })
  | (StepBase & { readonly kind: 'explode'; readonly field: string; readonly fieldAt: number })
  | (StepBase & { readonly kind: 'key_by'; readonly key: KeySpec })
  | (StepBase & { readonly kind: 'union' })
  | (StepBase & { readonly kind: 'split'; readonly branches: readonly NamedExpr[] })
  | (StepBase & { readonly kind: 'dedupe'; readonly key: KeySpec; readonly withinMs: number; readonly state: StepState })
  | (StepBase & {
      readonly kind: 'window';
      readonly window: WindowSpec;
      readonly state: StepState;
      /** A `key_by` written in the window step itself; undefined when the window uses its input's key. */
      readonly keyBy: KeySpec | undefined;
      readonly aggregates: readonly Aggregate[];
      readonly allowedLatenessMs: number;
      readonly lateOutput: string | undefined;
    })
  | (StepBase & { readonly kind: 'validate'; readonly rules: readonly NamedExpr[]; readonly invalidOutput: string });

export type StepKind = StepNode['kind'];

/** What `check` adds to the graph: the record type and key of every stream. */
export interface TypedPipeline {
  readonly pipeline: Pipeline;
  readonly streams: ReadonlyMap<string, StreamInfo>;
}

export interface StreamInfo {
  readonly name: string;
  readonly type: RecordType;
  /** Set by `key_by`, carried through stateless steps, dedupe and windows; undefined when the stream is not keyed. */
  readonly key: TypedKey | undefined;
}

export interface TypedKey {
  readonly spec: KeySpec;
  /** The type of each key field, in order. */
  readonly types: readonly Type[];
}
