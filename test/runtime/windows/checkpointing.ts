// Drives a keyed operator through checkpoints, crashes and restores (also at other parallelisms), keeping the rows a backend would hold; optionally evicting rows to it and loading them back, as under a memory budget.
import { expect } from 'vitest';
import type { Key, OperatorState, RowAddress, StateNamespace, StateRowWriter } from '../../../runtime/api.ts';
import { keyGroupOf, taskOfKeyGroup } from '../../../runtime/keys.ts';
import { seededRandom } from '../../support/random.ts';
import type { Action } from './harness.ts';

const maxParallelism = 128;

/** What an operator under test put out (a row, a late record, a kept record), with its key. */
export interface Output {
  readonly key: Key;
  readonly value: unknown;
}

/** An operator under test: takes actions, and writes what comes out to the `emit` it was made with. */
export interface Subject {
  readonly state: OperatorState;
  apply(action: Action): void;
}

export type SubjectFactory = (emit: (output: Output) => void) => Subject;

interface HeldRow {
  readonly key: Key;
  readonly namespace: StateNamespace;
  readonly value: unknown;
}

/**
 * The rows a backend holds after the puts and deletes written to it, in order. Values are stored as JSON text is
 * read back, and a value that JSON does not carry as it is (NaN, undefined, a Map, a class) fails the test.
 */
export class StateModel implements StateRowWriter {
  readonly rows = new Map<string, HeldRow>();
  puts = 0;
  deletes = 0;

  put(key: Key, namespace: StateNamespace, value: unknown): void {
    const stored: unknown = JSON.parse(JSON.stringify(value));
    expect(stored).toStrictEqual(value);
    this.rows.set(rowId(key, namespace), { key, namespace, value: stored });
    this.puts++;
  }

  delete(key: Key, namespace: StateNamespace): void {
    this.rows.delete(rowId(key, namespace));
    this.deletes++;
  }

  /** A row's value as a backend reads it back (a copy), undefined when there is none. */
  read({ key, namespace }: RowAddress): unknown {
    const row = this.rows.get(rowId(key, namespace));
    return row === undefined ? undefined : JSON.parse(JSON.stringify(row.value));
  }
}

/** JSON tells 1, '1' and true apart, as a backend's key encoding must. */
function rowId(key: Key, namespace: StateNamespace): string {
  return JSON.stringify([key, namespace]);
}

/** Everything `create`'s operator puts out when given every action in one go. */
export function runUninterrupted(create: SubjectFactory, actions: readonly Action[]): Output[] {
  const outputs: Output[] = [];
  const subject = create((output) => outputs.push(output));
  for (const action of actions) subject.apply(action);
  return outputs;
}

export interface CheckpointOptions {
  readonly seed: number;
  /** Full snapshots (the memory backend: each checkpoint a whole copy) instead of incremental ones. */
  readonly full?: boolean;
  /**
   * After each incremental snapshot, also take a full one into an empty model and require the same rows: what the
   * backend holds is exactly the operator's state. (A full snapshot leaves the operator as an incremental one does.)
   */
  readonly verify?: boolean;
  /** Crashes, at random positions, each losing what came after the last checkpoint. */
  readonly crashes: number;
  /** The parallelism each restore takes, in turn (the last one stays); the run starts at 1. */
  readonly parallelisms?: readonly number[];
  /**
   * As under a memory budget: after random checkpoints and after each restore, each task evicts down to a random
   * share of its rows; before each watermark, checkpoint and the end, the rows operators ask for are loaded from the
   * model (and parked records replayed). Outputs then keep their order per key only.
   */
  readonly evict?: boolean;
}

export interface CheckpointedRun {
  /** What checkpoints committed, checkpoint by checkpoint, tasks in order: what an exactly-once sink shows. */
  readonly outputs: Output[];
  readonly checkpoints: number;
  readonly restores: number;
  /** Rows written by all snapshots (puts and deletes). */
  readonly written: number;
  /** Rows held by the backend after the last checkpoint, over all tasks. */
  readonly heldRows: number;
  /** Rows evicted and loaded back, with `evict`. */
  readonly evicted: number;
  readonly loaded: number;
}

interface Task {
  readonly subject: Subject;
  /** Output since the last checkpoint: committed by the next, lost by a crash. */
  readonly pending: Output[];
  /** The backend's rows: those of the last checkpoint. */
  model: StateModel;
}

/**
 * Runs the actions in batches of random size, taking a checkpoint (a snapshot of every task, at one position of
 * the input) after random batches and crashing at random positions: the tasks are dropped with what they emitted
 * since the last checkpoint, fresh ones are restored from its rows (in random order, split by key group over the
 * next parallelism) and the input goes on from the checkpoint's position. A record goes to the task owning its
 * key's key group; watermarks go to every task. Ends with a checkpoint after the last action.
 */
export function runWithCheckpoints(create: SubjectFactory, actions: readonly Action[], options: CheckpointOptions): CheckpointedRun {
  const random = seededRandom(options.seed);
  const full = options.full ?? false;
  const committed: Output[] = [];
  let written = 0;
  let checkpoints = 0;
  let restores = 0;
  let evicted = 0;
  let loaded = 0;
  const crashPositions = Array.from({ length: options.crashes }, () => Math.floor(random() * actions.length)).sort((a, b) => a - b);

  const startTask = (model: StateModel): Task => {
    const pending: Output[] = [];
    return { subject: create((output) => pending.push(output)), pending, model };
  };
  let tasks = [startTask(new StateModel())];
  let checkpoint = { position: 0, watermark: -Infinity };
  let position = 0;
  let watermark = -Infinity;

  /** Loads what the task's operator asks for from its model until it asks for nothing more; returns the rows loaded. */
  const settle = (task: Task): number => {
    const state = task.subject.state;
    let rowsLoaded = 0;
    for (let rows = state.pendingLoads?.() ?? []; rows.length > 0; rows = state.pendingLoads!()) {
      state.loaded!(rows, rows.map((row) => task.model.read(row)));
      rowsLoaded += rows.length;
    }
    loaded += rowsLoaded;
    return rowsLoaded;
  };

  /** Each task evicts down to a random share of its resident rows. */
  const evict = (): void => {
    for (const task of tasks) {
      const state = task.subject.state;
      const resident = state.residentRows ?? state.size;
      evicted += state.evict?.(Math.floor(random() * random() * resident)) ?? 0;
      expect(state.size).toBe(task.model.rows.size);
    }
  };

  const takeCheckpoint = (): void => {
    for (const task of tasks) {
      settle(task);
      const model = full ? new StateModel() : task.model;
      const before = model.puts + model.deletes;
      task.subject.state.snapshot(model, full);
      written += model.puts + model.deletes - before;
      if (full) expect(model.deletes, 'a full snapshot writes no deletes').toBe(0);
      // A full snapshot needs every row in memory.
      else if (options.verify && (task.subject.state.residentRows ?? task.subject.state.size) === task.subject.state.size) {
        const whole = new StateModel();
        task.subject.state.snapshot(whole, true);
        expect(model.rows).toEqual(whole.rows);
      }
      task.model = model;
      expect(task.subject.state.size).toBe(model.rows.size);
      committed.push(...task.pending);
      task.pending.length = 0;
    }
    checkpoint = { position, watermark };
    checkpoints++;
    if (options.evict && random() < 0.5) evict();
  };

  const restore = (parallelism: number): void => {
    const rows = tasks.flatMap((task) => [...task.model.rows.values()]);
    // Rows come back in no particular order.
    for (let index = rows.length - 1; index > 0; index--) {
      const other = Math.floor(random() * (index + 1));
      [rows[index], rows[other]] = [rows[other], rows[index]];
    }
    tasks = Array.from({ length: parallelism }, () => startTask(new StateModel()));
    for (const row of rows) {
      const task = tasks[taskOf(row.key, parallelism)];
      task.model.rows.set(rowId(row.key, row.namespace), row);
      // Under eviction, rows may also come back as evicted: the model (the backend) holds them.
      const state = task.subject.state;
      if (options.evict && state.restoreEvicted !== undefined && random() < 0.5) state.restoreEvicted(row.key, row.namespace, row.value);
      else state.restoreRow(row.key, row.namespace, row.value);
    }
    for (const task of tasks) {
      task.subject.state.restored(checkpoint.watermark);
      expect(task.subject.state.size).toBe(task.model.rows.size);
    }
    position = checkpoint.position;
    watermark = checkpoint.watermark;
    restores++;
    if (options.evict) evict();
  };

  while (position < actions.length) {
    const end = Math.min(actions.length, position + 1 + Math.floor(random() * 20));
    for (; position < end; position++) {
      const action = actions[position];
      if (action.kind === 'record') tasks[taskOf(action.event.key, tasks.length)].subject.apply(action);
      else if (!options.evict) {
        watermark = action.watermark;
        for (const task of tasks) task.subject.apply(action);
      } else {
        // In steps, as the executor cuts an advance that fires much evicted state, and loading a few rows at once
        // (a firing stops to ask for more, and goes on when called again).
        while (watermark < action.watermark) {
          const maxRows = 1 + Math.floor(random() * 5);
          watermark = Math.min(...tasks.map((task) => task.subject.state.watermarkStep?.(action.watermark, maxRows) ?? action.watermark));
          const step: Action = { kind: 'watermark', watermark };
          for (const task of tasks) {
            task.subject.state.prepareWatermark?.(watermark, maxRows);
            settle(task);
            task.subject.apply(step);
            while (settle(task) > 0) task.subject.apply(step);
          }
        }
      }
    }
    if (random() < 0.25) takeCheckpoint();
    if (restores < crashPositions.length && position >= crashPositions[restores]) {
      const parallelisms = options.parallelisms ?? [1];
      restore(parallelisms[Math.min(restores, parallelisms.length - 1)]);
    }
  }
  takeCheckpoint();
  const heldRows = tasks.reduce((sum, task) => sum + task.model.rows.size, 0);
  return { outputs: committed, checkpoints, restores, written, heldRows, evicted, loaded };
}

function taskOf(key: Key, parallelism: number): number {
  return taskOfKeyGroup(keyGroupOf(key, maxParallelism), parallelism, maxParallelism);
}

/** Outputs per key, each key's in order: what a restore at another parallelism must keep. */
export function outputsByKey(outputs: readonly Output[]): Map<Key, unknown[]> {
  const byKey = new Map<Key, unknown[]>();
  for (const { key, value } of outputs) {
    const values = byKey.get(key);
    if (values === undefined) byKey.set(key, [value]);
    else values.push(value);
  }
  return byKey;
}

/**
 * The checks every operator kind takes: restored after crashes it commits exactly the uninterrupted run's output,
 * with incremental and full snapshots; restored at 2 and 3 tasks, and from 3 to 2 to 1, each key's output is the
 * uninterrupted run's. Returns the runs for checks of the kind's own.
 */
export function expectExactlyOnce(
  create: SubjectFactory,
  actions: readonly Action[],
  seed: number,
): { uninterrupted: Output[]; incremental: CheckpointedRun; full: CheckpointedRun } {
  const uninterrupted = runUninterrupted(create, actions);
  expect(uninterrupted.length).toBeGreaterThan(0);

  const incremental = runWithCheckpoints(create, actions, { seed, crashes: 4, verify: true });
  expect(incremental.restores).toBe(4);
  expect(incremental.outputs).toEqual(uninterrupted);
  const unverified = runWithCheckpoints(create, actions, { seed: seed + 1, crashes: 4 });
  expect(unverified.outputs).toEqual(uninterrupted);
  const full = runWithCheckpoints(create, actions, { seed: seed + 2, crashes: 4, full: true });
  expect(full.outputs).toEqual(uninterrupted);

  const wanted = outputsByKey(uninterrupted);
  for (const parallelisms of [[2], [3], [3, 2, 1]]) {
    const rescaled = runWithCheckpoints(create, actions, { seed: seed + parallelisms.length, crashes: parallelisms.length, parallelisms, verify: true });
    expect(outputsByKey(rescaled.outputs), `restored at parallelisms ${parallelisms.join(', ')}`).toEqual(wanted);
  }
  if (create(() => {}).state.evict !== undefined) expectEvictionInvisible(create, actions, seed, wanted);
  return { uninterrupted, incremental, full };
}

/**
 * Under eviction and loads at random points, with crashes, also restored at other parallelisms, each key's output is
 * the uninterrupted run's, in order (only the order across keys may differ).
 */
function expectEvictionInvisible(create: SubjectFactory, actions: readonly Action[], seed: number, wanted: Map<Key, unknown[]>): void {
  for (const [crashes, parallelisms] of [[0, [1]], [4, [1]], [3, [3, 2, 1]]] as const) {
    const run = runWithCheckpoints(create, actions, { seed: seed + 10 + crashes, crashes, parallelisms, verify: true, evict: true });
    const how = `evicting, with ${crashes} crashes at parallelisms ${parallelisms.join(', ')}`;
    expect(outputsByKey(run.outputs), how).toEqual(wanted);
    expect(run.evicted, how).toBeGreaterThan(100);
    expect(run.loaded, how).toBeGreaterThan(50);
  }
}
