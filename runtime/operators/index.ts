// Keyed operators of the runtime other than windows.
export { DedupeOperator, type DedupeOptions } from './dedupe.ts';
