// Writes a generator dataset as JSON lines: the benchmarks' inputs and the shipped sample data.
//   node --import tsx bench/generate.ts --dataset orders --count 1000000 --seed 42 --out-of-order 0.05 [--max-lateness MS] [--interval MS] --out FILE
// The shipped sample: --dataset orders --count 2000 --seed 7 --out-of-order 0.05 --interval 1000 --out pipelines/data/orders.jsonl

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createGeneratorReader } from '../runtime/connectors/generator/source.ts';

export interface GenerateOptions {
  readonly dataset: string;
  readonly count: number;
  readonly seed: number;
  readonly outOfOrder: number;
  /** How far an out-of-order record's event time moves back, at most, ms; defaults to the generator's. */
  readonly maxLateness?: number;
  /** Event-time spacing of records, ms; defaults to the generator's. */
  readonly interval?: number;
  /** Event time of the first record; defaults to the generator's. */
  readonly start?: string;
}

/** Streams `count` records of a dataset to `path`, one JSON object per line. */
export async function generateFile(path: string, options: GenerateOptions): Promise<void> {
  const reader = createGeneratorReader(
    { dataset: options.dataset, count: options.count, seed: options.seed, out_of_order: options.outOfOrder, max_lateness: options.maxLateness, interval: options.interval, start: options.start },
    { taskIndex: 0, parallelism: 1, cwd: process.cwd() },
  );
  await reader.open();
  const out = createWriteStream(path);
  for (let batch = await reader.poll(8192); batch !== null; batch = await reader.poll(8192)) {
    let text = '';
    for (const value of batch.values) text += JSON.stringify(value) + '\n';
    if (!out.write(text)) await once(out, 'drain');
  }
  await reader.close();
  out.end();
  await once(out, 'finish');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string', default: 'orders' },
      count: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '42' },
      'out-of-order': { type: 'string', default: '0' },
      'max-lateness': { type: 'string' },
      interval: { type: 'string' },
      start: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.out === undefined) {
    console.error('generate: --out FILE is required');
    process.exit(2);
  }
  await generateFile(values.out, {
    dataset: values.dataset!,
    count: Number(values.count),
    seed: Number(values.seed),
    outOfOrder: Number(values['out-of-order']),
    maxLateness: values['max-lateness'] === undefined ? undefined : Number(values['max-lateness']),
    interval: values.interval === undefined ? undefined : Number(values.interval),
    start: values.start,
  });
}
