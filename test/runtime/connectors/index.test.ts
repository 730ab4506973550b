// Tests of the connector registry: each connector of a source or sink definition builds its reader or writer.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SinkDefinition, SourceDefinition } from '../../../runtime/api.ts';
import { createSinkConnector, createSourceReader } from '../../../runtime/connectors/index.ts';

function source(connector: SourceDefinition['connector'], options: Record<string, unknown>): SourceDefinition {
  return { id: 'input', connector, options, decode: (raw) => raw, eventTime: undefined };
}

describe('connector registry', () => {
  it('builds generator and file readers', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pipec-registry-'));
    try {
      await writeFile(join(directory, 'in.jsonl'), '{"x":1}\n');
      const file = createSourceReader(source('file', { path: 'in.jsonl', format: 'json' }), { taskIndex: 0, parallelism: 1, cwd: directory });
      await file.open();
      expect((await file.poll(10))?.values).toEqual(['{"x":1}']);
      await file.close();

      const generator = createSourceReader(source('generator', { dataset: 'users', count: 2 }), { taskIndex: 0, parallelism: 1, cwd: directory });
      await generator.open();
      const batch = await generator.poll(10);
      expect(batch?.positions).toEqual([0, 1]);
      expect(Object.keys(batch?.values[0] as object)).toContain('user_id');

      const sinkDefinition: SinkDefinition = { id: 'out', connector: 'file', options: { path: 'out.jsonl' } };
      const sink = createSinkConnector(sinkDefinition, { taskIndex: 0, parallelism: 1, outputPath: directory, delivery: 'none' });
      await sink.open();
      sink.write({ y: 2 });
      await sink.close();
      expect(await readFile(join(directory, 'out.jsonl'), 'utf8')).toBe('{"y":2}\n');

      const stdout = createSinkConnector({ id: 'show', connector: 'stdout', options: { format: 'text' } }, { taskIndex: 0, parallelism: 1, outputPath: directory, delivery: 'none' });
      expect(stdout.written).toBe(0);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
