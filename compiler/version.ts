// Where this pipec installation is and its version: light enough for the CLI to read before loading the compiler.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PIPEC_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PIPEC_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
