// How diagnostics write a place in a spec (`steps[2].window.tumbling`) and a value found there (`"5 minutes"`, `a list`).

export type SpecPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][\w-]*$/;

/** `steps[2].window.tumbling`: indexes in brackets, keys after dots; the document itself is `(top level)`. */
export function formatPath(path: SpecPath): string {
  if (path.length === 0) return '(top level)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

const LONGEST_QUOTED = 60;

/** A value as a message quotes it: strings in double quotes (shortened when long), numbers and booleans as written, collections by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > LONGEST_QUOTED ? `${value.slice(0, LONGEST_QUOTED - 1)}…` : value;
    return JSON.stringify(shown);
  }
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return String(value);
}
