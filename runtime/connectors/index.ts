// The connector registry: builds the reader of a source and the writer of a sink from their definitions.

import { assertNever } from '../assert.ts';
import type { SinkConnector, SinkContext, SinkDefinition, SourceContext, SourceDefinition, SourceReader } from '../api.ts';
import { createFileSink } from './file/sink.ts';
import { createFileReader } from './file/source.ts';
import { createGeneratorReader } from './generator/source.ts';
import { createKafkaSink } from './kafka/sink.ts';
import { createKafkaReader } from './kafka/source.ts';
import { createStdoutSink } from './stdout/sink.ts';

export function createSourceReader(definition: SourceDefinition, context: SourceContext): SourceReader {
  const connector = definition.connector;
  switch (connector) {
    case 'file':
      return createFileReader(definition.options, context);
    case 'generator':
      return createGeneratorReader(definition.options, context);
    case 'kafka':
      return createKafkaReader(definition.options, context);
    default:
      return assertNever(connector);
  }
}

export function createSinkConnector(definition: SinkDefinition, context: SinkContext): SinkConnector {
  const connector = definition.connector;
  switch (connector) {
    case 'file':
      return createFileSink(definition.options, context);
    case 'stdout':
      return createStdoutSink(definition.options, context);
    case 'kafka':
      return createKafkaSink(definition, context);
    default:
      return assertNever(connector);
  }
}
