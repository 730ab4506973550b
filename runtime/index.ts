// The runtime's public module: everything generated code uses (it imports nothing else), and runJob for the CLI.
export * from './api.ts';
export { defineJob } from './job.ts';
export { runJob, type RunOptions, type RunSummary, type RunProgress } from './executor.ts';
export { serveTasks } from './parallel/worker.ts';
export * from './decode.ts';
export { JsonScanner } from './json-scanner.ts';
export * from './windows/index.ts';
export * from './aggregates/index.ts';
export * from './operators/index.ts';
export * from './state/keyed-state.ts';
export { compositeKey, keyPart } from './keys.ts';
export * from './functions.ts';
