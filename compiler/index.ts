// The compiler: load → validate → resolve → check → state → emit → verify, each phase a function of the previous one's output.

import { loadSpec } from './load/index.ts';
import { validateSpec } from './validate/index.ts';
import { resolve } from './resolve/index.ts';
import { check } from './check/index.ts';
import { stateCompatibility, stateSchema } from './state/index.ts';
import { emit, type EmitResult } from './emit/index.ts';
import { verify } from './verify/index.ts';
import type { Diagnostic } from './diagnostics/diagnostic.ts';
import type { TypedPipeline } from './ir/pipeline.ts';
import type { StateSchema } from '../runtime/api.ts';
import { basename, join, relative, resolve as resolvePath } from 'node:path';
import { PIPEC_ROOT, PIPEC_VERSION } from './version.ts';

export { PIPEC_ROOT, PIPEC_VERSION };

export interface CompileOptions {
  /** The spec's path as diagnostics and the generated header name it. */
  readonly specPath: string;
  /** --param overrides. */
  readonly params?: Readonly<Record<string, string>>;
  /** Type-check the emitted module with TypeScript (phase 7): slower, and the last word on types. */
  readonly verify: boolean;
  /** The directory the module will be written to, as `<pipeline>.ts` (for the source map and TypeScript's module resolution). */
  readonly moduleDir: string;
  /**
   * The state schema existing checkpoints of pipeline `name` were written under, if any (`pipec build` reads the
   * <pipeline>.state.json it wrote last): a change that would leave them unreadable is a PC401 error.
   */
  readonly recordedState?: (name: string) => StateSchema | undefined;
}

export interface CompileResult {
  readonly diagnostics: readonly Diagnostic[];
  /** `<pipeline>.ts` in the module directory. */
  readonly moduleFile: string | undefined;
  readonly typed: TypedPipeline | undefined;
  /** The module, when every phase succeeded. */
  readonly output: EmitResult | undefined;
  /** The pipeline's state schema (written beside the module as <pipeline>.state.json), when every phase succeeded. */
  readonly stateSchema: StateSchema | undefined;
}

/** Compiles one spec's text. Reports the diagnostics of every phase that could run; stops at the first phase with errors. */
export function compile(text: string, options: CompileOptions): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const failed = () => diagnostics.some((d) => d.severity === 'error');
  const done = (typed?: TypedPipeline, output?: EmitResult, schema?: StateSchema): CompileResult => ({
    diagnostics: sortDiagnostics(diagnostics),
    moduleFile: typed && join(options.moduleDir, `${typed.pipeline.name}.ts`),
    typed,
    output,
    stateSchema: schema,
  });

  const loaded = loadSpec(text, options.specPath, options.params ?? {});
  diagnostics.push(...loaded.diagnostics);
  if (loaded.value === undefined || failed()) return done();
  diagnostics.push(...validateSpec(loaded));
  const invalid = failed();
  let typed: TypedPipeline | undefined;
  try {
    const resolved = resolve(loaded);
    diagnostics.push(...resolved.diagnostics);
    const checked = check(resolved.pipeline);
    diagnostics.push(...checked.diagnostics);
    typed = checked.typed;
  } catch (error) {
    // Past schema errors, resolve and check run on a best-effort basis to report more at once; a document too
    // malformed for them is reported by its schema errors alone.
    if (!invalid) throw error;
  }
  if (typed === undefined || failed()) return done();
  const schema = stateSchema(typed);
  const recorded = options.recordedState?.(typed.pipeline.name);
  if (recorded !== undefined) diagnostics.push(...stateCompatibility(typed, recorded));
  if (failed()) return done(typed);
  const moduleFile = join(options.moduleDir, `${typed.pipeline.name}.ts`);
  const output = emit(typed, schema, {
    specPath: options.specPath,
    runtimeImport: 'pipec/runtime',
    fileName: basename(moduleFile),
    specFromModule: relative(options.moduleDir, resolvePath(options.specPath)),
    pipecVersion: PIPEC_VERSION,
  });
  if (options.verify) {
    diagnostics.push(
      ...verify({
        code: output.code,
        fileName: moduleFile,
        expressions: output.expressions,
        spec: typed.pipeline.source,
        tsconfig: `${PIPEC_ROOT}tsconfig.json`,
        runtime: `${PIPEC_ROOT}runtime/index.ts`,
      }),
    );
    if (failed()) return done(typed);
  }
  return done(typed, output, schema);
}

/** In file order, without repeats (a malformed duration is reported by the schema and again when resolved). */
function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    const key = `${d.code}:${d.location?.line}:${d.location?.column}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(
    (a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0),
  );
}
