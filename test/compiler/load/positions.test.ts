// Where loadSpec says nodes, keys and characters of string values are in the file.

import { describe, expect, it } from 'vitest';
import { loadSpec, type LoadedSpec, type SpecPath } from '../../../compiler/load/index.ts';
import { locate } from '../../../compiler/ir/source.ts';

/** Line and column of an offset, as "line:column". */
function at(spec: LoadedSpec, offset: number): string {
  const { line, column } = locate(spec.source, offset);
  return `${line}:${column}`;
}

function valueAt(spec: LoadedSpec, path: SpecPath): string {
  return at(spec, spec.offsetOf(path));
}

function keyAt(spec: LoadedSpec, path: SpecPath): string {
  return at(spec, spec.offsetOf(path, 'key'));
}

const blockSpec = [
  'pipeline: revenue', //                                   line 1
  'steps:', //                                              line 2
  '  - id: purchases', //                                   line 3
  '    filter: quantity > 0', //                            line 4
  '  - id: revenue', //                                     line 5
  '    window:', //                                         line 6
  '      tumbling: 1m', //                                  line 7
  '      allowed_lateness: 30s', //                         line 8
  '    aggregate:', //                                      line 9
  '      total: sum(price)', //                             line 10
  '',
].join('\n');

describe('offsetOf in block style', () => {
  const spec = loadSpec(blockSpec, 'block.yaml');

  it('finds nested values and their keys', () => {
    expect(valueAt(spec, ['steps', 1, 'window', 'tumbling'])).toBe('7:17');
    expect(keyAt(spec, ['steps', 1, 'window', 'tumbling'])).toBe('7:7');
    expect(valueAt(spec, ['steps', 1, 'window', 'allowed_lateness'])).toBe('8:25');
    expect(keyAt(spec, ['steps', 1, 'window'])).toBe('6:5');
    expect(valueAt(spec, ['steps', 0, 'filter'])).toBe('4:13');
  });

  it('puts a map in a list at its first key, and the document at its first key', () => {
    expect(valueAt(spec, ['steps', 1])).toBe('5:5');
    expect(valueAt(spec, [])).toBe('1:1');
  });

  it('gives a list item its own position when asked for its key', () => {
    expect(keyAt(spec, ['steps', 0])).toBe('3:5');
  });

  it('falls back to the nearest ancestor that exists (the list starts at its first dash)', () => {
    expect(valueAt(spec, ['steps', 1, 'window', 'session', 'gap'])).toBe('7:7');
    expect(keyAt(spec, ['steps', 1, 'window', 'session'])).toBe('6:5');
    expect(valueAt(spec, ['steps', 7, 'filter'])).toBe('3:3');
  });

  it('accepts indexes written as strings, as ajv paths have them', () => {
    expect(valueAt(spec, ['steps', '1', 'window', 'tumbling'])).toBe('7:17');
  });
});

describe('offsetOf in flow style', () => {
  const text = [
    'sinks:',
    '  out: { from: revenue, connector: file, path: out.jsonl }',
    'steps: [ { id: a, from: [x, y] } ]',
    '',
  ].join('\n');
  const spec = loadSpec(text, 'flow.yaml');

  it('finds values and keys inside flow maps and lists', () => {
    expect(valueAt(spec, ['sinks', 'out', 'connector'])).toBe('2:36');
    expect(keyAt(spec, ['sinks', 'out', 'connector'])).toBe('2:25');
    expect(valueAt(spec, ['sinks', 'out'])).toBe('2:8');
    expect(valueAt(spec, ['steps', 0, 'from', 1])).toBe('3:29');
    expect(keyAt(spec, ['steps', 0, 'from'])).toBe('3:19');
  });
});

describe('offsetOf through anchors and merge keys', () => {
  const text = [
    'defaults: &defaults',
    '  connector: file',
    '  format: json',
    'sources:',
    '  orders:',
    '    <<: *defaults',
    '    path: a.jsonl',
    '  clicks: *defaults',
    '',
  ].join('\n');
  const spec = loadSpec(text, 'anchors.yaml');

  it('merges as YAML 1.1 merge keys do', () => {
    expect(spec.value).toEqual({
      defaults: { connector: 'file', format: 'json' },
      sources: { orders: { connector: 'file', format: 'json', path: 'a.jsonl' }, clicks: { connector: 'file', format: 'json' } },
    });
  });

  it('finds a merged property where the anchor defines it', () => {
    expect(valueAt(spec, ['sources', 'orders', 'format'])).toBe('3:11');
    expect(valueAt(spec, ['sources', 'orders', 'path'])).toBe('7:11');
  });

  it('finds the alias itself, and what lies inside it where the anchor defines it', () => {
    expect(valueAt(spec, ['sources', 'clicks'])).toBe('8:11');
    expect(valueAt(spec, ['sources', 'clicks', 'connector'])).toBe('2:14');
  });
});

describe('contentOffset and offsetInText', () => {
  const text = [
    'plain: price * quantity', //                             line 1
    'double: "a \\"quoted\\" \\u00e9 word"', //               line 2
    "single: 'it''s here'", //                                line 3
    'literal: |', //                                          line 4
    '    first > 1 &&', //                                    line 5
    '      second < 2', //                                    line 6
    'folded: >-', //                                          line 7
    '  one', //                                               line 8
    '  two', //                                               line 9
    'wrapped: a long', //                                     line 10
    '  plain line', //                                        line 11
    'number: 42', //                                          line 12
    '',
  ].join('\n');
  const spec = loadSpec(text, 'scalars.yaml');

  it('starts plain scalars at their first character', () => {
    expect(at(spec, spec.contentOffset(['plain']))).toBe('1:8');
    expect(at(spec, spec.offsetInText(['plain'], 8))).toBe('1:16');
  });

  it('starts quoted scalars after the quote and steps over escapes', () => {
    expect(spec.value).toMatchObject({ double: 'a "quoted" é word', single: "it's here" });
    expect(at(spec, spec.contentOffset(['double']))).toBe('2:10');
    // value: a␣"quoted"␣é␣word — index 2 is the escaped quote, 11 the \u00e9 escape, 13 the `w` after it.
    expect(text.slice(spec.offsetInText(['double'], 2), spec.offsetInText(['double'], 2) + 2)).toBe('\\"');
    expect(text.slice(spec.offsetInText(['double'], 11), spec.offsetInText(['double'], 11) + 6)).toBe('\\u00e9');
    expect(text.slice(spec.offsetInText(['double'], 13), spec.offsetInText(['double'], 13) + 4)).toBe('word');
    expect(at(spec, spec.contentOffset(['single']))).toBe('3:10');
    // value: it's here — index 4 (the space) comes after the doubled quote.
    expect(at(spec, spec.offsetInText(['single'], 4))).toBe('3:15');
  });

  it('starts block scalars at the first content line and follows their lines', () => {
    expect(at(spec, spec.contentOffset(['literal']))).toBe('5:5');
    const value = (spec.value as { literal: string }).literal;
    expect(value).toBe('first > 1 &&\n  second < 2\n');
    expect(at(spec, spec.offsetInText(['literal'], value.indexOf('second')))).toBe('6:7');
    expect(at(spec, spec.contentOffset(['folded']))).toBe('8:3');
    expect(at(spec, spec.offsetInText(['folded'], 'one two'.indexOf('two')))).toBe('9:3');
  });

  it('follows a plain scalar folded over two lines', () => {
    expect((spec.value as { wrapped: string }).wrapped).toBe('a long plain line');
    expect(at(spec, spec.offsetInText(['wrapped'], 'a long plain line'.indexOf('line')))).toBe('11:9');
  });

  it('gives a scalar that is not a string its position', () => {
    expect(at(spec, spec.contentOffset(['number']))).toBe('12:9');
    expect(at(spec, spec.offsetInText(['number'], 1))).toBe('12:9');
  });
});

describe('Windows line endings', () => {
  const text = ['steps:', '  - id: a', '    filter: |', '      x > 1 &&', '      y < 2', ''].join('\r\n');
  const spec = loadSpec(text, 'crlf.yaml');

  it('counts lines and columns as with LF', () => {
    expect(keyAt(spec, ['steps', 0, 'filter'])).toBe('3:5');
    expect(at(spec, spec.contentOffset(['steps', 0, 'filter']))).toBe('4:7');
    const value = (spec.value as { steps: { filter: string }[] }).steps[0].filter;
    expect(value).toBe('x > 1 &&\ny < 2\n');
    expect(at(spec, spec.offsetInText(['steps', 0, 'filter'], value.indexOf('y')))).toBe('5:7');
  });
});
