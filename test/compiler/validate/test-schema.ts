// A small spec schema in the style of schemas/pipeline.schema.json, so the validator's messages are tested against known rules.

import type { SchemaObject } from 'ajv/dist/2020.js';

const expression = { type: ['string', 'number', 'boolean'] };
const stepBase = { id: { $ref: '#/$defs/identifier' }, from: { $ref: '#/$defs/from' } };

function step(operator: string, schema: object, extra: Record<string, object> = {}, required: string[] = [operator]): object {
  return {
    type: 'object',
    properties: { ...stepBase, [operator]: schema, ...extra },
    required: ['id', ...required],
    additionalProperties: false,
  };
}

export const testSchema: SchemaObject = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://pipec.dev/test.schema.json',
  type: 'object',
  properties: {
    pipeline: { $ref: '#/$defs/identifier' },
    description: { type: 'string' },
    params: { type: 'object' },
    sources: { type: 'object', additionalProperties: { $ref: '#/$defs/source' }, minProperties: 1 },
    steps: { type: 'array', items: { $ref: '#/$defs/step' } },
    sinks: { type: 'object', additionalProperties: { $ref: '#/$defs/sink' } },
    checkpoints: {
      type: 'object',
      properties: {
        interval: { $ref: '#/$defs/duration' },
        mode: { enum: ['exactly_once', 'at_least_once'] },
        retain: { type: 'integer', minimum: 1 },
      },
      additionalProperties: false,
    },
    types: {
      type: 'object',
      propertyNames: { pattern: '^[A-Z][A-Za-z0-9]*$' },
      additionalProperties: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
  required: ['pipeline', 'sources', 'sinks'],
  additionalProperties: false,
  $defs: {
    identifier: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$' },
    duration: { type: 'string', pattern: '^(?:\\d+(?:ms|s|m|h|d))+$' },
    paramRef: { type: 'string', pattern: '^\\$\\{params\\.[A-Za-z_][\\w-]*\\}$' },
    durationOrParam: { anyOf: [{ $ref: '#/$defs/duration' }, { $ref: '#/$defs/paramRef' }] },
    from: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
    source: {
      type: 'object',
      oneOf: [
        {
          properties: { connector: { const: 'file' }, path: { type: 'string' }, format: { enum: ['json', 'csv'] }, type: { type: 'string' } },
          required: ['connector', 'path'],
          additionalProperties: false,
        },
        {
          properties: { connector: { const: 'generator' }, dataset: { enum: ['orders', 'clicks'] }, count: { type: 'integer' }, type: { type: 'string' } },
          required: ['connector', 'dataset'],
          additionalProperties: false,
        },
        {
          properties: { connector: { const: 'kafka' }, topic: { type: 'string' }, type: { type: 'string' } },
          required: ['connector', 'topic'],
          additionalProperties: false,
        },
      ],
    },
    sink: {
      type: 'object',
      properties: { from: { type: 'string' }, connector: { enum: ['file', 'stdout'] }, path: { type: 'string' } },
      required: ['from', 'connector'],
      additionalProperties: false,
    },
    window: {
      type: 'object',
      oneOf: [
        { properties: { tumbling: { $ref: '#/$defs/durationOrParam' }, allowed_lateness: { $ref: '#/$defs/duration' }, late_output: { type: 'string' } }, required: ['tumbling'], additionalProperties: false },
        { properties: { sliding: { type: 'object', properties: { size: { $ref: '#/$defs/duration' }, slide: { $ref: '#/$defs/duration' } }, required: ['size', 'slide'], additionalProperties: false }, allowed_lateness: { $ref: '#/$defs/duration' }, late_output: { type: 'string' } }, required: ['sliding'], additionalProperties: false },
        { properties: { session: { type: 'object', properties: { gap: { $ref: '#/$defs/duration' } }, required: ['gap'], additionalProperties: false }, allowed_lateness: { $ref: '#/$defs/duration' }, late_output: { type: 'string' } }, required: ['session'], additionalProperties: false },
      ],
    },
    step: {
      title: 'Step',
      oneOf: [
        step('filter', expression),
        step('map', { type: 'object', additionalProperties: expression }),
        step('set', { type: 'object', additionalProperties: expression }),
        step('key_by', { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'object', additionalProperties: expression }] }),
        step('window', { $ref: '#/$defs/window' }, { aggregate: { type: 'object', additionalProperties: { type: 'string' } }, key_by: { type: 'string' } }, ['window', 'aggregate']),
        step('aggregate', { type: 'object', additionalProperties: { type: 'string' } }, { key_by: { type: 'string' } }),
        step('dedupe', { type: 'object', properties: { key: { type: 'string' }, within: { $ref: '#/$defs/duration' } }, required: ['key', 'within'], additionalProperties: false }),
      ],
    },
  },
};
