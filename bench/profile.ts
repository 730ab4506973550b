// Summarises a V8 CPU profile (`npm run bench -- --cpu-prof` writes one per case): the functions with the most self time.
//   node --import tsx bench/profile.ts .pipec/bench-profiles/revenue-compiled-p1.cpuprofile [--top 10]

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  /** 0-based. */
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

/** The parts of the `.cpuprofile` format (Chrome DevTools protocol, Profiler.Profile) this reads. */
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds since the previous sample (the first: since startTime). */
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  /** `name file:line`, or V8's own entries: (garbage collector), (program), (idle). */
  readonly function: string;
  readonly selfMs: number;
  /** Share of all sampled time. */
  readonly share: number;
}

/** Self time per function (every node of the same function summed), most first. */
export function selfTimes(profile: CpuProfile): SelfTime[] {
  const functionOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName === '' ? '(anonymous)' : functionName;
    functionOf.set(node.id, url === '' ? name : `${name} ${basename(url)}:${lineNumber + 1}`);
  }
  const totals = new Map<string, number>();
  let all = 0;
  // A sample stands for the time until the next one.
  for (let i = 0; i < profile.samples.length; i++) {
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const name = functionOf.get(profile.samples[i]) ?? '(unknown)';
    totals.set(name, (totals.get(name) ?? 0) + micros);
    all += micros;
  }
  return [...totals]
    .map(([name, micros]) => ({ function: name, selfMs: micros / 1000, share: micros / all }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '10' } } });
  for (const file of positionals) {
    const top = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile).slice(0, Number(values.top));
    process.stdout.write(`${file}\n| self ms | share | function |\n|--:|--:|---|\n`);
    for (const entry of top) process.stdout.write(`| ${entry.selfMs.toFixed(0)} | ${(entry.share * 100).toFixed(1)}% | ${entry.function} |\n`);
  }
}
