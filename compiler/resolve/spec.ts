// The shape of a spec document as the schema admits it, after parameter substitution: what `resolve` reads.

export type Scalar = string | number | boolean;
export type KeyBy = string | readonly string[] | Readonly<Record<string, Scalar>>;

export interface SpecDocument {
  readonly pipeline: string;
  readonly description?: string;
  readonly types?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly sources: Readonly<Record<string, SpecSource>>;
  readonly steps?: readonly SpecStep[];
  readonly sinks: Readonly<Record<string, SpecSink>>;
  readonly checkpoints?: { readonly interval?: string; readonly mode?: 'exactly_once' | 'at_least_once'; readonly retain?: number };
  readonly state?: { readonly backend?: 'memory' | 'rocksdb'; readonly ttl?: string };
  readonly restart?: { readonly attempts?: number; readonly delay?: string };
}

export interface SpecSource {
  readonly connector: 'file' | 'generator' | 'kafka' | 'postgres-cdc';
  readonly type?: string;
  readonly event_time?: { readonly field?: string; readonly source?: 'timestamp'; readonly max_out_of_orderness?: string; readonly idle_timeout?: string };
  readonly dead_letter?: string;
  readonly [option: string]: unknown;
}

export interface SpecSink {
  readonly from: string;
  readonly connector: 'file' | 'stdout' | 'kafka' | 'postgres';
  readonly [option: string]: unknown;
}

export interface SpecWindow {
  readonly tumbling?: string;
  readonly sliding?: { readonly size: string; readonly slide: string };
  readonly session?: { readonly gap: string };
  readonly global?: {
    readonly trigger: { readonly count?: number; readonly every?: string; readonly event_time?: boolean };
    readonly evictor?: { readonly count?: number; readonly time?: string };
  };
  readonly offset?: string;
  readonly allowed_lateness?: string;
  readonly late_output?: string;
}

export interface SpecStep {
  readonly id: string;
  readonly from?: string | readonly string[];
  readonly uid?: string;
  readonly migrate?: { readonly reset: readonly string[] };
  readonly filter?: Scalar;
  readonly map?: Readonly<Record<string, Scalar>>;
  readonly set?: Readonly<Record<string, Scalar>>;
  readonly explode?: string;
  readonly key_by?: KeyBy;
  readonly window?: SpecWindow;
  readonly aggregate?: Readonly<Record<string, string>>;
  readonly dedupe?: { readonly key: KeyBy; readonly within: string };
  readonly union?: readonly string[];
  readonly split?: Readonly<Record<string, Scalar>>;
  readonly validate?: { readonly rules: Readonly<Record<string, Scalar>>; readonly invalid_output: string };
  readonly join?: unknown;
  readonly pattern?: unknown;
  readonly process?: unknown;
  readonly broadcast?: string;
}

/** The operator keys of a step, in the order the schema lists them. */
export const OPERATOR_KEYS = [
  'filter', 'map', 'set', 'explode', 'key_by', 'window', 'aggregate', 'dedupe',
  'union', 'split', 'validate', 'join', 'pattern', 'process',
] as const;
