// The three output formats of diagnostics and the summary line, byte for byte.

import { describe, expect, it } from 'vitest';
import { diagnostic, type Diagnostic } from '../../../compiler/diagnostics/diagnostic.ts';
import { formatDiagnostics, summarize } from '../../../compiler/diagnostics/format.ts';
import type { SourceText } from '../../../compiler/ir/source.ts';

// Line 14 column 7 holds the duration; line 3 column 3 the type declaration a note points at.
const source: SourceText = {
  path: 'pipelines/fraud.yaml',
  text: ['pipeline: fraud', 'types:', '  Payment: { amount: float }', ...Array.from({ length: 10 }, () => '#'), '      window: 5 minutes', ''].join('\n'),
};
const durationOffset = source.text.indexOf('window');
const typeOffset = source.text.indexOf('Payment');

const duration: Diagnostic = diagnostic('PC105', { source, offset: durationOffset }, { path: 'steps[2].window.size', value: '"5 minutes"' });
const unknownField: Diagnostic = diagnostic(
  'PC301',
  { source, offset: durationOffset },
  { name: 'amont', where: 'filter of step `big`', suggestion: '; did you mean `amount`?' },
  [{ message: 'the type `Payment` is declared here', location: { file: source.path, line: 3, column: 3 } }, { message: 'fields are matched by exact name' }],
);
const deadEnd: Diagnostic = diagnostic('PC204', { source, offset: typeOffset }, { name: 'scores' });
const undeclared: Diagnostic = diagnostic('PC108', undefined, { name: 'windw', suggestion: '; did you mean `window`?' });

describe('text', () => {
  it('writes file:line:col severity code message', () => {
    expect(formatDiagnostics([duration], 'text')).toBe(
      'pipelines/fraud.yaml:14:7 error PC105 steps[2].window.size: expected a duration like "5m", got "5 minutes"',
    );
  });

  it('indents notes below their diagnostic, with their own location when they have one', () => {
    expect(formatDiagnostics([unknownField, deadEnd], 'text')).toBe(
      [
        'pipelines/fraud.yaml:14:7 error PC301 unknown field `amont` in filter of step `big`; did you mean `amount`?',
        '  note: pipelines/fraud.yaml:3:3 the type `Payment` is declared here',
        '  note: fields are matched by exact name',
        'pipelines/fraud.yaml:3:3 warning PC204 the output of `scores` reaches no sink; add a sink with `from: scores` or remove the step',
      ].join('\n'),
    );
  });

  it('writes a diagnostic about the command line without a location', () => {
    expect(formatDiagnostics([undeclared], 'text')).toBe('error PC108 --param windw: the spec declares no parameter `windw`; did you mean `window`?');
  });

  it('writes nothing for no diagnostics', () => {
    expect(formatDiagnostics([], 'text')).toBe('');
  });
});

describe('json', () => {
  it('writes an array of plain objects', () => {
    expect(JSON.parse(formatDiagnostics([unknownField, undeclared], 'json'))).toEqual([
      {
        file: 'pipelines/fraud.yaml',
        line: 14,
        column: 7,
        severity: 'error',
        code: 'PC301',
        message: 'unknown field `amont` in filter of step `big`; did you mean `amount`?',
        notes: [
          { file: 'pipelines/fraud.yaml', line: 3, column: 3, message: 'the type `Payment` is declared here' },
          { file: null, line: null, column: null, message: 'fields are matched by exact name' },
        ],
      },
      {
        file: null,
        line: null,
        column: null,
        severity: 'error',
        code: 'PC108',
        message: '--param windw: the spec declares no parameter `windw`; did you mean `window`?',
        notes: [],
      },
    ]);
  });

  it('writes [] for no diagnostics', () => {
    expect(formatDiagnostics([], 'json')).toBe('[]');
  });
});

describe('github', () => {
  it('writes workflow commands, warnings as ::warning', () => {
    expect(formatDiagnostics([duration, deadEnd], 'github')).toBe(
      [
        '::error file=pipelines/fraud.yaml,line=14,col=7,title=PC105::steps[2].window.size: expected a duration like "5m", got "5 minutes"',
        '::warning file=pipelines/fraud.yaml,line=3,col=3,title=PC204::the output of `scores` reaches no sink; add a sink with `from: scores` or remove the step',
      ].join('\n'),
    );
  });

  it('puts notes on escaped new lines of the message', () => {
    expect(formatDiagnostics([unknownField], 'github')).toBe(
      '::error file=pipelines/fraud.yaml,line=14,col=7,title=PC301::unknown field `amont` in filter of step `big`; did you mean `amount`?' +
        '%0Anote: pipelines/fraud.yaml:3:3 the type `Payment` is declared here%0Anote: fields are matched by exact name',
    );
  });

  it('escapes % CR LF in the message, and also : and , in properties', () => {
    const odd: Diagnostic = {
      code: 'PC101',
      severity: 'error',
      message: '100% wrong\r\nhere: a, b',
      location: { file: 'C:\\specs\\a,b.yaml', line: 1, column: 2 },
      notes: [],
    };
    expect(formatDiagnostics([odd], 'github')).toBe('::error file=C%3A\\specs\\a%2Cb.yaml,line=1,col=2,title=PC101::100%25 wrong%0D%0Ahere: a, b');
  });

  it('leaves out file, line and col for a diagnostic without a location', () => {
    expect(formatDiagnostics([undeclared], 'github')).toBe(
      '::error title=PC108::--param windw: the spec declares no parameter `windw`; did you mean `window`?',
    );
  });
});

describe('summarize', () => {
  it('counts errors and warnings, singular and plural', () => {
    expect(summarize([duration, unknownField, deadEnd])).toBe('2 errors, 1 warning');
    expect(summarize([duration])).toBe('1 error, 0 warnings');
    expect(summarize([])).toBe('0 errors, 0 warnings');
  });
});
