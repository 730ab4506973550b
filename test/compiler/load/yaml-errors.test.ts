// YAML that does not parse: every error reported as PC101 at its place, and no value to validate.

import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../../compiler/load/index.ts';
import { messages } from '../../support/compile.ts';

describe('YAML errors', () => {
  it('reports a duplicate key at the second occurrence, by name', () => {
    const spec = loadSpec(['sources:', '  orders: { connector: file }', '  orders: { connector: kafka }', ''].join('\n'), 'dup.yaml');
    expect(messages(spec)).toEqual(['3:3 PC101 duplicate key `orders`; a key may appear only once in a map']);
    expect(spec.value).toBeUndefined();
    expect(spec.params).toEqual({});
  });

  it('reports a duplicate key inside a flow map', () => {
    const spec = loadSpec('window: { tumbling: 1m, tumbling: 5m }\n', 'dup.yaml');
    expect(messages(spec)).toEqual(['1:25 PC101 duplicate key `tumbling`; a key may appear only once in a map']);
  });

  it('reports an unclosed quote where the string opens', () => {
    const spec = loadSpec(['pipeline: revenue', 'steps:', '  - id: "purchases', '    filter: x', ''].join('\n'), 'quote.yaml');
    expect(messages(spec)).toEqual(['3:9 PC101 this string has no closing quote']);
    expect(spec.value).toBeUndefined();
  });

  it('reports misplaced indentation as the YAML library words it', () => {
    const spec = loadSpec(['steps:', '  - id: purchases', '      filter: x', ''].join('\n'), 'indent.yaml');
    expect(spec.value).toBeUndefined();
    expect(spec.diagnostics.length).toBeGreaterThan(0);
    expect(spec.diagnostics.every((entry) => entry.code === 'PC101' && entry.severity === 'error')).toBe(true);
    expect(spec.diagnostics[0].location).toMatchObject({ file: 'indent.yaml', line: 2 });
  });

  it('reports tabs used as indentation', () => {
    const spec = loadSpec('steps:\n\t- id: a\n', 'tabs.yaml');
    expect(messages(spec)[0]).toMatch(/^2:1 PC101 .*[Tt]ab/);
  });

  it('reports a second document instead of reading it', () => {
    const spec = loadSpec('pipeline: a\n---\npipeline: b\n', 'two.yaml');
    expect(messages(spec)).toEqual([
      '2:1 PC101 a spec file holds one YAML document; remove the second `---` and what follows, or move it to its own file',
    ]);
  });

  it('sorts diagnostics by position', () => {
    const spec = loadSpec(['a: 1', 'b: { x: 1, x: 2 }', 'a: 2', ''].join('\n'), 'order.yaml');
    const lines = spec.diagnostics.map((entry) => entry.location?.line ?? 0);
    expect(lines).toEqual([...lines].sort((x, y) => x - y));
    expect(messages(spec)).toEqual([
      '2:12 PC101 duplicate key `x`; a key may appear only once in a map',
      '3:1 PC101 duplicate key `a`; a key may appear only once in a map',
    ]);
  });

  it('gives an empty file the value null and no diagnostics', () => {
    const spec = loadSpec('', 'empty.yaml');
    expect(spec.diagnostics).toEqual([]);
    expect(spec.value).toBeNull();
    expect(spec.offsetOf(['steps', 0])).toBe(0);
  });
});
