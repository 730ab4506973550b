// The text of a spec file and the mapping from character offsets to line and column.

export interface SourceText {
  readonly path: string;
  readonly text: string;
}

export interface Location {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

const lineStartCache = new WeakMap<SourceText, number[]>();

function lineStarts(source: SourceText): number[] {
  let starts = lineStartCache.get(source);
  if (starts === undefined) {
    starts = [0];
    for (let i = 0; i < source.text.length; i++) if (source.text.charCodeAt(i) === 10) starts.push(i + 1);
    lineStartCache.set(source, starts);
  }
  return starts;
}

export function locate(source: SourceText, offset: number): Location {
  const starts = lineStarts(source);
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return { file: source.path, line: low + 1, column: offset - starts[low] + 1 };
}
