// verify: TypeScript's errors in the emitted module, mapped back to the spec; and the source map's lines.

import { decode } from '@jridgewell/sourcemap-codec';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, PIPEC_ROOT } from '../../../compiler/index.ts';
import { verify } from '../../../compiler/verify/index.ts';

const SPEC = `pipeline: verified
types:
  Order: { order_id: string, price: float, quantity: int, ts: timestamp }
sources:
  orders: { connector: file, path: orders.jsonl, type: Order }
steps:
  - id: big
    from: orders
    filter: price * quantity > 100
sinks:
  out: { from: big, connector: stdout }
`;

function emitted() {
  const result = compile(SPEC, { specPath: 'verified.yaml', verify: true, moduleDir: join(PIPEC_ROOT, 'generated') });
  expect(result.diagnostics).toEqual([]);
  return { result, output: result.output! };
}

/** verify on `code` in place of the module compiled from SPEC, with the spec's expressions, tsconfig and runtime. */
function verifyAs(code: string, { result, output }: ReturnType<typeof emitted>) {
  return verify({
    code,
    fileName: result.moduleFile!,
    expressions: output.expressions,
    spec: result.typed!.pipeline.source,
    tsconfig: join(PIPEC_ROOT, 'tsconfig.json'),
    runtime: join(PIPEC_ROOT, 'runtime', 'index.ts'),
  });
}

describe('verify', () => {
  it('accepts the module emitted for a well-typed spec', () => {
    const compiled = emitted();
    const diagnostics = verifyAs(compiled.output.code, compiled);
    expect(diagnostics).toEqual([]);
  });

  it('reports a TypeScript error inside a printed expression at that expression in the spec', () => {
    const compiled = emitted();
    const { output } = compiled;
    const span = output.expressions.find((candidate) => candidate.text === 'price * quantity > 100')!;
    expect(span).toBeDefined();
    // Make the printed filter ill-typed, as a gap between pipec's checker and TypeScript's would.
    const lines = output.code.split('\n');
    const line = lines[span.line];
    lines[span.line] = line.slice(0, span.column) + 'orders.price * orders.order_id > 100'.padEnd(span.length) + line.slice(span.column + span.length);
    const diagnostics = verifyAs(lines.join('\n'), compiled);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'PC310', location: { file: 'verified.yaml', line: 9, column: 13 } });
    expect(diagnostics[0].message).toMatch(/^in `price \* quantity > 100`: The right-hand side of an arithmetic operation/);
  });
});

describe('the source map', () => {
  it('maps the line of a step in the generated code to the step in the spec', () => {
    const { output } = emitted();
    const map = JSON.parse(output.sourceMap) as { sources: string[]; mappings: string };
    expect(map.sources).toEqual(['../verified.yaml']);
    const lines = output.code.split('\n');
    const filterLine = lines.findIndex((line) => line.includes('if (orders.price * orders.quantity > 100)'));
    const sinkLine = lines.findIndex((line) => line.includes('out.write(orders)'));
    const segments = decode(map.mappings);
    // [generated column, source, original line (0-based), original column]
    expect(segments[filterLine][0].slice(1, 3)).toEqual([0, 6]);
    expect(segments[sinkLine][0].slice(1, 3)).toEqual([0, 10]);
  });
});
