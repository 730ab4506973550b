// Phase 8, bundle: esbuild bundles a generated module with the runtime into one self-contained ESM file.

import { build, type Plugin } from 'esbuild';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** This installation's runtime: generated code's `pipec/runtime` always means this one, wherever the module is. */
const RUNTIME = fileURLToPath(new URL('../../runtime/index.ts', import.meta.url));

/**
 * Native addons cannot be bundled (rocksdb-native finds its prebuilt binary next to its own files): the bundle
 * imports them from this installation by absolute path, so it runs from any directory, as bundles in a run's
 * `.pipec/cache/` do.
 */
export const nativeAddons: Plugin = {
  name: 'pipec-native-addons',
  setup(build) {
    const require = createRequire(import.meta.url);
    build.onResolve({ filter: /^rocksdb-native$/ }, (args) => ({ path: require.resolve(args.path), external: true }));
  },
};

export interface BundleInput {
  /** The generated module on disk (its source map beside it, if any, is chained into the bundle's). */
  readonly modulePath: string;
  readonly outFile: string;
}

/**
 * The bundle exports the job as default and the runtime's `runJob`, so `pipec run` drives the job with the
 * runtime it was built with; imported by a worker thread that runJob started, it serves that run's tasks there.
 */
export async function bundle(input: BundleInput): Promise<void> {
  await build({
    stdin: {
      contents: [
        `import job from ${JSON.stringify(input.modulePath)};`,
        `import { serveTasks } from 'pipec/runtime';`,
        `export default job;`,
        `export { runJob, serveTasks } from 'pipec/runtime';`,
        `serveTasks(job);`,
        '',
      ].join('\n'),
      resolveDir: process.cwd(),
      loader: 'ts',
      sourcefile: 'pipec-entry.ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: input.outFile,
    sourcemap: 'linked',
    logLevel: 'silent',
    alias: { 'pipec/runtime': RUNTIME },
    plugins: [nativeAddons],
    // Connectors' CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as pipecCreateRequire } from 'node:module'; const require = pipecCreateRequire(import.meta.url);" },
  });
}
