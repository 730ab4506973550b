// The source map of a generated module: each line generated for a YAML node maps to that node's line and column,
// so stack traces and breakpoints in a step land on the step's line of the spec.

import { encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';
import { locate, type SourceText } from '../ir/source.ts';

export function sourceMap(lineOrigins: readonly number[], spec: SourceText, options: { source: string; fileName: string }): string {
  const mappings: SourceMapSegment[][] = lineOrigins.map((origin) => {
    if (origin < 0) return [];
    const { line, column } = locate(spec, origin);
    return [[0, 0, line - 1, column - 1]];
  });
  return JSON.stringify({
    version: 3,
    file: options.fileName,
    sources: [options.source],
    names: [],
    mappings: encode(mappings),
  });
}
