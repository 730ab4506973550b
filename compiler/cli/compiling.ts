// Compiling specs for the commands: the compiler and esbuild loaded on first use, and the bundle cache that
// `pipec run` and `pipec test` build into.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
// The compiler (TypeScript, ajv) and esbuild load on first use: a run of a cached bundle needs neither.
import type { CompileOptions, CompileResult } from '../index.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { PIPEC_ROOT, PIPEC_VERSION } from '../version.ts';
import { UsageError } from './io.ts';

export function readSpec(spec: string): string {
  if (!existsSync(spec)) throw new UsageError(`no such spec file: ${spec}`);
  return readFileSync(spec, 'utf8');
}

export async function compile(text: string, options: CompileOptions): Promise<CompileResult> {
  const compiler = await import('../index.ts');
  return compiler.compile(text, options);
}

export async function bundle(input: { modulePath: string; outFile: string }): Promise<void> {
  const bundler = await import('../bundle/index.ts');
  await bundler.bundle(input);
}

export function compileFile(spec: string, options: Omit<CompileOptions, 'specPath'>): Promise<CompileResult> {
  return compile(readSpec(spec), { specPath: spec, ...options });
}

export interface CachedBundle {
  /** The bundle, when the spec compiled. */
  readonly bundlePath: string | undefined;
  /** The compiler's diagnostics; none on a cache hit (a spec that compiled has no errors to report). */
  readonly diagnostics: readonly Diagnostic[];
}

/** Builds a spec into `.pipec/cache/<hash>/`, keyed by the spec, its params and this pipec's sources; reuses a hit. */
export async function cachedBundle(spec: string, text: string, params: Readonly<Record<string, string>>): Promise<CachedBundle> {
  const hash = createHash('sha256')
    .update(PIPEC_VERSION)
    .update('\0')
    .update(resolve(spec))
    .update('\0')
    .update(text)
    .update('\0')
    .update(JSON.stringify(Object.entries(params).sort()))
    .update('\0')
    .update(sourceFingerprint())
    .digest('hex')
    .slice(0, 16);
  const cacheRoot = resolve('.pipec', 'cache');
  const directory = join(cacheRoot, hash);
  const name = basename(spec).replace(/\.ya?ml$/, '');
  const marker = join(directory, 'bundle.json');
  if (existsSync(marker)) {
    return { bundlePath: join(directory, (JSON.parse(readFileSync(marker, 'utf8')) as { bundle: string }).bundle), diagnostics: [] };
  }
  const result = await compile(text, { specPath: spec, params, verify: true, moduleDir: join(cacheRoot, 'pending') });
  if (result.output === undefined || result.typed === undefined) return { bundlePath: undefined, diagnostics: result.diagnostics };
  mkdirSync(directory, { recursive: true });
  const moduleFile = join(directory, `${result.typed.pipeline.name}.ts`);
  writeFileSync(moduleFile, result.output.code);
  writeFileSync(`${moduleFile}.map`, result.output.sourceMap);
  const bundleName = `${result.typed.pipeline.name}.mjs`;
  await bundle({ modulePath: moduleFile, outFile: join(directory, bundleName) });
  writeFileSync(marker, JSON.stringify({ spec: name, bundle: bundleName }));
  return { bundlePath: join(directory, bundleName), diagnostics: result.diagnostics };
}

let fingerprint: string | undefined;

/** Sizes and modification times of the compiler's and runtime's sources: a change to pipec invalidates cached bundles. */
function sourceFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const hash = createHash('sha256');
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const stat = statSync(path);
        hash.update(`${path}:${stat.size}:${stat.mtimeMs}\n`);
      }
    }
  };
  walk(join(PIPEC_ROOT, 'compiler'));
  walk(join(PIPEC_ROOT, 'runtime'));
  return (fingerprint = hash.digest('hex'));
}
