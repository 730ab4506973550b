// Spec tests (DESIGN §4.9): a spec's cases, from its `tests:` and from `<name>.test.yaml` beside it, checked
// against the pipeline (sources and sinks they name, watermarks they pin) with a diagnostic at each mistake.

import { existsSync, readFileSync } from 'node:fs';
import type { SchemaObject } from 'ajv/dist/2020.js';
import { diagnostic, suggestion, type Diagnostic } from '../../diagnostics/diagnostic.ts';
import { loadSpec, type LoadedSpec, type SpecPath } from '../../load/index.ts';
import { SchemaValidator, pipelineSchemaUrl } from '../../validate/index.ts';
import type { RawRecord } from '../../../runtime/api.ts';
import type { PinnedWatermark } from '../../../runtime/connectors/memory/index.ts';
import { testFileOf } from './files.ts';
import { parseInstant } from './instant.ts';

export interface SpecTestCase {
  readonly name: string;
  /** Records per source id, in arrival order, as written. */
  readonly input: Readonly<Record<string, readonly RawRecord[]>>;
  /** Watermarks per source id, in epoch milliseconds. */
  readonly watermarks: Readonly<Record<string, readonly PinnedWatermark[]>>;
  /** Expected records per sink id; a sink not named is not checked. */
  readonly expected: Readonly<Record<string, readonly unknown[]>>;
  readonly ordered: boolean;
}

export interface SpecTests {
  /** The cases of the spec, then those of its test file; none from a file with errors. */
  readonly cases: readonly SpecTestCase[];
  readonly diagnostics: readonly Diagnostic[];
}

/** A case as the schema (`$defs/testCase`) admits it. */
interface TestCaseDocument {
  readonly name: string;
  readonly description?: string;
  readonly input: Readonly<Record<string, readonly RawRecord[]>>;
  readonly watermarks?: Readonly<Record<string, readonly { readonly after: number; readonly watermark: number | string }[]>>;
  readonly expected: Readonly<Record<string, readonly unknown[]>>;
  readonly ordered?: boolean;
}

/** What the checks need to know of the pipeline, read from its (valid) spec. */
interface PipelineFacts {
  readonly name: string;
  /** Source id → whether it runs in event time. */
  readonly sources: ReadonlyMap<string, boolean>;
  /** Sink id → the stream it writes. */
  readonly sinks: ReadonlyMap<string, string>;
}

/** The loaded test file beside a spec, or undefined when there is none. */
export function loadTestFile(spec: string): LoadedSpec | undefined {
  const path = testFileOf(spec);
  return existsSync(path) ? loadSpec(readFileSync(path, 'utf8'), path) : undefined;
}

/**
 * The cases of a spec that compiled (so its own `tests:` passed the schema) and of its test file, with the
 * diagnostics of the test file (YAML, schema) and of every case (unknown sources and sinks, watermarks).
 */
export function collectSpecTests(spec: LoadedSpec, testFile: LoadedSpec | undefined): SpecTests {
  const facts = pipelineFacts(spec.value);
  const diagnostics: Diagnostic[] = [];
  const cases: SpecTestCase[] = [];
  const names = new Set<string>();
  const collect = (file: LoadedSpec) => {
    const documents = (file.value as { tests?: readonly TestCaseDocument[] } | undefined)?.tests ?? [];
    documents.forEach((document, index) => {
      const problems = checkCase(file, index, document, facts, names);
      diagnostics.push(...problems);
      names.add(document.name);
      if (!problems.some((entry) => entry.severity === 'error')) cases.push(toCase(document));
    });
  };
  collect(spec);
  if (testFile !== undefined) {
    const problems = [...testFile.diagnostics, ...validateTestFile(testFile)];
    diagnostics.push(...problems);
    // A test file of the wrong shape gives no cases.
    if (!problems.some((entry) => entry.severity === 'error')) collect(testFile);
  }
  return { cases, diagnostics };
}

function checkCase(file: LoadedSpec, index: number, document: TestCaseDocument, facts: PipelineFacts, names: ReadonlySet<string>): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const test = document.name;
  const at = (path: SpecPath, part: 'key' | 'value' = 'value') => ({ source: file.source, offset: file.offsetOf(['tests', index, ...path], part) });
  if (names.has(test)) diagnostics.push(diagnostic('PC506', at(['name']), { name: test }));

  const unknownSource = (path: SpecPath, name: string) =>
    diagnostic('PC501', at(path, 'key'), { test, name, pipeline: facts.name, suggestion: suggestion(name, facts.sources.keys()) });
  for (const source of Object.keys(document.input)) {
    if (!facts.sources.has(source)) diagnostics.push(unknownSource(['input', source], source));
  }
  for (const [source, entries] of Object.entries(document.watermarks ?? {})) {
    const eventTime = facts.sources.get(source);
    if (eventTime === undefined) {
      diagnostics.push(unknownSource(['watermarks', source], source));
      continue;
    }
    if (!eventTime) {
      diagnostics.push(diagnostic('PC504', at(['watermarks', source], 'key'), { test, source }));
      continue;
    }
    const count = Object.hasOwn(document.input, source) ? document.input[source].length : 0;
    let previous = -Infinity;
    let previousWritten: number | string = '';
    const byPosition = entries.map((entry, position) => ({ entry, position })).sort((a, b) => a.entry.after - b.entry.after);
    for (const { entry, position } of byPosition) {
      if (entry.after >= count) {
        diagnostics.push(diagnostic('PC503', at(['watermarks', source, position, 'after']), { test, after: entry.after, source, count }));
        continue;
      }
      const watermark = watermarkOf(entry.watermark);
      if (watermark < previous) {
        diagnostics.push(
          diagnostic('PC505', at(['watermarks', source, position, 'watermark']), { test, source, watermark: entry.watermark, previous: previousWritten }),
        );
      } else {
        previous = watermark;
        previousWritten = entry.watermark;
      }
    }
  }
  for (const sink of Object.keys(document.expected)) {
    if (facts.sinks.has(sink)) continue;
    diagnostics.push(diagnostic('PC502', at(['expected', sink], 'key'), { test, name: sink, pipeline: facts.name, suggestion: sinkSuggestion(sink, facts) }));
  }
  return diagnostics;
}

/** Expected records are named by sink; a step or output name gets the sink that writes it, else the closest sink id. */
function sinkSuggestion(name: string, facts: PipelineFacts): string {
  const writers = [...facts.sinks].filter(([, from]) => from === name).map(([sink]) => `\`${sink}\``);
  if (writers.length > 0) return `; expected records are named by sink, and ${writers.join(', ')} writes \`${name}\``;
  return suggestion(name, facts.sinks.keys());
}

function toCase(document: TestCaseDocument): SpecTestCase {
  const watermarks: Record<string, PinnedWatermark[]> = {};
  for (const [source, entries] of Object.entries(document.watermarks ?? {})) {
    watermarks[source] = entries.map((entry) => ({ after: entry.after, watermark: watermarkOf(entry.watermark) }));
  }
  return {
    name: document.name,
    input: document.input,
    watermarks,
    expected: document.expected,
    ordered: document.ordered ?? false,
  };
}

/** The schema admits epoch milliseconds or an ISO-8601 date-time (with its zone). */
function watermarkOf(value: number | string): number {
  if (typeof value === 'number') return value;
  const epochMs = parseInstant(value);
  if (epochMs === undefined) throw new Error(`watermark ${JSON.stringify(value)} is not an ISO-8601 date-time; the schema should have rejected it`);
  return epochMs;
}

function pipelineFacts(value: unknown): PipelineFacts {
  const spec = value as {
    readonly pipeline: string;
    readonly sources: Readonly<Record<string, { readonly event_time?: unknown }>>;
    readonly sinks: Readonly<Record<string, { readonly from: string }>>;
  };
  return {
    name: spec.pipeline,
    sources: new Map(Object.entries(spec.sources).map(([id, source]) => [id, source.event_time !== undefined])),
    sinks: new Map(Object.entries(spec.sinks).map(([id, sink]) => [id, sink.from])),
  };
}

let testFileValidator: SchemaValidator | undefined;

/** A test file holds `tests:` only, each case as the spec schema defines it (`#/properties/tests`). */
function validateTestFile(file: LoadedSpec): Diagnostic[] {
  if (testFileValidator === undefined) {
    const schema = JSON.parse(readFileSync(pipelineSchemaUrl, 'utf8')) as SchemaObject & { properties: { tests: SchemaObject } };
    testFileValidator = new SchemaValidator({
      $schema: schema.$schema,
      title: 'pipec spec tests',
      description: 'The test cases of the spec beside this file (`<name>.test.yaml` for `<name>.yaml`), run by `pipec test`.',
      type: 'object',
      required: ['tests'],
      additionalProperties: false,
      properties: { tests: schema.properties.tests },
      $defs: schema.$defs,
    });
  }
  return testFileValidator.validate(file);
}
