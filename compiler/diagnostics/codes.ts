// Every diagnostic pipec reports, once: its code, severity, title and message template.
// `{name}` in a template is filled from the arguments; the README's error table is generated from this list.

export type Severity = 'error' | 'warning';

export interface DiagnosticDefinition {
  readonly severity: Severity;
  /** A short name for the README table. */
  readonly title: string;
  /** The message, with `{placeholders}`; it says what is wrong and how to fix it. */
  readonly template: string;
}

export const diagnosticCodes = {
  // PC1xx: loading and schema validation
  PC101: { severity: 'error', title: 'YAML syntax error', template: '{detail}' },
  PC102: { severity: 'error', title: 'value of the wrong shape', template: '{path}: {detail}' },
  PC103: { severity: 'error', title: 'unknown property', template: '{path}: unknown property `{name}`{suggestion}' },
  PC104: { severity: 'error', title: 'missing property', template: '{path}: missing required property `{name}`' },
  PC105: { severity: 'error', title: 'malformed duration', template: '{path}: expected a duration like "5m", got {value}' },
  PC106: { severity: 'error', title: 'unknown parameter', template: 'unknown parameter `{name}` in `${params.{name}}`: declare it under `params:`{suggestion}' },
  PC107: { severity: 'error', title: 'bad parameter value', template: 'parameter `{name}` has type {type}: {detail}' },
  PC108: { severity: 'error', title: 'undeclared --param', template: '--param {name}: the spec declares no parameter `{name}`{suggestion}' },
  PC109: { severity: 'error', title: 'no value for one-of', template: '{path}: {detail}' },

  // PC2xx: the graph
  PC201: { severity: 'error', title: 'unknown stream', template: '`{name}` is not a source, step or named output{suggestion}' },
  PC202: { severity: 'error', title: 'cycle', template: 'steps form a cycle: {cycle}; a pipeline is a DAG' },
  PC203: { severity: 'error', title: 'duplicate id', template: '`{name}` is defined twice; ids of sources, steps, sinks and named outputs must be unique' },
  PC204: { severity: 'warning', title: 'dead end', template: 'the output of `{name}` reaches no sink; add a sink with `from: {name}` or remove the step' },
  PC205: { severity: 'error', title: 'unknown type', template: 'unknown type `{name}`: declare it under `types:`{suggestion}' },
  PC206: { severity: 'error', title: 'bad event-time field', template: 'event_time.field `{name}` {detail}' },
  PC207: { severity: 'error', title: 'union of different types', template: '`{name}` merges streams of different types: {detail}; map them to one type first' },
  PC208: { severity: 'error', title: 'not supported yet', template: '{feature} is not supported by this version of pipec yet' },
  PC209: { severity: 'error', title: 'unknown branch', template: '`{step}` has no branch `{name}`{suggestion}' },
  PC210: { severity: 'error', title: 'step needs one input', template: '`{name}` reads {count} streams; only `union` (and `join`) read several' },
  PC211: { severity: 'error', title: 'sink of a branching step', template: '`{name}` splits into branches; read one of them as `{name}.BRANCH`' },
  PC212: { severity: 'error', title: 'option given twice', template: '`{name}` is given both beside `connector` and in the `{connector}:` block; keep one' },
  PC213: { severity: 'error', title: 'duplicate state uid', template: 'step `{step}` files its state under uid `{uid}`, as step `{other}` does; give one of them another `uid`' },

  // PC3xx: types of records and expressions
  PC301: { severity: 'error', title: 'unknown field', template: 'unknown field `{name}` in {where}{suggestion}' },
  PC302: { severity: 'error', title: 'not allowed in an expression', template: '{construct} is not allowed in an expression; expressions read fields and call the function library only' },
  PC303: { severity: 'error', title: 'unknown function', template: 'unknown function `{name}`{suggestion}' },
  PC304: { severity: 'error', title: 'type mismatch', template: '{detail}' },
  PC305: { severity: 'error', title: 'bad function arguments', template: '`{name}` {detail}' },
  PC306: { severity: 'error', title: 'condition is not a bool', template: '{where} must be a bool expression, got {type}' },
  PC307: { severity: 'error', title: 'expression syntax error', template: '{detail}' },
  PC308: { severity: 'error', title: 'not a list', template: '`{name}` is {type}, not a list; explode takes a list field' },
  PC309: { severity: 'error', title: 'unknown aggregate', template: 'unknown aggregate `{name}`: aggregates are count sum avg min max count_distinct first last collect stddev percentile{suggestion}' },
  PC310: { severity: 'error', title: 'TypeScript error', template: '{detail}' },
  PC311: { severity: 'error', title: 'not a timestamp', template: '{where} must be a timestamp or int field, got {type}' },
  PC312: { severity: 'error', title: 'bad Kafka key or header', template: '{where} must be a string or a number, got {type}; convert it with `to_string(…)`' },
  PC313: { severity: 'error', title: 'bad Kafka metadata field', template: 'metadata field `{name}` of source `{source}` {detail}' },

  // PC4xx: state compatibility with existing checkpoints (`pipec build` against generated/<pipeline>.state.json)
  PC401: {
    severity: 'error',
    title: 'incompatible state change',
    template: 'step `{step}` (state uid `{uid}`): {change}, so checkpoints taken before cannot be restored; give the step a new `uid` to start its state afresh{migrate}',
  },

  // PC5xx: spec tests (`tests:` in a spec, or `<name>.test.yaml` beside it)
  PC501: { severity: 'error', title: 'unknown source in a test', template: 'test `{test}`: `{name}` is not a source of pipeline `{pipeline}`{suggestion}' },
  PC502: { severity: 'error', title: 'unknown sink in a test', template: 'test `{test}`: `{name}` is not a sink of pipeline `{pipeline}`{suggestion}' },
  PC503: { severity: 'error', title: 'watermark past the input', template: 'test `{test}`: a watermark after record {after} of `{source}`, which has {count} input records; `after` is the index (from 0) of one of them' },
  PC504: { severity: 'error', title: 'watermark of a processing-time source', template: 'test `{test}`: source `{source}` has no `event_time`, so it runs in processing time and takes no watermarks' },
  PC505: { severity: 'warning', title: 'watermark going back', template: 'test `{test}`: watermark {watermark} of `{source}` is below the earlier {previous}; a watermark never goes back, so this one has no effect' },
  PC506: { severity: 'error', title: 'duplicate test name', template: 'test `{name}` is defined twice; test names of a pipeline must be unique' },
} as const satisfies Record<string, DiagnosticDefinition>;

export type DiagnosticCode = keyof typeof diagnosticCodes;
