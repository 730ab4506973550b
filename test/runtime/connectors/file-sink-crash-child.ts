// A process for the file sink's kill -9 test: writes records through an exactly_once file sink and checkpoints it
// until killed, keeping each completed checkpoint in a state file as a checkpoint coordinator would.
// Arguments: the output directory and the state file. With a state file, it restores its checkpoint and goes on.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { createFileSink, type FileSinkPrepared } from '../../../runtime/connectors/file/sink.ts';

/** A completed checkpoint: what the sink prepared, and the first record after it. */
export interface CrashState {
  readonly prepared: FileSinkPrepared;
  readonly next: number;
}

const [directory, stateFile] = process.argv.slice(2);
const state = await readFile(stateFile, 'utf8').then((text) => JSON.parse(text) as CrashState, () => undefined);
const sink = createFileSink({ path: 'out/revenue.jsonl' }, { taskIndex: 0, parallelism: 1, outputPath: directory, delivery: 'exactly_once', restore: state && { prepared: state.prepared } });
await sink.open();
let next = state?.next ?? 0;
let checkpoint = (state?.prepared.checkpoint ?? 0) + 1;
process.stdout.write('ready\n');
for (;;) {
  // Batches of 1 to 200 records, a checkpoint after every third batch.
  for (let batch = 0; batch < 3; batch++) {
    const end = next + 1 + ((next * 7) % 200);
    for (; next < end; next++) sink.write({ n: next, text: 'é😀'.repeat(next % 3) });
    await sink.flush();
  }
  const prepared = (await sink.prepareCommit!(checkpoint)) as FileSinkPrepared;
  // The checkpoint completes when its state is durable: written aside, then renamed over the previous one.
  await writeFile(`${stateFile}.next`, JSON.stringify({ prepared, next } satisfies CrashState));
  await rename(`${stateFile}.next`, stateFile);
  await sink.commit!(prepared);
  checkpoint++;
}
