// ISO-8601 instants in spec tests (pinned watermarks, expected timestamps), read as the runtime reads a timestamp field.

import { RecordDecoder, readTimestamp } from '../../../runtime/decode.ts';

/** A date and time, with or without seconds, fraction and zone: `2024-05-01T10:00:00Z`, `2024-05-01 10:00`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;

/**
 * Epoch milliseconds of an ISO-8601 date and time, or undefined for any other text. A time without a zone is UTC,
 * exactly as a record's timestamp field is decoded, so a test reads the same on every machine.
 */
export function parseInstant(text: string): number | undefined {
  if (!DATE_TIME.test(text)) return undefined;
  const decoder = new RecordDecoder();
  const epochMs = readTimestamp({ instant: text }, 'instant', decoder);
  return decoder.error === undefined ? epochMs : undefined;
}
