// The benchmark's datasets: generator output written once as JSON lines into a cache directory, then reused.

import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateFile, type GenerateOptions } from './generate.ts';

export type DatasetName = 'revenue' | 'windows' | 'kafka';

// As pipelines/revenue.yaml's generator: 10 ms apart in event time, 5% out of order by up to 4 s.
const revenueOrders: Omit<GenerateOptions, 'count'> = { dataset: 'orders', seed: 42, outOfOrder: 0.05, maxLateness: 4000 };

/** How each dataset is generated, apart from its size. Same options, same bytes: the generator is deterministic. */
export const datasetOptions: Readonly<Record<DatasetName, Omit<GenerateOptions, 'count'>>> = {
  revenue: revenueOrders,
  // 100 ms apart, so 1M orders span about 28 hours: many hour windows, and a user's orders minutes apart (sessions).
  windows: { dataset: 'orders', seed: 7, outOfOrder: 0.05, maxLateness: 4000, interval: 100 },
  // The Kafka cases' input, produced into a topic: the revenue dataset's orders, fewer of them (a producer is slow).
  kafka: revenueOrders,
};

export interface Dataset {
  readonly name: DatasetName;
  readonly path: string;
  readonly records: number;
  readonly bytes: number;
}

/** The file name says everything that made it, so a changed option never reuses a stale file. */
function fileName(name: DatasetName, count: number): string {
  const options = datasetOptions[name];
  const parts = [options.dataset, `seed${options.seed}`, `n${count}`, `ooo${options.outOfOrder}`];
  if (options.maxLateness !== undefined) parts.push(`late${options.maxLateness}`);
  if (options.interval !== undefined) parts.push(`every${options.interval}`);
  if (options.start !== undefined) parts.push(`from${options.start}`);
  return `${parts.join('-')}.jsonl`;
}

/** The dataset of `count` records in `cacheDirectory`, generated first when it is not there yet. */
export async function ensureDataset(cacheDirectory: string, name: DatasetName, count: number, log: (line: string) => void): Promise<Dataset> {
  mkdirSync(cacheDirectory, { recursive: true });
  const path = join(cacheDirectory, fileName(name, count));
  if (!existsSync(path)) {
    log(`generating ${count} records of the ${name} dataset into ${path}`);
    // Written under a temporary name and renamed, so an interrupted run never leaves a truncated file in the cache.
    const partial = `${path}.${process.pid}.partial`;
    try {
      await generateFile(partial, { ...datasetOptions[name], count });
      renameSync(partial, path);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  return { name, path, records: count, bytes: statSync(path).size };
}
