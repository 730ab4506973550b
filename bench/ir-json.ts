// A typed pipeline as JSON, so that a benchmark process can interpret a spec without loading the compiler's front end.

import type { TypedPipeline } from '../compiler/ir/pipeline.ts';

/** How a Map is written: JSON has no maps, and the IR keeps types and streams in them. */
interface EncodedMap {
  readonly $map: readonly (readonly [unknown, unknown])[];
}

function isEncodedMap(value: unknown): value is EncodedMap {
  return typeof value === 'object' && value !== null && Array.isArray((value as Partial<EncodedMap>).$map);
}

export function typedPipelineToJson(typed: TypedPipeline): string {
  return JSON.stringify(typed, (_key, value: unknown) => (value instanceof Map ? { $map: [...value] } : value));
}

/**
 * The pipeline back from its JSON. Objects the IR shares (a record type named by several streams) come back as
 * copies; nothing in the IR depends on their identity.
 */
export function typedPipelineFromJson(text: string): TypedPipeline {
  return JSON.parse(text, (_key, value: unknown) => (isEncodedMap(value) ? new Map(value.$map) : value)) as TypedPipeline;
}
