// Tests of schemas/pipeline.schema.json: valid specs pass, each kind of mistake fails at the node that is wrong, every property is documented.

import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type SchemaNode = { [keyword: string]: unknown };
type Spec = { [key: string]: unknown };

const schema = JSON.parse(readFileSync(new URL('../../schemas/pipeline.schema.json', import.meta.url), 'utf8')) as SchemaNode;
const definitions = schema.$defs as Record<string, SchemaNode>;

// The options the validate phase is expected to use; `strict` catches schema mistakes such as a keyword on the wrong type.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
formatsPlugin.default(ajv);
const validateSpec = ajv.compile(schema);

function errorsOf(spec: unknown): ErrorObject[] {
  validateSpec(spec);
  return validateSpec.errors ?? [];
}

/**
 * The errors worth reporting, as the validate phase should pick them: ajv adds an `if` error beside the errors of a failed
 * `then`/`else`, the `${params.NAME}` alternative of a value fails whenever the value does, and `anyOf` merely wraps them.
 */
function reportedErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((error) => error.keyword !== 'if' && error.parentSchema !== definitions.paramRef);
  const pathsWithSpecificErrors = new Set(specific.filter((error) => error.keyword !== 'anyOf').map((error) => error.instancePath));
  return specific.filter((error) => error.keyword !== 'anyOf' || !pathsWithSpecificErrors.has(error.instancePath));
}

function errorPaths(spec: unknown): string[] {
  return [...new Set(reportedErrors(errorsOf(spec)).map((error) => error.instancePath))].sort();
}

function describeErrors(spec: unknown): string {
  return errorsOf(spec)
    .map((error) => `${error.instancePath} ${error.schemaPath} ${error.message}`)
    .join('\n');
}

function isObject(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------- valid specs

/** DESIGN §4's revenue pipeline after parameter substitution. */
function revenueSpec(): Spec {
  return {
    pipeline: 'revenue',
    description: 'Revenue per product category in 1-minute tumbling event-time windows.',
    params: {
      window: { type: 'duration', default: '1m' },
      input: { type: 'string', default: 'pipelines/data/orders.jsonl' },
      output: { type: 'string', default: 'output' },
    },
    types: {
      Order: {
        order_id: 'string',
        user_id: 'string',
        category: 'string',
        price: 'float',
        quantity: 'int',
        event_type: 'string',
        ts: 'timestamp',
        coupon: 'string?',
      },
    },
    sources: {
      orders: {
        connector: 'file',
        path: 'pipelines/data/orders.jsonl',
        format: 'json',
        type: 'Order',
        event_time: { field: 'ts', max_out_of_orderness: '5s', idle_timeout: '30s' },
      },
    },
    steps: [
      { id: 'purchases', from: 'orders', filter: "event_type == 'purchase' && quantity > 0" },
      {
        id: 'revenue',
        from: 'purchases',
        key_by: 'category',
        window: { tumbling: '1m', allowed_lateness: '30s', late_output: 'late_orders' },
        aggregate: {
          total_revenue: 'sum(price * quantity)',
          order_count: 'count()',
          unique_users: 'count_distinct(user_id)',
          avg_order_value: 'avg(price * quantity)',
          max_order_value: 'max(price * quantity)',
        },
      },
    ],
    sinks: {
      revenue_out: { from: 'revenue', connector: 'file', path: 'output/revenue.jsonl' },
      late: { from: 'late_orders', connector: 'file', path: 'output/late.jsonl' },
    },
    checkpoints: { interval: '10s', mode: 'exactly_once', retain: 3 },
    state: { backend: 'rocksdb' },
  };
}

// DESIGN §4's example as an editor sees it, before substitution. YAML does not allow `{` inside a plain scalar in a
// flow mapping, so `${params.…}` must be quoted there (DESIGN writes it unquoted, which does not parse).
const revenueYaml = `
# yaml-language-server: $schema=../schemas/pipeline.schema.json
pipeline: revenue
description: Revenue per product category in 1-minute tumbling event-time windows.

params:
  window: { type: duration, default: 1m }
  input: { type: string, default: pipelines/data/orders.jsonl }
  output: { type: string, default: output }

types:
  Order:
    order_id: string
    user_id: string
    category: string
    price: float
    quantity: int
    event_type: string
    ts: timestamp
    coupon: string?

sources:
  orders:
    connector: file
    path: \${params.input}
    format: json
    type: Order
    event_time: { field: ts, max_out_of_orderness: 5s, idle_timeout: 30s }

steps:
  - id: purchases
    from: orders
    filter: event_type == 'purchase' && quantity > 0
  - id: revenue
    from: purchases
    key_by: category
    window: { tumbling: "\${params.window}", allowed_lateness: 30s, late_output: late_orders }
    aggregate:
      total_revenue: sum(price * quantity)
      order_count: count()
      unique_users: count_distinct(user_id)
      avg_order_value: avg(price * quantity)
      max_order_value: max(price * quantity)

sinks:
  revenue_out: { from: revenue, connector: file, path: "\${params.output}/revenue.jsonl" }
  late:        { from: late_orders, connector: file, path: "\${params.output}/late.jsonl" }

checkpoints: { interval: 10s, mode: exactly_once, retain: 3 }
state: { backend: rocksdb }
`;

const click = { user_id: 'string', url: 'string', ts: 'timestamp', tags: 'list<string>' };

/** Every operator, each in its own step. */
function operatorsSpec(): Spec {
  return {
    pipeline: 'all-operators',
    types: {
      Click: click,
      Payment: { order_id: 'string', amount: 'float', ts: 'timestamp' },
      Threshold: { limit: 'float' },
      Rate: { currency: 'string', rate: 'float', ts: 'timestamp' },
    },
    sources: {
      clicks: { connector: 'file', path: 'clicks.jsonl', type: 'Click', event_time: { field: 'ts' } },
      more_clicks: { connector: 'file', path: 'more.jsonl', type: 'Click', dead_letter: 'bad_clicks' },
      payments: { connector: 'file', path: 'payments.jsonl', type: 'Payment', event_time: { field: 'ts' } },
      thresholds: { connector: 'file', path: 'thresholds.jsonl', type: 'Threshold' },
      rates: { connector: 'postgres-cdc', tables: ['public.rates'], type: 'Rate' },
    },
    steps: [
      { id: 'merged', from: ['clicks', 'more_clicks'] },
      { id: 'merged_again', union: ['clicks', 'more_clicks'], description: 'The same, spelled as an operator.' },
      { id: 'kept', from: 'merged', filter: "url != ''", broadcast: 'thresholds' },
      { id: 'shaped', from: 'kept', map: { user: 'user_id', path: 'lower(url)', one: 1, yes: true } },
      { id: 'enriched', from: 'kept', set: { host: "url.split('/')[2]" } },
      { id: 'tagged', from: 'kept', explode: 'tags' },
      { id: 'by_user', from: 'tagged', key_by: 'user_id' },
      { id: 'by_pair', from: 'tagged', key_by: ['user_id', 'tags'] },
      { id: 'by_day', from: 'tagged', key_by: { day: "date_trunc('day', ts)", user: 'user_id' } },
      { id: 'counts', from: 'by_user', aggregate: { clicks: 'count()', p99: 'percentile(len(url), 0.99)' }, uid: 'counts-v2' },
      { id: 'unique', from: 'kept', dedupe: { key: ['user_id', 'url'], within: '1h' } },
      { id: 'routed', from: 'kept', split: { long: 'len(url) > 100', rest: true } },
      { id: 'checked', from: 'routed.long', validate: { rules: { has_user: "user_id != ''" }, invalid_output: 'bad_urls' } },
      {
        id: 'paid',
        from: 'kept',
        join: { with: 'payments', on: { left: 'user_id', right: 'order_id' }, between: ['-5m', '10m'], kind: 'left' },
      },
      {
        id: 'paid_too',
        from: ['kept', 'payments'],
        join: { type: 'interval', on: 'user_id', between: ['0s', '15m'], fields: { user: 'left.user_id', amount: 'right.amount' } },
      },
      { id: 'converted', from: 'payments', join: { with: 'rates', type: 'temporal', on: ['order_id'] } },
      {
        id: 'fraud',
        from: 'payments',
        key_by: 'order_id',
        pattern: {
          sequence: [
            { name: 'small', where: 'amount < 1', times: 3 },
            { name: 'medium', where: 'amount < 100', times: { min: 1, max: 4 }, optional: true, contiguity: 'strict' },
            { name: 'big', where: 'amount > 500' },
            { name: 'more', one_or_more: true, contiguity: 'any' },
          ],
          within: '10m',
          not_followed_by: { name: 'refund', where: 'amount < 0' },
          after_match: 'skip_past_last_event',
          emit: { small_count: 'len(small)', big_amount: 'big.amount' },
        },
      },
      {
        id: 'scored',
        from: 'by_user',
        process: {
          module: './score.ts',
          export: 'score',
          output: 'Click',
          state: {
            last_seen: { kind: 'value', type: 'timestamp', ttl: '1d', ttl_refresh: 'on_read_and_write' },
            recent: { kind: 'list', type: 'Click' },
            per_url: { kind: 'map', type: 'int' },
          },
          timers: true,
        },
      },
    ],
    sinks: {
      out: { from: 'checked', connector: 'stdout' },
      rest: { from: 'routed.rest', connector: 'stdout', format: 'text' },
    },
  };
}

/** Every window kind, trigger and evictor. */
function windowsSpec(): Spec {
  const step = (id: string, window: Spec): Spec => ({ id, from: 'clicks', key_by: 'user_id', window, aggregate: { n: 'count()' } });
  return {
    pipeline: 'windows',
    sources: { clicks: { connector: 'generator', dataset: 'clicks', event_time: { field: 'ts' } } },
    steps: [
      step('tumbling', { tumbling: '1h', offset: '15m' }),
      step('sliding', { sliding: { size: '10m', slide: '1m' }, offset: '30s', allowed_lateness: '1m', late_output: 'late' }),
      step('session', { session: { gap: '30m' }, allowed_lateness: '5m' }),
      step('by_count', { global: { trigger: { count: 100 }, evictor: { count: 10 } } }),
      step('by_time', { global: { trigger: { every: '1m' }, evictor: { time: '1h' } } }),
      step('by_watermark', { global: { trigger: { event_time: true } } }),
      { id: 'hourly', from: 'tumbling', uid: 'hourly-v2', window: { tumbling: '1h' }, aggregate: { n: 'sum(n)' }, migrate: { reset: ['n'] } },
    ],
    sinks: { out: { from: 'hourly', connector: 'file', path: 'out/hourly.jsonl', format: 'json' } },
  };
}

/** Every source and sink connector with its options. */
function connectorsSpec(): Spec {
  return {
    pipeline: 'connectors',
    types: { Order: { order_id: 'string', total: 'float', ts: 'timestamp' } },
    sources: {
      from_csv: { connector: 'file', path: 'orders.csv', type: 'Order', format: 'csv', csv: { delimiter: ';', header: false } },
      generated: {
        connector: 'generator',
        dataset: 'orders',
        seed: 42,
        count: 1000,
        rate: 250.5,
        interval: '10ms',
        start: '2026-01-01T00:00:00Z',
        out_of_order: 0.1,
        max_lateness: '5s',
        shards: 4,
        event_time: { field: 'ts', max_out_of_orderness: '5s' },
      },
      from_kafka: {
        connector: 'kafka',
        topics: ['orders', 'orders-eu'],
        group: 'revenue',
        start_offset: 'timestamp',
        start_timestamp: '2026-01-01T00:00:00Z',
        format: 'debezium-json',
        metadata: { order_id: 'key', ts: 'timestamp', trace: 'headers.trace', all_headers: 'headers', op: 'operation' },
        dead_letter_topic: 'orders-dlq',
        bounded: true,
        servers: 'localhost:9092',
        type: 'Order',
        event_time: { source: 'timestamp', max_out_of_orderness: '1s', idle_timeout: '1m' },
      },
      from_kafka_too: { connector: 'kafka', topics: 'orders', type: 'Order', start_offset: 'earliest', servers: ['a:9092', 'b:9092'] },
      from_postgres: {
        connector: 'postgres-cdc',
        connection: 'postgres://postgres@127.0.0.1:5432/test',
        tables: ['public.orders'],
        publication: 'orders_pub',
        slot: 'orders_slot',
        snapshot: false,
        key: ['order_id'],
        type: 'Order',
      },
    },
    sinks: {
      to_file: { from: 'from_csv', connector: 'file', path: 'out/orders.jsonl' },
      to_stdout: { from: 'generated', connector: 'stdout', format: 'json', description: 'For a quick look.' },
      to_kafka: {
        from: 'from_kafka',
        connector: 'kafka',
        topic: 'orders-out',
        key: 'order_id',
        headers: { origin: "'pipec'" },
        servers: ['a:9092'],
        partitioner: 'murmur2',
      },
      to_postgres: { from: 'from_postgres', connector: 'postgres', table: 'public.orders', key: ['order_id'], mode: 'upsert', batch_size: 500 },
      to_postgres_log: { from: 'from_kafka_too', connector: 'postgres', table: 'order_log', mode: 'append' },
    },
    checkpoints: { interval: '1m', mode: 'at_least_once', retain: 1 },
    state: { backend: 'memory', ttl: '7d' },
    restart: { attempts: 0, delay: '500ms' },
  };
}

/** `${params.NAME}` in every kind of scalar position, as an editor sees it before substitution. */
function paramsSpec(): Spec {
  return {
    pipeline: 'params',
    params: {
      seed: { type: 'int', default: 7, description: 'Generator seed.' },
      fraction: { type: 'float', default: 0.5 },
      snapshot: { type: 'bool', default: true },
      window: { type: 'duration', default: '1h30m' },
      topic: { type: 'string', default: 'orders' },
    },
    sources: {
      generated: {
        connector: 'generator',
        dataset: '${params.dataset}',
        seed: '${params.seed}',
        out_of_order: '${params.fraction}',
        interval: '${params.interval}',
        start: '${params.start}',
      },
      // Any connector's options, flat or in blocks: the compiler checks the chosen one after substitution.
      selected: {
        connector: '${params.connector}',
        type: 'Order',
        path: 'orders.jsonl',
        format: 'debezium-json',
        topics: ['orders'],
        dataset: '${params.dataset}',
        event_time: { source: 'timestamp' },
        file: { path: 'orders.jsonl', format: 'csv' },
        'postgres-cdc': { tables: ['public.orders'] },
      },
      cdc: { connector: 'postgres-cdc', tables: ['${params.table}'], snapshot: '${params.snapshot}', type: 'Order' },
    },
    steps: [{ id: 'windowed', from: 'generated', window: { tumbling: '${params.window}' }, aggregate: { n: 'count()' } }],
    sinks: {
      out: { from: 'windowed', connector: 'kafka', topic: '${params.topic}', partitioner: '${params.partitioner}' },
      chosen: { from: 'windowed', connector: '${params.sink}', key: ['window_start'], format: 'text', table: 'counts', stdout: {}, kafka: { key: 'n' } },
    },
    checkpoints: { mode: '${params.mode}', retain: '${params.retain}' },
  };
}

function testsSpec(): Spec {
  const spec = revenueSpec();
  spec.tests = [
    {
      name: 'one window',
      description: 'Two purchases in the first minute.',
      input: {
        orders: [
          { order_id: 'a', user_id: 'u', category: 'books', price: 2, quantity: 3, event_type: 'purchase', ts: 1000 },
          { order_id: 'b', user_id: 'v', category: 'books', price: 1, quantity: 1, event_type: 'purchase', ts: '2026-01-01T00:00:30Z' },
        ],
      },
      watermarks: { orders: [{ after: 1, watermark: 60000 }, { after: 1, watermark: '2026-01-01T00:02:00Z' }] },
      expected: { revenue_out: [{ category: 'books', total_revenue: 7, order_count: 2 }], late: [] },
      ordered: true,
    },
  ];
  return spec;
}

describe('valid specs', () => {
  const cases: Array<[string, () => unknown]> = [
    ['the revenue example after substitution', revenueSpec],
    ['the revenue example as YAML before substitution', () => parse(revenueYaml)],
    ['every operator', operatorsSpec],
    ['every window kind', windowsSpec],
    ['every connector', connectorsSpec],
    ['parameter references in scalar positions', paramsSpec],
    ['spec tests', testsSpec],
    [
      'a sink reading a source directly, without steps',
      () => ({ pipeline: 'copy', sources: { s: { connector: 'generator', dataset: 'users' } }, sinks: { k: { from: 's', connector: 'stdout' } } }),
    ],
  ];
  it.each(cases)('accepts %s', (_name, spec) => {
    expect(describeErrors(spec())).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------- invalid specs

interface InvalidCase {
  readonly name: string;
  readonly spec: Spec;
  /** The distinct instance paths every error must point at: the wrong node. */
  readonly paths: readonly string[];
  /** One error that must be among them. */
  readonly error: Partial<ErrorObject>;
}

/** The revenue spec with `change` applied to a copy. */
function revenueWith(change: (spec: Spec, steps: Spec[], sources: Record<string, Spec>, sinks: Record<string, Spec>) => void): Spec {
  const spec = revenueSpec();
  change(spec, spec.steps as Spec[], spec.sources as Record<string, Spec>, spec.sinks as Record<string, Spec>);
  return spec;
}

const invalidCases: InvalidCase[] = [
  {
    name: 'a misspelled top-level key',
    spec: revenueWith((spec) => {
      spec.checkpoint = spec.checkpoints;
      delete spec.checkpoints;
    }),
    paths: [''],
    error: { keyword: 'additionalProperties', params: { additionalProperty: 'checkpoint' } },
  },
  {
    name: 'a misspelled key in a file source',
    spec: revenueWith((_spec, _steps, sources) => {
      sources.orders.fromat = 'json';
    }),
    paths: ['/sources/orders'],
    error: { keyword: 'additionalProperties', params: { additionalProperty: 'fromat' } },
  },
  {
    name: 'a Kafka key in a file source',
    spec: revenueWith((_spec, _steps, sources) => {
      sources.orders.topics = 'orders';
    }),
    paths: ['/sources/orders'],
    error: { keyword: 'additionalProperties', params: { additionalProperty: 'topics' } },
  },
  {
    name: 'a misspelled key in a window',
    spec: revenueWith((_spec, steps) => {
      (steps[1].window as Spec).alowed_lateness = '30s';
    }),
    paths: ['/steps/1/window'],
    error: { keyword: 'additionalProperties', params: { additionalProperty: 'alowed_lateness' } },
  },
  {
    name: 'a misspelled key in a sink',
    spec: revenueWith((_spec, _steps, _sources, sinks) => {
      sinks.late.paht = sinks.late.path;
      delete sinks.late.path;
    }),
    paths: ['/sinks/late'],
    error: { keyword: 'additionalProperties', params: { additionalProperty: 'paht' } },
  },
  {
    name: 'a malformed duration',
    spec: revenueWith((_spec, steps) => {
      (steps[1].window as Spec).tumbling = '5 minutes';
    }),
    paths: ['/steps/1/window/tumbling'],
    error: { keyword: 'pattern', schemaPath: '#/$defs/duration/pattern' },
  },
  {
    name: 'a duration without a unit',
    spec: revenueWith((_spec, _steps, sources) => {
      (sources.orders.event_time as Spec).max_out_of_orderness = 5;
    }),
    paths: ['/sources/orders/event_time/max_out_of_orderness'],
    error: { keyword: 'type', schemaPath: '#/$defs/duration/type' },
  },
  {
    name: 'a window without aggregate',
    spec: revenueWith((_spec, steps) => {
      delete steps[1].aggregate;
    }),
    paths: ['/steps/1'],
    error: { keyword: 'dependentRequired', params: { property: 'window', missingProperty: 'aggregate', depsCount: 1, deps: 'aggregate' } },
  },
  {
    name: 'a migration without aggregate fields to reset',
    spec: revenueWith((_spec, steps) => {
      steps[0].migrate = { reset: ['total'] };
    }),
    paths: ['/steps/0'],
    error: { keyword: 'dependentRequired', params: { property: 'migrate', missingProperty: 'aggregate', depsCount: 1, deps: 'aggregate' } },
  },
  {
    name: 'a migration that resets nothing',
    spec: revenueWith((_spec, steps) => {
      steps[1].migrate = { reset: [] };
    }),
    paths: ['/steps/1/migrate/reset'],
    error: { keyword: 'minItems' },
  },
  {
    name: 'a step with two operators',
    spec: revenueWith((_spec, steps) => {
      steps[0].map = { total: 'price * quantity' };
    }),
    paths: ['/steps/0/map'],
    error: { keyword: 'false schema', schemaPath: '#/dependentSchemas/filter/properties/map/false schema' },
  },
  {
    name: 'a step without an operator',
    spec: revenueWith((_spec, steps) => {
      delete steps[0].filter;
    }),
    paths: ['/steps/0'],
    error: { keyword: 'not', schemaPath: '#/not' },
  },
  {
    name: 'a misspelled operator',
    spec: revenueWith((_spec, steps) => {
      steps[0].fliter = steps[0].filter;
      delete steps[0].filter;
    }),
    paths: ['/steps/0'],
    error: { keyword: 'additionalProperties', params: { additionalProperty: 'fliter' } },
  },
  {
    name: 'a window of two kinds',
    spec: revenueWith((_spec, steps) => {
      (steps[1].window as Spec).session = { gap: '5m' };
    }),
    paths: ['/steps/1/window/session'],
    error: { keyword: 'false schema', schemaPath: '#/dependentSchemas/tumbling/properties/session/false schema' },
  },
  {
    name: 'a window of no kind',
    spec: revenueWith((_spec, steps) => {
      steps[1].window = { allowed_lateness: '30s' };
    }),
    paths: ['/steps/1/window'],
    error: { keyword: 'not' },
  },
  {
    name: 'an unknown source connector',
    spec: revenueWith((_spec, _steps, sources) => {
      sources.orders.connector = 'kafak';
    }),
    paths: ['/sources/orders/connector'],
    error: { keyword: 'enum', params: { allowedValues: ['file', 'generator', 'kafka', 'postgres-cdc'] } },
  },
  {
    name: 'an unknown sink connector',
    spec: revenueWith((_spec, _steps, _sources, sinks) => {
      sinks.late.connector = 's3';
    }),
    paths: ['/sinks/late/connector'],
    error: { keyword: 'enum', params: { allowedValues: ['file', 'stdout', 'kafka', 'postgres'] } },
  },
  {
    name: 'a misspelled field type',
    spec: revenueWith((spec) => {
      (spec.types as Record<string, Spec>).Order.price = 'flaot';
    }),
    paths: ['/types/Order/price'],
    error: { keyword: 'pattern' },
  },
  {
    name: 'an unclosed list type',
    spec: revenueWith((spec) => {
      (spec.types as Record<string, Spec>).Order.tags = 'list<string';
    }),
    paths: ['/types/Order/tags'],
    error: { keyword: 'pattern' },
  },
  {
    name: 'an upper-case step id',
    spec: revenueWith((_spec, steps) => {
      steps[1].id = 'Revenue';
    }),
    paths: ['/steps/1/id'],
    error: { keyword: 'pattern' },
  },
  {
    name: 'a sink without from',
    spec: revenueWith((_spec, _steps, _sources, sinks) => {
      delete sinks.late.from;
    }),
    paths: ['/sinks/late'],
    error: { keyword: 'required', params: { missingProperty: 'from' } },
  },
  {
    name: 'a step without from',
    spec: revenueWith((_spec, steps) => {
      delete steps[0].from;
    }),
    paths: ['/steps/0'],
    error: { keyword: 'required', params: { missingProperty: 'from' } },
  },
  {
    name: 'a parameter default of the wrong type',
    spec: revenueWith((spec) => {
      (spec.params as Record<string, Spec>).window.default = 60;
    }),
    paths: ['/params/window/default'],
    error: { keyword: 'type' },
  },
  {
    name: 'a parameter reference with a space',
    spec: revenueWith((_spec, _steps, sources) => {
      sources.orders.format = '${params. format}';
    }),
    paths: ['/sources/orders/format'],
    error: { keyword: 'enum' },
  },
  {
    name: 'a negative generator count',
    spec: { pipeline: 'gen', sources: { g: { connector: 'generator', dataset: 'orders', count: -1 } }, sinks: { k: { from: 'g', connector: 'stdout' } } },
    paths: ['/sources/g/count'],
    error: { keyword: 'minimum' },
  },
  {
    name: 'an out-of-order fraction above 1',
    spec: { pipeline: 'gen', sources: { g: { connector: 'generator', dataset: 'orders', out_of_order: 1.5 } }, sinks: { k: { from: 'g', connector: 'stdout' } } },
    paths: ['/sources/g/out_of_order'],
    error: { keyword: 'maximum' },
  },
  {
    name: 'a file source without type',
    spec: revenueWith((_spec, _steps, sources) => {
      delete sources.orders.type;
    }),
    paths: ['/sources/orders'],
    error: { keyword: 'required', params: { missingProperty: 'type' } },
  },
  {
    name: 'csv options without format: csv',
    spec: revenueWith((_spec, _steps, sources) => {
      sources.orders.csv = { header: true };
    }),
    paths: ['/sources/orders/format'],
    error: { keyword: 'const' },
  },
  {
    name: 'Kafka event time from both a field and the record timestamp',
    spec: {
      pipeline: 'k',
      types: { T: { ts: 'timestamp' } },
      sources: { k: { connector: 'kafka', topics: 't', type: 'T', event_time: { field: 'ts', source: 'timestamp' } } },
      sinks: { s: { from: 'k', connector: 'stdout' } },
    },
    paths: ['/sources/k/event_time/source'],
    error: { keyword: 'false schema' },
  },
  {
    name: 'Kafka start_offset timestamp without start_timestamp',
    spec: {
      pipeline: 'k',
      types: { T: { ts: 'timestamp' } },
      sources: { k: { connector: 'kafka', topics: 't', type: 'T', start_offset: 'timestamp' } },
      sinks: { s: { from: 'k', connector: 'stdout' } },
    },
    paths: ['/sources/k'],
    error: { keyword: 'required', params: { missingProperty: 'start_timestamp' } },
  },
  {
    name: 'an interval join without bounds',
    spec: revenueWith((_spec, steps) => {
      steps.push({ id: 'joined', from: 'purchases', join: { with: 'revenue', on: 'category' } });
    }),
    paths: ['/steps/2/join'],
    error: { keyword: 'required', params: { missingProperty: 'between' } },
  },
  {
    name: 'a join of one stream without with',
    spec: revenueWith((_spec, steps) => {
      steps.push({ id: 'joined', from: 'purchases', join: { on: 'category', between: ['0s', '1m'] } });
    }),
    paths: ['/steps/2/join'],
    error: { keyword: 'required', params: { missingProperty: 'with' } },
  },
  {
    name: 'a temporal join with interval bounds',
    spec: revenueWith((_spec, steps) => {
      steps.push({ id: 'joined', from: 'purchases', join: { with: 'revenue', type: 'temporal', on: 'category', between: ['0s', '1m'] } });
    }),
    paths: ['/steps/2/join/between'],
    error: { keyword: 'false schema' },
  },
  {
    name: 'a malformed interval bound',
    spec: revenueWith((_spec, steps) => {
      steps.push({ id: 'joined', from: 'purchases', join: { with: 'revenue', on: 'category', between: ['-5 m', '1m'] } });
    }),
    paths: ['/steps/2/join/between/0'],
    error: { keyword: 'pattern', schemaPath: '#/$defs/signedDuration/pattern' },
  },
  {
    name: 'a pattern stage with both times and one_or_more',
    spec: revenueWith((_spec, steps) => {
      steps.push({
        id: 'fraud',
        from: 'purchases',
        pattern: { sequence: [{ name: 'a', times: 2, one_or_more: true }], within: '1m', emit: { n: 'len(a)' } },
      });
    }),
    paths: ['/steps/2/pattern/sequence/0/times'],
    error: { keyword: 'false schema' },
  },
  {
    name: 'process state of an unknown kind',
    spec: revenueWith((_spec, steps) => {
      steps.push({ id: 'custom', from: 'purchases', process: { module: './x.ts', export: 'run', state: { s: { kind: 'set', type: 'int' } } } });
    }),
    paths: ['/steps/2/process/state/s/kind'],
    error: { keyword: 'enum' },
  },
  {
    name: 'a PostgreSQL upsert sink without key',
    spec: revenueWith((_spec, _steps, _sources, sinks) => {
      sinks.db = { from: 'revenue', connector: 'postgres', table: 'revenue' };
    }),
    paths: ['/sinks/db'],
    error: { keyword: 'required', params: { missingProperty: 'key' } },
  },
  {
    name: 'a spec test without expected records',
    spec: revenueWith((spec) => {
      spec.tests = [{ name: 'empty', input: { orders: [] } }];
    }),
    paths: ['/tests/0'],
    error: { keyword: 'required', params: { missingProperty: 'expected' } },
  },
];

function expectRejectedAtTheWrongNode(invalid: InvalidCase): void {
  const errors = errorsOf(invalid.spec);
  expect(errors.length).toBeGreaterThan(0);
  expect(errorPaths(invalid.spec)).toEqual([...invalid.paths].sort());
  expect(reportedErrors(errors)).toContainEqual(expect.objectContaining(invalid.error));
  // The wrappers sit on the wrong node or on an object containing it, never beside it.
  for (const error of errors) {
    expect(invalid.paths.some((path) => path === error.instancePath || path.startsWith(`${error.instancePath}/`))).toBe(true);
  }
}

describe('invalid specs', () => {
  it.each(invalidCases.map((c) => [c.name, c] as const))('rejects %s at the wrong node', (_name, invalid) => {
    expectRejectedAtTheWrongNode(invalid);
  });

  it('reports a malformed duration as exactly one error whose schema is $defs/duration', () => {
    const spec = revenueWith((_spec, steps) => {
      (steps[1].window as Spec).tumbling = '5 minutes';
    });
    const errors = errorsOf(spec);
    expect(errors).toHaveLength(1);
    expect(errors[0].schemaPath).toContain('/$defs/duration/');
    expect(errors[0].parentSchema).toBe(definitions.duration);
  });

  it('reports a step with no operator as one error that names every operator', () => {
    const spec = revenueWith((_spec, steps) => {
      delete steps[0].filter;
    });
    const errors = errorsOf(spec);
    expect(errors).toHaveLength(1);
    const noOperator = errors[0].schema as { properties: Record<string, unknown> };
    const forbidden = Object.keys(noOperator.properties).filter((key) => noOperator.properties[key] === false);
    expect(forbidden).toEqual(['filter', 'map', 'set', 'explode', 'key_by', 'window', 'aggregate', 'dedupe', 'union', 'split', 'validate', 'join', 'pattern', 'process']);
  });

  it('allows key_by beside window, aggregate, pattern and process, but not beside filter', () => {
    const keyed = (operator: Spec): Spec =>
      revenueWith((_spec, steps) => {
        steps.push({ id: 'keyed', from: 'purchases', key_by: 'category', ...operator });
      });
    expect(describeErrors(keyed({ aggregate: { n: 'count()' } }))).toBe('');
    expect(describeErrors(keyed({ process: { module: './p.ts', export: 'p' } }))).toBe('');
    expect(describeErrors(keyed({ pattern: { sequence: [{ name: 'a' }], within: '1m', emit: { n: 'len(a)' } } }))).toBe('');
    expect(errorPaths(keyed({ filter: 'true' }))).toEqual(['/steps/2/key_by']);
    expect(errorPaths(keyed({ dedupe: { key: 'order_id', within: '1m' } }))).toEqual(['/steps/2/dedupe']);
  });

  it('rejects from beside union', () => {
    const spec = revenueWith((_spec, steps) => {
      steps.push({ id: 'merged', from: 'orders', union: ['orders', 'purchases'] });
    });
    expect(errorPaths(spec)).toEqual(['/steps/2/from']);
  });
});

// ---------------------------------------------------------------------------------------------- connector blocks

const sourceConnectors = ['file', 'generator', 'kafka', 'postgres-cdc'] as const;
const sinkConnectors = ['file', 'stdout', 'kafka', 'postgres'] as const;

/** Every connector configured in the block named after it, `connector` choosing one (as after substitution). */
function blocksSpec(sourceConnector: string, sinkConnector: string): Spec {
  return {
    pipeline: 'blocks',
    types: { Order: { order_id: 'string', price: 'float', ts: 'timestamp' } },
    sources: {
      orders: {
        connector: sourceConnector,
        type: 'Order',
        event_time: { field: 'ts', max_out_of_orderness: '5s' },
        dead_letter: 'bad_orders',
        generator: { dataset: 'orders', seed: 42, count: 200000 },
        file: { path: 'pipelines/data/orders.jsonl', format: 'json' },
        kafka: { topics: ['user-events'], group: 'revenue' },
        'postgres-cdc': { tables: ['public.orders'], snapshot: false },
      },
    },
    sinks: {
      revenue_out: {
        from: 'orders',
        connector: sinkConnector,
        file: { path: 'output/revenue.jsonl' },
        stdout: { format: 'text' },
        kafka: { topic: 'revenue-metrics', key: 'order_id' },
        postgres: { table: 'revenue', key: ['order_id'] },
      },
    },
  };
}

/** `blocksSpec` with `change` applied to its only source and sink. */
function blocksWith(sourceConnector: string, sinkConnector: string, change: (source: Spec, sink: Spec) => void): Spec {
  const spec = blocksSpec(sourceConnector, sinkConnector);
  change((spec.sources as Record<string, Spec>).orders, (spec.sinks as Record<string, Spec>).revenue_out);
  return spec;
}

/** The block of `connector` in a source or sink. */
function blockOf(node: Spec, connector: string): Spec {
  return node[connector] as Spec;
}

/** A spec with one source and one sink given as they are. */
function specWith(source: Spec, sink: Spec = { from: 'orders', connector: 'stdout' }): Spec {
  return { pipeline: 'blocks', types: { Order: { order_id: 'string', ts: 'timestamp' } }, sources: { orders: source }, sinks: { out: sink } };
}

// The example of connector blocks as an editor sees it, the connectors chosen by parameters.
const blocksYaml = `
pipeline: revenue
params:
  source: { type: string, default: generator }
  sink: { type: string, default: file }
types:
  Order: { order_id: string, price: float, ts: timestamp }
sources:
  orders:
    connector: \${params.source}          # generator (default) | file | kafka
    type: Order
    event_time: { field: ts, max_out_of_orderness: 5s }
    dead_letter: bad_orders
    generator: { dataset: orders, seed: 42, count: 200000 }
    file: { path: pipelines/data/orders.jsonl, format: json }
    kafka: { topics: [user-events], group: revenue }
sinks:
  revenue_out:
    from: orders
    connector: \${params.sink}
    file: { path: output/revenue.jsonl }
    kafka: { topic: revenue-metrics }
`;

describe('connector blocks', () => {
  it.each(sourceConnectors.map((source, index) => [source, sinkConnectors[index]] as const))(
    'accepts every connector in a block with %s chosen for the source and %s for the sink',
    (source, sink) => {
      expect(describeErrors(blocksSpec(source, sink))).toBe('');
    },
  );

  it('accepts the blocks before substitution, the connectors chosen by parameters', () => {
    expect(describeErrors(parse(blocksYaml))).toBe('');
  });

  it('accepts blocks beside flat options, each option in one place', () => {
    const accepted: Spec[] = [
      specWith({ connector: 'file', type: 'Order', path: 'orders.csv', file: { format: 'csv', csv: { delimiter: ';' } } }),
      specWith({ connector: 'file', type: 'Order', format: 'csv', csv: { header: false }, file: { path: 'orders.csv' } }),
      specWith({ connector: 'kafka', type: 'Order', start_offset: 'timestamp', kafka: { topics: 'orders', start_timestamp: 0 } }),
      specWith({ connector: 'generator', dataset: 'orders', generator: { seed: 7 } }),
      specWith({ connector: 'generator', generator: { dataset: 'orders' } }, { from: 'orders', connector: 'postgres', postgres: { table: 'orders', mode: 'append' } }),
      specWith({ connector: 'generator', dataset: 'orders' }, { from: 'orders', connector: 'postgres', mode: 'append', postgres: { table: 'orders' } }),
      specWith({ connector: 'generator', dataset: 'orders' }, { from: 'orders', connector: 'postgres', table: 'orders', postgres: { key: ['order_id'] } }),
      specWith({ connector: 'generator', dataset: 'orders' }, { from: 'orders', connector: 'stdout', stdout: { format: 'text' } }),
    ];
    for (const spec of accepted) expect(describeErrors(spec)).toBe('');
  });

  it("requires nothing in another connector's block, and applies none of its rules", () => {
    const spec = specWith(
      // A file block without path and with csv options but no format; a Kafka block without topics.
      { connector: 'generator', dataset: 'orders', file: { csv: { header: false } }, kafka: { group: 'revenue', start_offset: 'timestamp' } },
      { from: 'orders', connector: 'stdout', postgres: { table: 'orders' }, kafka: {} },
    );
    expect(describeErrors(spec)).toBe('');
  });

  const blockCases: InvalidCase[] = [
    {
      name: "a misspelled key in another connector's source block",
      spec: blocksWith('generator', 'file', (source) => {
        blockOf(source, 'file').paht = 'orders.jsonl';
      }),
      paths: ['/sources/orders/file'],
      error: { keyword: 'additionalProperties', params: { additionalProperty: 'paht' } },
    },
    {
      name: "a wrong value in another connector's source block",
      spec: blocksWith('file', 'file', (source) => {
        blockOf(source, 'generator').count = -1;
      }),
      paths: ['/sources/orders/generator/count'],
      error: { keyword: 'minimum' },
    },
    {
      name: "a misspelled key in another connector's sink block",
      spec: blocksWith('file', 'file', (_source, sink) => {
        blockOf(sink, 'kafka').topik = 'revenue';
      }),
      paths: ['/sinks/revenue_out/kafka'],
      error: { keyword: 'additionalProperties', params: { additionalProperty: 'topik' } },
    },
    {
      name: "a misspelled key in the chosen connector's block",
      spec: blocksWith('kafka', 'kafka', (source) => {
        blockOf(source, 'kafka').gruop = 'revenue';
      }),
      paths: ['/sources/orders/kafka'],
      error: { keyword: 'additionalProperties', params: { additionalProperty: 'gruop' } },
    },
    {
      name: 'a common key inside a block',
      spec: blocksWith('file', 'file', (source) => {
        blockOf(source, 'file').type = 'Order';
      }),
      paths: ['/sources/orders/file'],
      error: { keyword: 'additionalProperties', params: { additionalProperty: 'type' } },
    },
    {
      name: 'a block of the other kind (a sink connector under a source)',
      spec: blocksWith('file', 'file', (source) => {
        source.stdout = { format: 'text' };
      }),
      paths: ['/sources/orders'],
      error: { keyword: 'additionalProperties', params: { additionalProperty: 'stdout' } },
    },
    {
      name: 'a misspelled key beside a connector chosen by a parameter',
      spec: blocksWith('${params.source}', '${params.sink}', (source) => {
        source.fromat = 'json';
      }),
      paths: ['/sources/orders'],
      error: { keyword: 'additionalProperties', params: { additionalProperty: 'fromat' } },
    },
    {
      name: 'a misspelled key in a block when the connector is chosen by a parameter',
      spec: blocksWith('${params.source}', '${params.sink}', (_source, sink) => {
        blockOf(sink, 'postgres').tabel = 'revenue';
      }),
      paths: ['/sinks/revenue_out/postgres'],
      error: { keyword: 'additionalProperties', params: { additionalProperty: 'tabel' } },
    },
    {
      name: 'a wrong value for every connector when the connector is chosen by a parameter',
      spec: blocksWith('${params.source}', '${params.sink}', (source) => {
        source.format = 'xml';
      }),
      paths: ['/sources/orders/format'],
      error: { keyword: 'enum', params: { allowedValues: ['json', 'csv', 'debezium-json'] } },
    },
    ...(
      [
        ['source', 'file', 'path'],
        ['source', 'generator', 'dataset'],
        ['source', 'kafka', 'topics'],
        ['source', 'postgres-cdc', 'tables'],
        ['sink', 'file', 'path'],
        ['sink', 'kafka', 'topic'],
        ['sink', 'postgres', 'table'],
      ] as const
    ).map(([kind, connector, option]): InvalidCase => ({
      name: `a ${connector} ${kind} without ${option}, neither flat nor in its block`,
      spec:
        kind === 'source'
          ? blocksWith(connector, 'file', (source) => {
              delete blockOf(source, connector)[option];
            })
          : blocksWith('file', connector, (_source, sink) => {
              delete blockOf(sink, connector)[option];
            }),
      paths: [kind === 'source' ? '/sources/orders' : '/sinks/revenue_out'],
      error: { keyword: 'required', params: { missingProperty: option } },
    })),
    {
      name: 'a file source without path and without a file block',
      spec: specWith({ connector: 'file', type: 'Order', generator: { dataset: 'orders' } }),
      paths: ['/sources/orders'],
      error: { keyword: 'required', params: { missingProperty: 'path' } },
    },
    {
      name: 'csv options in the block with another format given flat',
      spec: specWith({ connector: 'file', type: 'Order', format: 'json', file: { path: 'orders.csv', csv: { header: true } } }),
      paths: ['/sources/orders/format'],
      error: { keyword: 'const', params: { allowedValue: 'csv' } },
    },
    {
      name: 'csv options given flat with another format in the block',
      spec: specWith({ connector: 'file', type: 'Order', csv: { header: true }, file: { path: 'orders.csv', format: 'json' } }),
      paths: ['/sources/orders/file/format'],
      error: { keyword: 'const', params: { allowedValue: 'csv' } },
    },
    {
      name: 'csv options in the block without a format anywhere',
      spec: specWith({ connector: 'file', type: 'Order', file: { path: 'orders.csv', csv: { header: true } } }),
      paths: ['/sources/orders'],
      error: { keyword: 'required', params: { missingProperty: 'format' } },
    },
    {
      name: 'Kafka start_offset timestamp in the block without start_timestamp anywhere',
      spec: specWith({ connector: 'kafka', type: 'Order', kafka: { topics: 'orders', start_offset: 'timestamp' } }),
      paths: ['/sources/orders'],
      error: { keyword: 'required', params: { missingProperty: 'start_timestamp' } },
    },
    {
      name: 'Kafka start_timestamp without start_offset anywhere',
      spec: specWith({ connector: 'kafka', type: 'Order', start_timestamp: 0, kafka: { topics: 'orders' } }),
      paths: ['/sources/orders'],
      error: { keyword: 'required', params: { missingProperty: 'start_offset' } },
    },
    {
      name: 'a PostgreSQL upsert sink in a block without key',
      spec: specWith({ connector: 'generator', dataset: 'orders' }, { from: 'orders', connector: 'postgres', postgres: { table: 'orders', mode: 'upsert' } }),
      paths: ['/sinks/out'],
      error: { keyword: 'required', params: { missingProperty: 'key' } },
    },
  ];

  it.each(blockCases.map((c) => [c.name, c] as const))('rejects %s at the wrong node', (_name, invalid) => {
    expectRejectedAtTheWrongNode(invalid);
  });

  it("reports the chosen connector's missing required option as one required error on the source", () => {
    const withBlock = blocksWith('file', 'file', (source) => {
      delete blockOf(source, 'file').path;
    });
    const flat = specWith({ connector: 'file', type: 'Order', format: 'json' });
    const fileRules = definitions.fileSource.allOf as SchemaNode[];
    const dispatch = definitions.source.allOf as SchemaNode[];
    for (const spec of [withBlock, flat]) {
      const errors = errorsOf(spec).map(({ instancePath, schemaPath, keyword, params, message, parentSchema }) => ({ instancePath, schemaPath, keyword, params, message, parentSchema }));
      // Ajv's schema paths start again at the target of a $ref (`#/$defs/fileSource`), hence the parent schemas.
      expect(errors).toEqual([
        {
          instancePath: '/sources/orders',
          schemaPath: '#/allOf/0/else/required',
          keyword: 'required',
          params: { missingProperty: 'path' },
          message: "must have required property 'path'",
          parentSchema: fileRules[0].else,
        },
        { instancePath: '/sources/orders', schemaPath: '#/allOf/0/if', keyword: 'if', params: { failingKeyword: 'else' }, message: 'must match "else" schema', parentSchema: fileRules[0] },
        { instancePath: '/sources/orders', schemaPath: '#/allOf/0/if', keyword: 'if', params: { failingKeyword: 'then' }, message: 'must match "then" schema', parentSchema: dispatch[0] },
      ]);
      expect(reportedErrors(errorsOf(spec))).toHaveLength(1);
    }
  });
});

describe('connector schemas', () => {
  const kinds = [
    { kind: 'source', common: ['connector', 'description', 'type', 'event_time', 'dead_letter'], connectors: sourceConnectors },
    { kind: 'sink', common: ['from', 'connector', 'description'], connectors: sinkConnectors },
  ] as const;

  /** The connector schema `connector: NAME` selects, found through the dispatch in `$defs/source` or `$defs/sink`. */
  function connectorSchema(kind: string, connector: string): SchemaNode {
    const branch = (definitions[kind].allOf as SchemaNode[]).find(
      (candidate) => (candidate.if as { properties: { connector: { const?: string } } }).properties.connector.const === connector,
    );
    return resolveReference(branch?.then as SchemaNode) as SchemaNode;
  }

  it.each(kinds)("defines each $kind connector's options once, referred to flat by its schema and as a block by every schema", ({ kind, common, connectors }) => {
    const blockTargets = new Map<string, SchemaNode>();
    for (const connector of connectors) {
      const properties = connectorSchema(kind, connector).properties as Record<string, SchemaNode>;
      blockTargets.set(connector, resolveReference(properties[connector]) as SchemaNode);
    }
    for (const connector of connectors) {
      const properties = connectorSchema(kind, connector).properties as Record<string, SchemaNode>;
      const options = blockTargets.get(connector) as SchemaNode;
      expect(options.additionalProperties).toBe(false);
      expect(options.required).toBeUndefined();
      const optionNames = Object.keys(options.properties as SchemaNode);
      expect(optionNames.filter((name) => common.includes(name as never) || (connectors as readonly string[]).includes(name))).toEqual([]);
      // Flat: the common keys, then each option as a reference to its one definition, then every block.
      expect(Object.keys(properties)).toEqual([...common, ...optionNames, ...connectors]);
      for (const name of optionNames) expect(resolveReference(properties[name])).toBe((options.properties as SchemaNode)[name]);
      for (const block of connectors) expect(resolveReference(properties[block])).toBe(blockTargets.get(block));
    }
  });

  it.each(kinds)('accepts under a $kind connector chosen by a parameter exactly the keys some connector accepts', ({ kind, connectors }) => {
    const parameterBranch = (definitions[kind].allOf as SchemaNode[]).find(
      (candidate) => (candidate.if as { properties: { connector: SchemaNode } }).properties.connector.$ref === '#/$defs/paramRef',
    );
    const chosenByParameter = resolveReference(parameterBranch?.then as SchemaNode) as SchemaNode;
    expect(chosenByParameter.additionalProperties).toBe(false);
    const union = new Set(connectors.flatMap((connector) => Object.keys(connectorSchema(kind, connector).properties as SchemaNode)));
    expect(Object.keys(chosenByParameter.properties as SchemaNode).sort()).toEqual([...union].sort());
    const properties = chosenByParameter.properties as Record<string, SchemaNode>;
    for (const block of connectors) expect(resolveReference(properties[block])).toBe(resolveReference((connectorSchema(kind, block).properties as Record<string, SchemaNode>)[block]));
  });

  it("names in the rules of a connector schema only its keys and, inside its block, only its options", () => {
    /** Every key a rule requires or constrains, with the keys defined where it must be, looking into blocks and nested conditions. */
    function ruleKeys(rule: unknown, object: SchemaNode, found: Array<[string, string[]]>): Array<[string, string[]]> {
      if (Array.isArray(rule)) {
        for (const item of rule) ruleKeys(item, object, found);
        return found;
      }
      if (!isObject(rule)) return found;
      const properties = object.properties as Record<string, SchemaNode>;
      const defined = Object.keys(properties);
      for (const key of (rule.required as string[] | undefined) ?? []) found.push([key, defined]);
      if (isObject(rule.properties)) {
        for (const [key, constraint] of Object.entries(rule.properties)) {
          found.push([key, defined]);
          const target = properties[key] === undefined ? undefined : (resolveReference(properties[key]) ?? properties[key]);
          if (target !== undefined && isObject(target.properties)) ruleKeys(constraint, target, found);
        }
      }
      for (const keyword of ['if', 'then', 'else', 'not', 'anyOf', 'allOf', 'oneOf']) ruleKeys(rule[keyword], object, found);
      return found;
    }
    let rules = 0;
    for (const { kind, connectors } of kinds) {
      for (const connector of connectors) {
        const connectorDefinition = connectorSchema(kind, connector);
        const keys = ruleKeys(connectorDefinition.allOf ?? [], connectorDefinition, []);
        rules += keys.length;
        expect(keys.filter(([key, defined]) => !defined.includes(key))).toEqual([]);
      }
    }
    expect(rules).toBeGreaterThan(30);
  });
});

// ---------------------------------------------------------------------------------------------- documentation

/** The schema a local `$ref` (a JSON pointer such as `#/$defs/fileSourceOptions/properties/path`) points at. */
function resolveReference(node: SchemaNode): SchemaNode | undefined {
  const reference = node.$ref;
  if (typeof reference !== 'string' || !reference.startsWith('#/')) return undefined;
  let target: unknown = schema;
  for (const segment of reference.slice(2).split('/')) {
    target = isObject(target) ? target[segment.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
  }
  return isObject(target) ? target : undefined;
}

function hasDescription(node: SchemaNode): boolean {
  if (typeof node.description === 'string' && node.description.trim().length > 0) return true;
  const target = resolveReference(node);
  return target !== undefined && hasDescription(target);
}

// Keywords whose subschemas constrain properties defined elsewhere rather than define new ones.
const constraintKeywords = new Set(['if', 'then', 'else', 'not', 'dependentSchemas', 'propertyNames']);

/** Every property definition in the schema (in `properties`, or the value schema of a map), with its JSON pointer. */
function propertyDefinitions(node: unknown, pointer: string, found: Array<[string, SchemaNode]>): Array<[string, SchemaNode]> {
  if (Array.isArray(node)) {
    node.forEach((item, index) => propertyDefinitions(item, `${pointer}/${index}`, found));
    return found;
  }
  if (!isObject(node)) return found;
  for (const [keyword, value] of Object.entries(node)) {
    if (constraintKeywords.has(keyword)) continue;
    if (keyword === 'properties' && isObject(value)) {
      for (const [name, property] of Object.entries(value)) if (isObject(property)) found.push([`${pointer}/properties/${name}`, property]);
    }
    if (keyword === 'additionalProperties' && isObject(value)) found.push([`${pointer}/additionalProperties`, value]);
    propertyDefinitions(value, `${pointer}/${keyword}`, found);
  }
  return found;
}

/** Every place a key is forbidden or required as a constraint, with the keys the schema defines there. */
function constrainedKeys(node: unknown, found: Array<[string, readonly string[]]>): Array<[string, readonly string[]]> {
  if (Array.isArray(node)) {
    for (const item of node) constrainedKeys(item, found);
    return found;
  }
  if (!isObject(node)) return found;
  if (isObject(node.properties)) {
    const defined = Object.keys(node.properties);
    const mentioned: string[] = [];
    const mentionedBy = (constraint: unknown): void => {
      if (!isObject(constraint)) return;
      if (isObject(constraint.properties)) mentioned.push(...Object.keys(constraint.properties));
      if (Array.isArray(constraint.required)) mentioned.push(...(constraint.required as string[]));
    };
    mentionedBy(node.not);
    if (isObject(node.dependentSchemas)) {
      mentioned.push(...Object.keys(node.dependentSchemas));
      Object.values(node.dependentSchemas).forEach(mentionedBy);
    }
    if (isObject(node.dependentRequired)) {
      for (const [key, required] of Object.entries(node.dependentRequired)) mentioned.push(key, ...(required as string[]));
    }
    if (Array.isArray(node.allOf)) {
      for (const condition of node.allOf as SchemaNode[]) {
        mentionedBy(condition.if);
        mentionedBy(condition.then);
        mentionedBy(condition.else);
      }
    }
    for (const key of mentioned) found.push([key, defined]);
  }
  for (const value of Object.values(node)) constrainedKeys(value, found);
  return found;
}

describe('documentation for editors', () => {
  it('describes every property defined anywhere in the schema', () => {
    const properties = propertyDefinitions(schema, '#', []);
    expect(properties.length).toBeGreaterThan(150);
    const undocumented = properties.filter(([, property]) => !hasDescription(property)).map(([pointer]) => pointer);
    expect(undocumented).toEqual([]);
  });

  it('describes every shared definition', () => {
    const undocumented = Object.entries(definitions)
      .filter(([, definition]) => !hasDescription(definition))
      .map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  it('constrains only keys the same object defines, so a typo in a constraint cannot silently never apply', () => {
    const strays = constrainedKeys(schema, []).filter(([key, defined]) => !defined.includes(key));
    expect(strays).toEqual([]);
  });

  it('lists the same connectors in the enum, the discriminating conditions and the connector schemas', () => {
    for (const kind of ['source', 'sink']) {
      const definition = definitions[kind];
      const connector = (definition.properties as Record<string, SchemaNode>).connector;
      const values = ((connector.anyOf as SchemaNode[])[0].enum as string[]).slice().sort();
      const branches = (definition.allOf as SchemaNode[]).flatMap((branch) => {
        const chosenByParameter = (branch.if as { properties: { connector: SchemaNode } }).properties.connector;
        if (chosenByParameter.$ref === '#/$defs/paramRef') {
          expect(branch.then).toEqual({ $ref: `#/$defs/param${kind[0].toUpperCase()}${kind.slice(1)}` });
          return [];
        }
        const condition = (branch.if as { properties: { connector: { const: string } } }).properties.connector.const;
        const target = resolveReference(branch.then as SchemaNode) as { properties: { connector: { const: string } } };
        expect(target.properties.connector.const).toBe(condition);
        return [condition];
      });
      expect(branches.sort()).toEqual(values);
    }
  });
});
