// Kafka message values → raw records: `json` (the value is the record) and `debezium-json` (a Debezium change
// event whose row image is the record), with the record metadata the spec maps to fields (`metadata:`).

import type { KafkaMessage } from 'kafkajs';
import type { KafkaFormat } from './options.ts';

/** A message's value turned into a raw record, or why it could not be: then `record` is undefined. */
export interface DecodedValue {
  record: Record<string, unknown> | undefined;
  error: string | undefined;
  /** A Debezium change's `op` (c, r, u, d); undefined for `json`. */
  operation: string | undefined;
}

/** What a message of a topic partition offers to `metadata:`. */
export interface MessageMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
  readonly operation: string | undefined;
}

const DEBEZIUM_OPERATIONS = new Set(['c', 'r', 'u', 'd']);

/**
 * Parses a message value into `out` (reused per message: no allocation besides the record). A Debezium event is
 * `{ before, after, op, ts_ms }`, optionally under `payload` (the JSON converter with schemas): the record is
 * `after` for c (create), r (snapshot read) and u (update), and `before` for d (delete). A null value (the tombstone
 * Debezium writes after a delete) gives neither record nor error: it carries no row.
 */
export function decodeValue(format: KafkaFormat, value: Buffer | null, out: DecodedValue): void {
  out.record = undefined;
  out.error = undefined;
  out.operation = undefined;
  if (value === null) {
    if (format === 'json') out.error = 'the message has no value (a tombstone)';
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (error) {
    out.error = `unparsable JSON: ${(error as Error).message}`;
    return;
  }
  if (!isObject(parsed)) {
    out.error = 'expected a JSON object';
    return;
  }
  if (format === 'json') {
    out.record = parsed;
    return;
  }
  const event = isObject(parsed.payload) ? parsed.payload : parsed;
  const op = event.op;
  if (typeof op !== 'string' || !DEBEZIUM_OPERATIONS.has(op)) {
    out.error = `not a Debezium change event: expected op c, r, u or d, got ${JSON.stringify(op)}`;
    return;
  }
  const image = op === 'd' ? event.before : event.after;
  if (!isObject(image)) {
    out.error = `Debezium ${op === 'd' ? 'delete without a before' : `op ${op} without an after`} image (a table without REPLICA IDENTITY FULL, or a truncated event)`;
    return;
  }
  out.record = image;
  out.operation = op;
}

/** Sets the fields `metadata:` maps onto the record, over what the value had. */
export function addMetadata(record: Record<string, unknown>, fields: readonly (readonly [string, string])[], source: MessageMetadata): void {
  for (const [field, what] of fields) record[field] = metadataValue(what, source);
}

function metadataValue(what: string, { topic, partition, message, operation }: MessageMetadata): unknown {
  switch (what) {
    case 'key':
      return message.key === null ? null : message.key.toString('utf8');
    case 'topic':
      return topic;
    case 'partition':
      return partition;
    case 'offset':
      return Number(message.offset);
    case 'timestamp':
      return Number(message.timestamp);
    case 'operation':
      return operation ?? null;
    case 'headers': {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        const text = headerText(value);
        if (text !== null) headers[name] = text;
      }
      return headers;
    }
    default:
      // headers.NAME
      return headerText(message.headers?.[what.slice('headers.'.length)]);
  }
}

/** A header's value as a string; a header given several times counts by its last value. */
function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | null {
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? null : last.toString();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
