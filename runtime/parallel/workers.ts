// The tasks of a run on worker threads, as the main thread drives them. Each worker imports the job's bundle and
// runs a contiguous range of tasks (so of key groups); workers talk to each other over a MessageChannel per pair
// for the exchanges, and to the main thread for phases, sinks and checkpoints.
//
// Every phase is a barrier: the main thread asks every worker, and the next phase starts once every worker has
// settled its exchanges and reported. So between phases every record polled has passed every operator and
// exchange: the consistent cut a checkpoint takes, with the barriers aligned by construction. Backpressure comes
// the same way: a phase polls at most BATCHES_PER_PHASE batches per source (worker.ts), and the next waits until
// the sinks have flushed what the last one wrote, so a slow sink slows the sources instead of growing queues.

import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Key, SinkConnector, StateNamespace } from '../api.ts';
import type { RestoreTarget } from '../checkpoints/coordinator.ts';
import type { StateSnapshot } from '../checkpoints/snapshot.ts';
import type { JobMetrics } from '../metrics.ts';
import { mergeSourcePositions, type RestoredSources, type SourcePositions } from '../task-group.ts';
import {
  WORKER_PROTOCOL,
  type Command,
  type PollReply,
  type Ready,
  type Report,
  type RestoreRow,
  type WorkerMessage,
  type WorkerRun,
  type WorkerSetup,
} from './protocol.ts';
import type { PollResult, StateCount, TaskRunner } from './runner.ts';
import { fromColumns } from './columns.ts';

export interface WorkerSettings extends Omit<WorkerRun, 'jsonLinesSinks'> {
  /** The job's bundle: each worker imports it, and it serves tasks in a worker thread (serveTasks). */
  readonly module: string;
  readonly workers: number;
  readonly log: (line: string) => void;
}

/** Rows of a restore sent to a worker per message. */
const RESTORE_ROWS_PER_MESSAGE = 8192;

/** One worker thread, as the main thread sees it: one command at a time, one report each. */
class TaskThread {
  private pending: { resolve: (message: WorkerMessage) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  rows = 0;
  residentRows = 0;
  /** Every source of the worker's tasks has ended. */
  ended = false;

  constructor(
    readonly index: number,
    readonly tasks: readonly number[],
    readonly worker: Worker,
  ) {
    worker.on('message', (message: WorkerMessage) => {
      const pending = this.pending;
      this.pending = undefined;
      if (message.type === 'failed') {
        const error = new Error(message.message);
        if (message.stack !== undefined) error.stack = message.stack;
        this.fail(error, pending);
      } else pending?.resolve(message);
    });
    worker.on('error', (error) => this.fail(error, this.pending));
    worker.on('exit', (code) => this.fail(new Error(`worker thread ${index} exited with code ${code}`), this.pending));
  }

  /** The next message of the worker (its `ready`, or the report of a command posted just before). */
  next(): Promise<WorkerMessage> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  post(command: Command): void {
    this.worker.postMessage(command);
  }

  private fail(error: Error, pending: TaskThread['pending']): void {
    this.failure ??= error;
    this.pending = undefined;
    pending?.reject(this.failure);
  }
}

export class WorkerTasks implements TaskRunner {
  /** A worker failed: the run is over, and the workers are terminated without more commands. */
  private broken = false;

  private constructor(
    private readonly threads: readonly TaskThread[],
    readonly operatorCount: number,
    /** Whether any operator reacts to processing time: else the workers are not asked. */
    private readonly processingTimeOperators: boolean,
    private readonly keyedUids: ReadonlySet<string>,
    private readonly broadcastUids: ReadonlySet<string>,
    private readonly sinks: ReadonlyMap<string, SinkConnector>,
    private readonly metrics: JobMetrics,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts the workers and waits until each has built its tasks and opened their sources. */
  static async start(settings: WorkerSettings, sinks: ReadonlyMap<string, SinkConnector>, metrics: JobMetrics): Promise<WorkerTasks> {
    // What the workers are told: the settings but the main thread's own (a function cannot cross threads anyway).
    const { module, workers, log, ...run } = settings;
    const ports: (MessagePort | undefined)[][] = Array.from({ length: workers }, () => new Array<MessagePort | undefined>(workers).fill(undefined));
    for (let a = 0; a < workers; a++) {
      for (let b = a + 1; b < workers; b++) {
        const channel = new MessageChannel();
        ports[a][b] = channel.port1;
        ports[b][a] = channel.port2;
      }
    }
    const jsonLinesSinks = [...sinks].flatMap(([id, sink]) => (sink.writeLines === undefined ? [] : [id]));
    const taskIndexesByWorker = Array.from({ length: workers }, (_, worker) => {
      const first = Math.floor((worker * settings.parallelism) / workers);
      const last = Math.floor(((worker + 1) * settings.parallelism) / workers);
      return Array.from({ length: last - first }, (_, offset) => first + offset);
    });
    const threads = taskIndexesByWorker.map((tasks, index) => {
      const setup: WorkerSetup = { ...run, jsonLinesSinks, protocol: WORKER_PROTOCOL, workerIndex: index, taskIndexesByWorker, peers: ports[index] };
      const transfer = ports[index].filter((port): port is MessagePort => port !== undefined);
      return new TaskThread(index, tasks, new Worker(new URL(module), { workerData: setup, transferList: transfer }));
    });
    const runner = new WorkerTasks(threads, 0, false, new Set(), new Set(), sinks, metrics, log);
    let readies: Ready[];
    try {
      readies = (await Promise.all(threads.map((thread) => thread.next()))) as Ready[];
    } catch (error) {
      await runner.terminate();
      throw error;
    }
    return new WorkerTasks(
      threads,
      readies[0].operatorCount,
      readies.some((ready) => ready.processingTime),
      new Set(readies.flatMap((ready) => ready.keyedUids)),
      new Set(readies.flatMap((ready) => ready.broadcastUids)),
      sinks,
      metrics,
      log,
    );
  }

  async poll(limit: number): Promise<PollResult> {
    // A record limit is shared among the workers whose sources go on.
    const reading = this.threads.filter((thread) => !thread.ended);
    const limits = new Map(reading.map((thread, index) => [thread, limit === Infinity ? Infinity : share(limit, index, reading.length)]));
    const replies = (await this.everyWorker((thread) => ({ type: 'poll', limit: limits.get(thread) ?? 0 }))) as PollReply[];
    let polled = 0;
    let low = Infinity;
    for (const [index, reply] of replies.entries()) {
      polled += reply.polled;
      low = Math.min(low, reply.low);
      this.threads[index].ended = reply.ended;
    }
    return { polled, ended: this.threads.every((thread) => thread.ended), low };
  }

  async advance(watermark: number): Promise<void> {
    await this.everyWorker(() => ({ type: 'advance', watermark }));
  }

  async processingTime(now: number): Promise<void> {
    if (this.processingTimeOperators) await this.everyWorker(() => ({ type: 'time', now }));
  }

  countState(): StateCount {
    let rows = 0;
    let residentRows = 0;
    for (const thread of this.threads) {
      rows += thread.rows;
      residentRows += thread.residentRows;
    }
    return { rows, residentRows };
  }

  async snapshot(full: boolean): Promise<StateSnapshot> {
    const snapshots = (await this.everyWorker(() => ({ type: 'snapshot', full }))) as StateSnapshot[];
    return { rows: snapshots.flatMap((snapshot) => snapshot.rows), stateRows: snapshots.reduce((sum, snapshot) => sum + snapshot.stateRows, 0) };
  }

  async sourcePositions(): Promise<SourcePositions> {
    return mergeSourcePositions((await this.everyWorker(() => ({ type: 'positions' }))) as SourcePositions[]);
  }

  async checkpointCompleted(): Promise<void> {
    await this.everyWorker(() => ({ type: 'completed' }));
  }

  get restoreTarget(): RestoreTarget {
    const threads = this.threads;
    const workerOfTask = new Map(threads.flatMap((thread) => thread.tasks.map((task) => [task, thread] as const)));
    const pending = threads.map((): RestoreRow[] => []);
    const send = (thread: TaskThread) => {
      thread.post({ type: 'restore', rows: pending[thread.index] });
      pending[thread.index] = [];
    };
    const add = (thread: TaskThread, row: RestoreRow) => {
      pending[thread.index].push(row);
      if (pending[thread.index].length >= RESTORE_ROWS_PER_MESSAGE) send(thread);
    };
    return {
      keyedUids: this.keyedUids,
      broadcastUids: this.broadcastUids,
      keyedRow: (task: number, uid: string, key: Key, namespace: StateNamespace, value: unknown) => add(workerOfTask.get(task)!, [task, uid, key, namespace, value]),
      broadcastRow: (uid: string, key: Key, namespace: StateNamespace, value: unknown) => {
        for (const thread of threads) add(thread, [null, uid, key, namespace, value]);
      },
      restored: async (watermark: number) => {
        for (const thread of threads) if (pending[thread.index].length > 0) send(thread);
        await this.everyWorker(() => ({ type: 'restored', watermark }));
      },
    };
  }

  async close(): Promise<void> {
    try {
      // A worker that failed may have left others waiting for its exchange pass: then they are only terminated.
      if (!this.broken) await this.everyWorker(() => ({ type: 'close' }));
    } finally {
      await this.terminate();
    }
  }

  /**
   * Posts a command to every worker and waits for every report; then writes what the workers' tasks wrote to the
   * sinks, worker by worker (so output order depends only on the number of workers), and takes their counters and
   * log lines. Returns each worker's result, in worker order.
   */
  private async everyWorker(command: (thread: TaskThread) => Command): Promise<Report['result'][]> {
    let reports: Report[];
    try {
      reports = (await Promise.all(
        this.threads.map((thread) => {
          const report = thread.next();
          thread.post(command(thread));
          return report;
        }),
      )) as Report[];
    } catch (error) {
      this.broken = true;
      throw error;
    }
    for (const [index, report] of reports.entries()) {
      for (const [id, written] of report.sinks) {
        const sink = this.sinks.get(id)!;
        if ('lines' in written) sink.writeLines!(written.lines, written.records);
        else for (const record of Array.isArray(written) ? written : fromColumns(written)) sink.write(record);
      }
      const { metrics } = report;
      for (const [source, count] of metrics.recordsIn) this.metrics.received(source, count);
      for (const [source, count] of metrics.badRecords) this.metrics.bad(source, count);
      for (const [step, count] of metrics.lateRecords) this.metrics.late(step, count);
      for (const [step, count] of metrics.droppedRecords) this.metrics.dropped(step, count);
      for (const [exchange, { records, accumulators }] of metrics.preAggregated) this.metrics.folded(exchange, records, accumulators);
      for (const line of report.logs) this.log(line);
      this.threads[index].rows = report.rows;
      this.threads[index].residentRows = report.residentRows;
    }
    return reports.map((report) => report.result);
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }
}

/** Worker `index`'s part of `limit` records (the first workers take one more when it does not divide evenly). */
function share(limit: number, index: number, workers: number): number {
  return Math.floor(limit / workers) + (index < limit % workers ? 1 : 0);
}
