// Parameters: declared defaults, --param overrides of each type, bad values, undeclared names, unknown references, interpolation.

import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../../compiler/load/index.ts';
import { locate } from '../../../compiler/ir/source.ts';
import { messages } from '../../support/compile.ts';

const declarations = [
  'params:',
  '  window: { type: duration, default: 1m }',
  '  input: { type: string, default: pipelines/data/orders.jsonl }',
  '  output: { type: string, default: output }',
  '  rate: { type: int, default: 100 }',
  '  fraction: { type: float, default: 0.25 }',
  '  strict: { type: bool, default: false }',
];

/** A spec using every parameter, in flow and block style, whole and inside text. */
const specText = [
  'pipeline: revenue', //                                                                          line 1
  ...declarations, //                                                                              lines 2-8
  'sources:', //                                                                                   line 9
  '  orders: { connector: generator, rate: ${params.rate}, out_of_order: ${params.fraction} }', // line 10
  '  file:', //                                                                                    line 11
  '    path: ${params.input}', //                                                                  line 12
  '    strict: ${params.strict}', //                                                               line 13
  'steps:', //                                                                                     line 14
  '  - id: revenue', //                                                                            line 15
  '    window: { tumbling: ${params.window}, allowed_lateness: 30s }', //                          line 16
  '    filter: "amount > ${params.rate} && region == \'eu\'"', //                                  line 17
  'sinks:', //                                                                                     line 18
  '  out: { from: revenue, connector: file, path: ${params.output}/revenue.jsonl }', //           line 19
  '',
].join('\n');

interface Example {
  sources: { orders: { rate: unknown; out_of_order: unknown }; file: { path: unknown; strict: unknown } };
  steps: { window: { tumbling: unknown }; filter: unknown }[];
  sinks: { out: { path: unknown } };
  params: unknown;
}

describe('parameter defaults', () => {
  const spec = loadSpec(specText, 'revenue.yaml');
  const value = spec.value as Example;

  it('reports nothing for a correct spec', () => {
    expect(messages(spec)).toEqual([]);
  });

  it('types the values in effect', () => {
    expect(spec.params).toEqual({
      window: '1m',
      input: 'pipelines/data/orders.jsonl',
      output: 'output',
      rate: 100,
      fraction: 0.25,
      strict: false,
    });
  });

  it('gives a value that is only a reference the parameter type, inside flow maps too', () => {
    expect(value.sources.orders.rate).toBe(100);
    expect(value.sources.orders.out_of_order).toBe(0.25);
    expect(value.sources.file.strict).toBe(false);
    expect(value.sources.file.path).toBe('pipelines/data/orders.jsonl');
    expect(value.steps[0].window.tumbling).toBe('1m');
  });

  it('interpolates the text form of a value among other text', () => {
    expect(value.sinks.out.path).toBe('output/revenue.jsonl');
    expect(value.steps[0].filter).toBe("amount > 100 && region == 'eu'");
  });

  it('leaves the declarations themselves as written', () => {
    expect(value.params).toMatchObject({ window: { type: 'duration', default: '1m' }, rate: { type: 'int', default: 100 } });
  });

  it('maps characters after a substitution back to the text as written', () => {
    const filter = value.steps[0].filter as string;
    const offset = spec.offsetInText(['steps', 0, 'filter'], filter.indexOf('region'));
    expect(locate(spec.source, offset)).toMatchObject({ line: 17, column: 41 });
    // A character of the substituted value maps to the `$` of its reference.
    const inValue = spec.offsetInText(['steps', 0, 'filter'], filter.indexOf('100') + 1);
    expect(specText.slice(inValue, inValue + 14)).toBe('${params.rate}');
    expect(locate(spec.source, spec.offsetOf(['steps', 0, 'window', 'tumbling']))).toMatchObject({ line: 16, column: 25 });
  });
});

describe('--param overrides', () => {
  it('converts each type', () => {
    const spec = loadSpec(specText, 'revenue.yaml', {
      window: '5m',
      input: 'in.jsonl',
      rate: '-7',
      fraction: '1e-3',
      strict: 'true',
      output: '42',
    });
    expect(messages(spec)).toEqual([]);
    expect(spec.params).toEqual({ window: '5m', input: 'in.jsonl', output: '42', rate: -7, fraction: 0.001, strict: true });
    const value = spec.value as Example;
    expect(value.sources.orders.rate).toBe(-7);
    expect(value.sources.file.strict).toBe(true);
    expect(value.steps[0].window.tumbling).toBe('5m');
    expect(value.sinks.out.path).toBe('42/revenue.jsonl');
  });

  it('reports a value that does not convert, without a location, and keeps the default', () => {
    const spec = loadSpec(specText, 'revenue.yaml', { rate: 'abc', window: '5 minutes', fraction: 'NaN', strict: 'yes' });
    expect(messages(spec)).toEqual([
      'PC107 parameter `rate` has type int: expected a whole number, got "abc"',
      'PC107 parameter `window` has type duration: expected a duration like "5m", got "5 minutes"',
      'PC107 parameter `fraction` has type float: expected a number, got "NaN"',
      'PC107 parameter `strict` has type bool: expected true or false, got "yes"',
    ]);
    expect(spec.diagnostics.every((entry) => entry.location === undefined)).toBe(true);
    expect(spec.params).toMatchObject({ rate: 100, window: '1m', fraction: 0.25, strict: false });
  });

  it('rejects a fraction for an int', () => {
    const spec = loadSpec(specText, 'revenue.yaml', { rate: '1.5' });
    expect(messages(spec)).toEqual(['PC107 parameter `rate` has type int: expected a whole number, got "1.5"']);
  });

  it('reports an undeclared name with the closest declared one', () => {
    const spec = loadSpec(specText, 'revenue.yaml', { windw: '5m', colour: 'red' });
    expect(messages(spec)).toEqual([
      'PC108 --param windw: the spec declares no parameter `windw`; did you mean `window`?',
      'PC108 --param colour: the spec declares no parameter `colour`',
    ]);
  });
});

describe('parameter problems in the file', () => {
  it('reports a reference to an undeclared parameter at its `$`, with a suggestion, and leaves the text', () => {
    const text = ['params:', '  window: { type: duration, default: 1m }', 'steps:', '  - window: { tumbling: ${params.windw} }', '    note: "see ${params.nothing}"', ''].join('\n');
    const spec = loadSpec(text, 'typo.yaml');
    expect(messages(spec)).toEqual([
      '4:25 PC106 unknown parameter `windw` in `${params.windw}`: declare it under `params:`; did you mean `window`?',
      '5:16 PC106 unknown parameter `nothing` in `${params.nothing}`: declare it under `params:`',
    ]);
    expect(spec.value).toMatchObject({ steps: [{ window: { tumbling: '${params.windw}' }, note: 'see ${params.nothing}' }] });
  });

  it('reports a default that is not of the declared type at the default', () => {
    const text = ['params:', '  window: { type: duration, default: 5 minutes }', '  rate: { type: int, default: many }', 'steps:', '  - window: { tumbling: ${params.window} }', ''].join('\n');
    const spec = loadSpec(text, 'defaults.yaml');
    expect(messages(spec)).toEqual([
      '2:38 PC107 parameter `window` has type duration: expected a duration like "5m", got "5 minutes"',
      '3:31 PC107 parameter `rate` has type int: expected a whole number, got "many"',
    ]);
  });

  it('reports a parameter without a value once, where it is first needed', () => {
    const text = ['params:', '  topic: { type: string }', 'a: ${params.topic}', 'b: ${params.topic}', ''].join('\n');
    const spec = loadSpec(text, 'missing.yaml');
    expect(messages(spec)).toEqual(['3:4 PC107 parameter `topic` has type string: it has no default and no --param topic=VALUE was given']);
    expect(loadSpec(text, 'missing.yaml', { topic: 'orders' }).value).toMatchObject({ a: 'orders', b: 'orders' });
  });

  it('keeps a string default as written', () => {
    const text = ['params:', '  version: { type: string, default: 1.50 }', 'v: ${params.version}', ''].join('\n');
    expect(loadSpec(text, 'string.yaml').value).toMatchObject({ v: '1.50' });
  });

  it('substitutes in quoted and block scalars but leaves other dollar text alone', () => {
    const text = [
      'params:',
      '  rate: { type: int, default: 3 }',
      'quoted: "${params.rate}"',
      'block: |',
      '  rate is ${params.rate}',
      'template: "`${user_id}-x`"',
      'shell: $(params.rate)',
      '',
    ].join('\n');
    const spec = loadSpec(text, 'styles.yaml');
    expect(messages(spec)).toEqual([]);
    expect(spec.value).toMatchObject({ quoted: 3, block: 'rate is 3\n', template: '`${user_id}-x`', shell: '$(params.rate)' });
  });
});
