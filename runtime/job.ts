// defineJob: the one call a generated module makes at its top level.

import type { JobDefinition } from './api.ts';

/** Declares a job; the identity function, there for the type check of the generated object. */
export function defineJob(job: JobDefinition): JobDefinition {
  return job;
}
