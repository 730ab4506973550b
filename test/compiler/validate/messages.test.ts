// Schema errors as the spec's author reads them: one message per wrong node, with the exact text and line:column.

import { describe, expect, it } from 'vitest';
import type { SchemaObject } from 'ajv/dist/2020.js';
import { loadSpec } from '../../../compiler/load/index.ts';
import { SchemaValidator } from '../../../compiler/validate/index.ts';
import { renderDiagnostic } from '../../support/compile.ts';
import { testSchema } from './test-schema.ts';

const validator = new SchemaValidator(testSchema);

function check(lines: readonly string[], schemaValidator = validator): string[] {
  const spec = loadSpec([...lines, ''].join('\n'), 'spec.yaml');
  expect(spec.diagnostics).toEqual([]);
  return schemaValidator.validate(spec).map(renderDiagnostic);
}

const source = ['pipeline: revenue', 'sources:', '  orders: { connector: file, path: orders.jsonl }'];
const sink = ['sinks:', '  out: { from: revenue, connector: file }'];

describe('a valid spec', () => {
  it('has no diagnostics', () => {
    expect(check([...source, 'steps:', '  - id: revenue', '    from: orders', '    filter: price > 1', ...sink])).toEqual([]);
  });

  it('has none when the YAML did not parse (the loader reported that)', () => {
    const spec = loadSpec('a: [1\n', 'broken.yaml');
    expect(validator.validate(spec)).toEqual([]);
  });
});

describe('unknown properties', () => {
  it('points at the key and suggests the closest allowed property', () => {
    expect(check([...source, 'steps:', '  - id: revenue', '    from: orders', '    filtr: price > 1', ...sink])).toEqual([
      '7:5 PC103 steps[0]: unknown property `filtr`; did you mean `filter`?',
    ]);
  });

  it('suggests within the branch a discriminating property selects', () => {
    expect(check(['pipeline: revenue', 'sources:', '  clicks: { connector: generator, datset: clicks }', ...sink])).toEqual([
      '3:35 PC103 sources.clicks: unknown property `datset`; did you mean `dataset`?',
    ]);
  });

  it('names the property without a suggestion when none is close', () => {
    expect(check([...source, ...sink, 'colour: red'])).toEqual(['6:1 PC103 (top level): unknown property `colour`']);
  });
});

describe('missing properties', () => {
  it('points at the key of the object missing it', () => {
    expect(
      check([...source, 'steps:', '  - id: revenue', '    from: orders', '    window:', '      sliding: { size: 5m }', '    aggregate: { n: count() }', ...sink]),
    ).toEqual(['8:7 PC104 steps[0].window.sliding: missing required property `slide`']);
  });

  it('points at the document for a top-level property', () => {
    expect(check(source)).toEqual(['1:1 PC104 (top level): missing required property `sinks`']);
  });

  it('reports each missing property once, in order', () => {
    expect(check([...source, 'sinks:', '  out: { path: x }'])).toEqual([
      '5:3 PC104 sinks.out: missing required property `connector`',
      '5:3 PC104 sinks.out: missing required property `from`',
    ]);
  });
});

describe('durations', () => {
  it('reports a malformed duration with the value as written', () => {
    expect(
      check([...source, 'steps:', '  - id: revenue', '    from: orders', '    window: { tumbling: 5 minutes }', '    aggregate: { n: count() }', ...sink]),
    ).toEqual(['7:25 PC105 steps[0].window.tumbling: expected a duration like "5m", got "5 minutes"']);
  });

  it('reports a number where a duration goes', () => {
    expect(check([...source, ...sink, 'checkpoints: { interval: 10 }'])).toEqual([
      '6:26 PC105 checkpoints.interval: expected a duration like "5m", got 10',
    ]);
  });

  it('reports a duration under an anyOf of duration and parameter reference once', () => {
    expect(
      check([...source, 'steps:', '  - id: revenue', '    from: orders', '    window:', '      tumbling: 1 hour', '    aggregate: { n: count() }', ...sink]),
    ).toEqual(['8:17 PC105 steps[0].window.tumbling: expected a duration like "5m", got "1 hour"']);
  });
});

describe('values of the wrong shape', () => {
  it('lists the allowed values of an enum, with a suggestion when one is close', () => {
    expect(check(['pipeline: revenue', 'sources:', '  orders: { connector: file, path: x, format: jsno }', 'sinks:', '  out: { from: revenue, connector: fil }'])).toEqual([
      '3:47 PC102 sources.orders.format: expected one of json, csv, got "jsno"',
      '5:36 PC102 sinks.out.connector: expected one of file, stdout, got "fil"; did you mean `file`?',
    ]);
  });

  it('says which type was expected and what was found', () => {
    expect(check([...source, ...sink, 'checkpoints: { retain: abc }'])).toEqual([
      '6:24 PC102 checkpoints.retain: expected a whole number, got "abc"',
    ]);
    expect(check([...source, ...sink, 'description: [a, b]'])).toEqual(['6:14 PC102 description: expected a string, got a list']);
  });

  it('reports a number below the minimum', () => {
    expect(check([...source, ...sink, 'checkpoints: { retain: 0 }'])).toEqual(['6:24 PC102 checkpoints.retain: expected a number >= 1, got 0']);
  });

  it('reports a pattern mismatch and an empty map', () => {
    expect(check(['pipeline: Revenue Report', 'sources: {}', ...sink])).toEqual([
      '1:11 PC102 pipeline: expected a string matching /^[a-z_][a-z0-9_]*$/, got "Revenue Report"',
      '2:10 PC102 sources: expected a non-empty map',
    ]);
  });

  it('reports a key that breaks propertyNames at the key', () => {
    expect(check([...source, ...sink, 'types:', '  order: { id: string }'])).toEqual([
      '7:3 PC102 types: key `order`: expected a string matching /^[A-Z][A-Za-z0-9]*$/, got "order"',
    ]);
  });
});

describe('oneOf and anyOf', () => {
  const step = (...lines: string[]): string[] => [...source, 'steps:', '  - id: revenue', '    from: orders', ...lines, ...sink];

  it('says which operators a step may have when it has none', () => {
    expect(check(step())).toEqual([
      '5:5 PC109 steps[0]: expected exactly one of filter, map, set, key_by, window, aggregate, dedupe in a step, got none of them',
    ]);
  });

  it('names the operators a step has too many of', () => {
    expect(check(step('    filter: x > 1', '    map: { y: x }'))).toEqual([
      '5:5 PC109 steps[0]: expected exactly one of filter, map, set, key_by, window, aggregate, dedupe in a step, got filter and map together',
    ]);
  });

  it('explains the branch a property selects, at the deepest wrong node', () => {
    expect(check(step('    dedupe: { key: 5, within: 1h }'))).toEqual(['7:20 PC102 steps[0].dedupe.key: expected a string, got 5']);
  });

  it('prefers the branch requiring more of the present properties', () => {
    expect(check(step('    window: { tumbling: 1m, allowed_latenes: 1s }', '    aggregate: { n: count() }'))).toEqual([
      '7:29 PC103 steps[0].window: unknown property `allowed_latenes`; did you mean `allowed_lateness`?',
    ]);
  });

  it('reports a property missing from the only partly present branch', () => {
    expect(check(step('    window: { tumbling: 1m }'))).toEqual(['5:5 PC104 steps[0]: missing required property `aggregate`']);
  });

  it('lists the types of the branches when the value fits none', () => {
    expect(check(step('    key_by: 5'))).toEqual(['7:13 PC102 steps[0].key_by: expected a string, a list or a map, got 5']);
    expect(check([...source, 'steps:', '  - id: revenue', '    from: 3', '    filter: x', ...sink])).toEqual([
      '6:11 PC102 steps[0].from: expected a string or a list, got 3',
    ]);
  });

  it('reports a discriminator that matches no branch with the values of all branches', () => {
    expect(check(['pipeline: revenue', 'sources:', '  orders: { connector: kafak, topic: orders }', ...sink])).toEqual([
      '3:24 PC102 sources.orders.connector: expected one of file, generator, kafka, got "kafak"',
    ]);
  });

  it('finds the branch whatever the order of the properties', () => {
    expect(check(['pipeline: revenue', 'sources:', '  orders: { format: jsno, path: x, connector: file }', ...sink])).toEqual([
      '3:21 PC102 sources.orders.format: expected one of json, csv, got "jsno"',
    ]);
  });

  it('reports a value matching several branches of a oneOf', () => {
    const schema: SchemaObject = {
      type: 'object',
      properties: {
        trigger: {
          oneOf: [
            { type: 'object', required: ['count'] },
            { type: 'object', required: ['every'] },
          ],
        },
      },
    };
    expect(check(['trigger: { count: 3, every: 1m }'], new SchemaValidator(schema))).toEqual([
      '1:10 PC109 trigger: expected exactly one of count, every, got count and every together',
    ]);
  });
});

describe('parameter reference alternatives', () => {
  // After the loader substituted parameters, a `${params.NAME}` branch is never the one meant.
  const schema: SchemaObject = {
    type: 'object',
    properties: {
      count: { anyOf: [{ type: 'integer' }, { $ref: '#/$defs/paramRef' }] },
      format: { anyOf: [{ enum: ['json', 'csv'] }, { $ref: '#/$defs/paramRef' }] },
    },
    $defs: { paramRef: { type: 'string', pattern: '^\\$\\{params\\.[A-Za-z_][A-Za-z0-9_]*\\}$' } },
  };
  const withReferences = new SchemaValidator(schema);

  it('explains the other branch', () => {
    expect(check(['count: abc', 'format: xml'], withReferences)).toEqual([
      '1:8 PC102 count: expected a whole number, got "abc"',
      '2:9 PC102 format: expected one of json, csv, got "xml"',
    ]);
  });
});

describe('at-least-one and exclusive properties (not and dependentSchemas)', () => {
  const schema: SchemaObject = {
    type: 'object',
    properties: {
      window: {
        type: 'object',
        additionalProperties: false,
        properties: { tumbling: { type: 'string' }, sliding: { type: 'string' }, session: { type: 'string' }, offset: { type: 'string' } },
        not: { properties: { tumbling: false, sliding: false, session: false } },
        dependentSchemas: { tumbling: { properties: { sliding: false, session: false } }, session: { properties: { offset: false } } },
      },
    },
  };
  const exclusive = new SchemaValidator(schema);

  it('lists what is needed when none is there', () => {
    expect(check(['window: { offset: 1m }'], exclusive)).toEqual(['1:9 PC109 window: expected one of tumbling, sliding, session, got none of them']);
  });

  it('names the two that cannot be together, at the second', () => {
    expect(check(['window: { tumbling: 1m, sliding: 2m }'], exclusive)).toEqual(['1:25 PC109 window: `tumbling` and `sliding` cannot be used together']);
  });

  it('lets a misspelt property explain the missing one', () => {
    expect(check(['window: { tumblng: 1m }'], exclusive)).toEqual(['1:11 PC103 window: unknown property `tumblng`; did you mean `tumbling`?']);
  });
});

describe('order and duplicates', () => {
  it('sorts by position and reports one message per node', () => {
    expect(
      check([
        'pipeline: revenue',
        'sinks:',
        '  out: { from: revenue, connector: fil }',
        'sources:',
        '  orders: { connector: file, path: 3 }',
        'checkpoints: { interval: soon, mode: sometimes }',
      ]),
    ).toEqual([
      '3:36 PC102 sinks.out.connector: expected one of file, stdout, got "fil"; did you mean `file`?',
      '5:36 PC102 sources.orders.path: expected a string, got 3',
      '6:26 PC105 checkpoints.interval: expected a duration like "5m", got "soon"',
      '6:38 PC102 checkpoints.mode: expected one of exactly_once, at_least_once, got "sometimes"',
    ]);
  });
});
