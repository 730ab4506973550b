// Crashes `pipec run` on purpose: the harness of the exactly-once tests, which kill a run with SIGKILL at a random
// instant after it has taken a checkpoint, and then restore it.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from './cli.ts';

/** The completed checkpoints in a checkpoint directory. */
export function checkpointsIn(directory: string): string[] {
  return existsSync(directory) ? readdirSync(directory).filter((name) => /^chk-\d+$/.test(name)) : [];
}

/**
 * Starts `pipec run ARGS` in `cwd`, waits until it has taken a checkpoint under `checkpoints` (or ended), then kills
 * it with SIGKILL after `delayMs` more. A run that ends by itself first must succeed.
 */
export async function runAndKill(cwd: string, args: readonly string[], checkpoints: string, delayMs: number): Promise<'killed' | 'finished'> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'pipec.js'), 'run', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let ended = false;
  void exited.then(() => (ended = true));
  const before = new Set(checkpointsIn(checkpoints));
  const deadline = Date.now() + 60_000;
  while (!ended && Date.now() < deadline && checkpointsIn(checkpoints).every((name) => before.has(name))) await sleep(20);
  await sleep(delayMs);
  if (!ended) child.kill('SIGKILL');
  const { code, signal } = await exited;
  if (signal === 'SIGKILL') return 'killed';
  expect(code, stderr).toBe(0);
  return 'finished';
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
