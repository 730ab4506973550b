// In-memory connectors for `pipec test`: every source reads a test case's records, every sink captures what it gets.

import type { Connectors, RawRecord, SinkConnector, SinkContext, SinkDefinition, SourceContext, SourceDefinition, SourceReader } from '../../api.ts';
import { createMemoryReader, type PinnedWatermark } from './source.ts';
import { MemorySink } from './sink.ts';

export { createMemoryReader, type PinnedWatermark } from './source.ts';
export { MemorySink } from './sink.ts';

/** What a test case feeds in: records per source id, and the watermarks it pins per source id. */
export interface MemoryInput {
  readonly records: Readonly<Record<string, readonly RawRecord[]>>;
  readonly watermarks: Readonly<Record<string, readonly PinnedWatermark[]>>;
}

/** Connectors for one run of a job (`RunOptions.connectors`); a source the input does not name reads nothing. */
export class MemoryConnectors implements Connectors {
  /** The sink of each sink id, created when the run opens it. */
  readonly sinks = new Map<string, MemorySink>();

  constructor(private readonly input: MemoryInput) {}

  source(definition: SourceDefinition, context: SourceContext): SourceReader {
    return createMemoryReader(ownEntry(this.input.records, definition.id) ?? [], ownEntry(this.input.watermarks, definition.id) ?? [], context);
  }

  sink(definition: SinkDefinition, _context: SinkContext): SinkConnector {
    const sink = new MemorySink();
    this.sinks.set(definition.id, sink);
    return sink;
  }
}

/** `record[id]`, but never an inherited property (`constructor`, `toString`) for an id. */
function ownEntry<T>(record: Readonly<Record<string, T>>, id: string): T | undefined {
  return Object.hasOwn(record, id) ? record[id] : undefined;
}
