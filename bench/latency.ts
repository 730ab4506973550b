// Event-to-sink latency of a live run: the spec's own connectors, the source noting when its input ended and each
// measured sink taking, per row, the wall clock when the row reaches it minus the row's event time.

import type { Connectors, SinkConnector, SourceReader } from '../runtime/api.ts';
import { createSinkConnector, createSourceReader } from '../runtime/connectors/index.ts';

/** Per sink id, the field of its rows that holds their event time (epoch ms): `window_end` of a window result, `ts` of an order. */
export type EventTimeFields = Readonly<Record<string, string>>;

/** One sink's latencies, in milliseconds, over the rows it received before the input ended. */
export interface SinkLatency {
  /** The field the latency is measured from. */
  readonly field: string;
  readonly rows: number;
  /** Rows that reached the sink after the input ended, not sampled. */
  readonly afterInputEnded: number;
  /** Undefined when no row was sampled. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
}

/** The value below which `fraction` of the sorted samples lie (nearest rank: always one of the samples). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples');
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`percentile fraction must be in (0, 1], got ${fraction}`);
  return sorted[Math.ceil(fraction * sorted.length) - 1];
}

export function summarizeLatency(field: string, samples: readonly number[], afterInputEnded: number): SinkLatency {
  if (samples.length === 0) return { field, rows: 0, afterInputEnded };
  const sorted = [...samples].sort((a, b) => a - b);
  return { field, rows: sorted.length, afterInputEnded, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted[sorted.length - 1] };
}

/**
 * Connectors for RunOptions.connectors that measure as they pass rows on. Rows written after a source's input ended
 * are not sampled: the end of input fires every open window at once, before its event time has passed, which would
 * show small or negative latencies that no live run has.
 */
export class LatencyProbe {
  readonly connectors: Connectors;
  private inputEnded = false;
  private readonly samples = new Map<string, number[]>();
  private readonly afterInputEnded = new Map<string, number>();

  constructor(private readonly fields: EventTimeFields) {
    this.connectors = {
      source: (definition, context) => this.watchEnd(createSourceReader(definition, context)),
      sink: (definition, context) => {
        const sink = createSinkConnector(definition, context);
        const field = fields[definition.id];
        return field === undefined ? sink : this.timeRows(definition.id, field, sink);
      },
    };
  }

  /** Every measured sink's latencies, also those that received no row. */
  measure(): Record<string, SinkLatency> {
    return Object.fromEntries(
      Object.entries(this.fields).map(([sink, field]) => [sink, summarizeLatency(field, this.samples.get(sink) ?? [], this.afterInputEnded.get(sink) ?? 0)]),
    );
  }

  private watchEnd(reader: SourceReader): SourceReader {
    const poll = reader.poll.bind(reader);
    reader.poll = async (maxRecords) => {
      const batch = await poll(maxRecords);
      if (batch === null) this.inputEnded = true;
      return batch;
    };
    return reader;
  }

  private timeRows(sinkId: string, field: string, sink: SinkConnector): SinkConnector {
    const samples: number[] = [];
    this.samples.set(sinkId, samples);
    const write = sink.write.bind(sink);
    sink.write = (record) => {
      if (this.inputEnded) {
        this.afterInputEnded.set(sinkId, (this.afterInputEnded.get(sinkId) ?? 0) + 1);
      } else {
        const eventTime = (record as Readonly<Record<string, unknown>>)[field];
        if (typeof eventTime !== 'number') throw new Error(`latency of sink ${sinkId}: its row has no number in '${field}': ${JSON.stringify(record)}`);
        samples.push(Date.now() - eventTime);
      }
      write(record);
    };
    return sink;
  }
}
