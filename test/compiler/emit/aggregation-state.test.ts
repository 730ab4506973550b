// Window accumulators through checkpoints: the generated save/load and the interpreter's go on after a restore as if
// never interrupted, keep non-finite numbers, start missing fields empty, and write the same data.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { emit } from '../../../compiler/emit/index.ts';
import { stateSchema } from '../../../compiler/state/index.ts';
import type { StepNode, TypedPipeline } from '../../../compiler/ir/pipeline.ts';
import type { WindowAggregation } from '../../../runtime/index.ts';
import { genericAggregation } from '../../../bench/interpreter.ts';
import { checked, render } from '../../support/compile.ts';
import { seededRandom } from '../../support/random.ts';

const RUNTIME = fileURLToPath(new URL('../../../runtime/index.ts', import.meta.url));

interface Event {
  user: string;
  item: string | null;
  price: number;
  quantity: number;
  ts: number;
}

type Aggregation = WindowAggregation<string, Event, unknown, Record<string, unknown>>;

/** Every aggregate function; `price / quantity` makes Infinity (quantity 0) and NaN (0 / 0). */
const spec = (migrate: string) => `pipeline: state
types:
  Event: { user: string, item: string?, price: float, quantity: int, ts: timestamp }
sources:
  events: { connector: file, path: events.jsonl, type: Event, event_time: { field: ts } }
steps:
  - id: totals
    from: events
    key_by: user
    window: { tumbling: 1h }
    aggregate:
      orders: count()
      total: sum(price / quantity)
      units: sum(quantity)
      average: avg(price)
      cheapest: min(price / quantity)
      top_item: max(item)
      items: count_distinct(item)
      ratios: count_distinct(price / quantity)
      first_item: first(item)
      last_ratio: last(price / quantity)
      prices: collect(price)
      spread: stddev(price)
      p90: percentile(price, 0.9)
${migrate}sinks:
  out: { from: totals, connector: stdout }
`;

const directories: string[] = [];

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function typedOf(text: string): TypedPipeline {
  const { typed, diagnostics } = checked(text);
  if (typed === undefined) throw new Error(`spec does not check:\n${render(diagnostics)}`);
  return typed;
}

/** The generated aggregation of step `totals`, from the module emit writes. */
async function compiledAggregation(typed: TypedPipeline): Promise<Aggregation> {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-aggregation-'));
  directories.push(directory);
  const module = join(directory, 'state.ts');
  const { code, sourceMap } = emit(typed, stateSchema(typed), {
    specPath: 'state.yaml', runtimeImport: RUNTIME, fileName: 'state.ts', specFromModule: 'state.yaml', pipecVersion: 'test',
  });
  writeFileSync(module, code);
  writeFileSync(`${module}.map`, sourceMap);
  return ((await import(pathToFileURL(module).href)) as { totalsAggregation: Aggregation }).totalsAggregation;
}

/** The interpreter's aggregation of step `totals`. */
function interpretedAggregation(typed: TypedPipeline): Aggregation {
  const step = typed.pipeline.steps.find((candidate): candidate is Extract<StepNode, { kind: 'window' }> => candidate.kind === 'window')!;
  return genericAggregation(step, typed.streams.get('events')!.type, typed.streams.get('totals')!) as unknown as Aggregation;
}

function events(seed: number, count: number): Event[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => ({
    user: 'ann',
    item: random() < 0.2 ? null : `item-${Math.floor(random() * 12)}`,
    price: random() < 0.1 ? 0 : Math.round(random() * 10_000) / 100,
    quantity: random() < 0.15 ? 0 : 1 + Math.floor(random() * 5),
    ts: 1_000 * index + Math.floor(random() * 5_000),
  }));
}

/** What a checkpoint does to saved data: JSON text and back. */
function throughJson(saved: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(saved)) as Record<string, unknown>;
}

/** Adds `records` to a new accumulator, saving and loading it through JSON after every `restoreEvery` records (0: never). */
function accumulate(aggregation: Aggregation, records: readonly Event[], restoreEvery = 0): unknown {
  let acc = aggregation.create('ann');
  records.forEach((record, index) => {
    aggregation.add(acc, record, record.ts);
    if (restoreEvery > 0 && index % restoreEvery === restoreEvery - 1) acc = aggregation.load('ann', throughJson(aggregation.save(acc)));
  });
  return acc;
}

const result = (aggregation: Aggregation, acc: unknown) => aggregation.result(acc, 0, 3_600_000);

const TYPED = typedOf(spec(''));
const implementations: [string, () => Promise<Aggregation>][] = [
  ['generated code', () => compiledAggregation(TYPED)],
  ['interpreter', async () => interpretedAggregation(TYPED)],
];

describe.each(implementations)('window accumulators of the %s through checkpoints', (_name, aggregationOf) => {
  const records = events(7, 400);

  it('give the results of an uninterrupted run after any number of restores, non-finite numbers included', async () => {
    const aggregation = await aggregationOf();
    const uninterrupted = result(aggregation, accumulate(aggregation, records));
    // The records divide by zero: checkpoints carry Infinity and NaN.
    const saved = JSON.stringify(aggregation.save(accumulate(aggregation, records)));
    expect(saved).toContain('"Infinity"');
    expect(saved).toContain('"NaN"');
    for (const restoreEvery of [1, 13, 150]) expect(result(aggregation, accumulate(aggregation, records, restoreEvery))).toEqual(uninterrupted);
  });

  it('merge after a restore as before it', async () => {
    const aggregation = await aggregationOf();
    const merged = (restore: boolean) => {
      const reload = (acc: unknown) => (restore ? aggregation.load('ann', throughJson(aggregation.save(acc))) : acc);
      const into = reload(accumulate(aggregation, records.slice(0, 200)));
      aggregation.merge(into, reload(accumulate(aggregation, records.slice(200))));
      return result(aggregation, into);
    };
    expect(merged(true)).toEqual(merged(false));
  });

  it('start a field missing from the saved data empty (a field added since)', async () => {
    const aggregation = await aggregationOf();
    const saved = throughJson(aggregation.save(accumulate(aggregation, records.slice(0, 200))));
    delete saved.units;
    delete saved.prices;
    const restored = aggregation.load('ann', saved);
    for (const record of records.slice(200)) aggregation.add(restored, record, record.ts);
    const later = result(aggregation, accumulate(aggregation, records.slice(200)));
    expect(result(aggregation, restored)).toEqual({ ...result(aggregation, accumulate(aggregation, records)), units: later.units, prices: later.prices });
  });
});

describe('saved accumulators', () => {
  it('are the same data from the generated code and the interpreter', async () => {
    const compiled = await compiledAggregation(TYPED);
    const interpreted = interpretedAggregation(TYPED);
    const records = events(9, 300);
    expect(JSON.stringify(compiled.save(accumulate(compiled, records)))).toBe(JSON.stringify(interpreted.save(accumulate(interpreted, records))));
  });

  it('load every field they are given, also those a migration resets (the restore leaves those out when they are stale)', async () => {
    const typed = typedOf(spec('    migrate: { reset: [total, items] }\n'));
    const records = events(11, 300);
    for (const aggregation of [await compiledAggregation(typed), interpretedAggregation(typed)]) {
      const restored = aggregation.load('ann', throughJson(aggregation.save(accumulate(aggregation, records.slice(0, 150)))));
      for (const record of records.slice(150)) aggregation.add(restored, record, record.ts);
      expect(result(aggregation, restored)).toEqual(result(aggregation, accumulate(aggregation, records)));
    }
  });
});
