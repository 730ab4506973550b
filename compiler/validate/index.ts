// Phase 2, validate: the loaded spec against schemas/pipeline.schema.json, each error at the YAML node it is about.

import { readFileSync } from 'node:fs';
import type { SchemaObject } from 'ajv/dist/2020.js';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { LoadedSpec } from '../load/index.ts';
import { SchemaValidator } from './schema-validator.ts';

export { SchemaValidator } from './schema-validator.ts';

/** The spec schema of the repository, the single source of truth for spec shape. */
export const pipelineSchemaUrl = new URL('../../schemas/pipeline.schema.json', import.meta.url);

let pipelineValidator: SchemaValidator | undefined;

/** Schema diagnostics of a loaded spec, sorted by position; none when the YAML itself did not parse. */
export function validateSpec(spec: LoadedSpec): Diagnostic[] {
  pipelineValidator ??= new SchemaValidator(JSON.parse(readFileSync(pipelineSchemaUrl, 'utf8')) as SchemaObject);
  return pipelineValidator.validate(spec);
}
