// A worker thread of a run: builds its share of the tasks, reads their sources, and runs the phases the main thread
// asks for. Records for tasks of other workers wait in an outbox per peer and cross in one batch per exchange when
// the phase settles its exchanges; what the tasks write to sinks goes back to the main thread with each report.

import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { JobDefinition, Key, PreAggregatingWindow, SinkWriter } from '../api.ts';
import type { RestoreTarget } from '../checkpoints/coordinator.ts';
import { snapshotOperators } from '../checkpoints/snapshot.ts';
import { createSinkConnector, createSourceReader } from '../connectors/index.ts';
import { JobMetrics } from '../metrics.ts';
import { taskEnvironment, type Exchange, type KeyedReceiver } from '../task.ts';
import { TaskGroup } from '../task-group.ts';
import { fromColumn, fromColumns, toColumn, toColumns, transferablesOf, type RecordColumns } from './columns.ts';
import {
  WORKER_PROTOCOL,
  type Command,
  type ExchangeBatch,
  type ExchangePartials,
  type ExchangePass,
  type Failed,
  type MetricsDelta,
  type Ready,
  type Report,
  type SinkOutput,
  type WorkerSetup,
} from './protocol.ts';

/**
 * Serves tasks when this module runs in a worker thread that pipec started (the bundle of a job calls it at its
 * top level); does nothing anywhere else.
 */
export function serveTasks(job: JobDefinition): void {
  if (isMainThread || parentPort === null || (workerData as Partial<WorkerSetup> | undefined)?.protocol !== WORKER_PROTOCOL) return;
  const port = parentPort;
  const fail = (error: unknown) => {
    const failed: Failed = { type: 'failed', message: (error as Error)?.message ?? String(error), stack: (error as Error)?.stack };
    port.postMessage(failed);
  };
  TaskWorker.start(job, workerData as WorkerSetup, port).catch(fail);
}

/**
 * Batches each source of a worker polls in a phase, at most, while they come full. A phase costs round trips through
 * the main thread and ends at a barrier where the faster workers wait for the slowest: on the revenue benchmark 16
 * batches (64k records of 4096) left the workers waiting less than 4 did. A source that has read what there is for
 * now (TaskGroup.caughtUp: a live or paced one) ends the phase, so that the watermark follows it as soon; the end of
 * a file split does not (one worker's phase would end short, and the other would wait).
 */
const BATCHES_PER_PHASE = 16;

/** A sink as the worker's tasks see it: records wait for the next report. */
class ForwardedSink implements SinkWriter<unknown> {
  private records: unknown[] = [];

  write(record: unknown): void {
    this.records.push(record);
  }

  /** What was written since the previous call, as it crosses (columns when it can), with the buffers it can transfer. */
  take(transfer: ArrayBuffer[]): SinkOutput | undefined {
    if (this.records.length === 0) return undefined;
    const records = this.records;
    this.records = [];
    const columns = toColumns(records, true);
    if (columns === undefined) return records;
    transfer.push(...transferablesOf(columns.columns));
    return columns;
  }
}

/**
 * A sink that takes JSON lines (SinkConnector.writeLines), as the worker's tasks see it: each record is serialised
 * here, on the worker, instead of on the main thread, which all workers share.
 */
class ForwardedLinesSink implements SinkWriter<unknown> {
  private lines = '';
  private records = 0;

  write(record: unknown): void {
    this.lines += JSON.stringify(record) + '\n';
    this.records++;
  }

  take(): SinkOutput | undefined {
    if (this.records === 0) return undefined;
    const output = { lines: this.lines, records: this.records };
    this.lines = '';
    this.records = 0;
    return output;
  }
}

/** Messages from one peer, in order. */
class Mailbox<T> {
  private readonly queue: T[] = [];
  private waiting: ((message: T) => void) | undefined;

  constructor(port: MessagePort) {
    port.on('message', (message: T) => {
      const waiting = this.waiting;
      if (waiting === undefined) this.queue.push(message);
      else {
        this.waiting = undefined;
        waiting(message);
      }
    });
  }

  next(): Promise<T> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift()!);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

/** Records of one exchange bound for one peer, gathered in the current pass. */
class PendingBatch {
  tasks: number[] = [];
  keys: Key[] = [];
  records: unknown[] = [];
  times: number[] = [];

  add(task: number, key: Key, record: unknown, time: number): void {
    this.tasks.push(task);
    this.keys.push(key);
    this.records.push(record);
    this.times.push(time);
  }

  get empty(): boolean {
    return this.tasks.length === 0;
  }

  /** The batch as it crosses, with the buffers it can transfer, leaving it empty. */
  take(): { readonly records: Pick<ExchangeBatch, 'tasks' | 'keys' | 'records' | 'times'>; readonly transfer: ArrayBuffer[] } {
    const columns = toColumns(this.records);
    const records = { tasks: Int32Array.from(this.tasks), keys: toColumn(this.keys), records: columns ?? this.records, times: Float64Array.from(this.times) };
    const transfer = [records.tasks.buffer as ArrayBuffer, records.times.buffer as ArrayBuffer, ...transferablesOf([records.keys, ...(columns?.columns ?? [])])];
    this.tasks = [];
    this.keys = [];
    this.records = [];
    this.times = [];
    return { records, transfer };
  }
}

/** A key's accumulator in one window, folded from records for the task that owns the key. */
interface TaskAccumulator {
  readonly task: number;
  readonly acc: unknown;
}

/**
 * Records of one exchange bound for one peer's tasks, folded in the current pass into an accumulator per key and
 * window by the window step the exchange feeds (PreAggregatingWindow): what crosses is one accumulator per key and
 * window instead of every record.
 */
class PendingPartials {
  /** Per window start, per key. */
  private readonly windows = new Map<number, Map<Key, TaskAccumulator>>();
  /** Records folded in the pass. */
  private records = 0;

  constructor(private readonly window: PreAggregatingWindow<Key, unknown>) {}

  add(task: number, key: Key, record: unknown, time: number, start: number): void {
    let keys = this.windows.get(start);
    if (keys === undefined) this.windows.set(start, (keys = new Map()));
    const aggregation = this.window.aggregation;
    let partial = keys.get(key);
    if (partial === undefined) keys.set(key, (partial = { task, acc: aggregation.create(key) }));
    aggregation.add(partial.acc, record, time);
    this.records++;
  }

  get empty(): boolean {
    return this.records === 0;
  }

  /** The accumulators as they cross (saved), with the buffers the message can transfer, leaving none. */
  take(): { readonly partials: ExchangePartials; readonly transfer: ArrayBuffer[] } {
    const tasks: number[] = [];
    const keys: Key[] = [];
    const starts: number[] = [];
    const accumulators: unknown[] = [];
    const save = this.window.aggregation.save;
    for (const [start, partials] of this.windows) {
      for (const [key, { task, acc }] of partials) {
        tasks.push(task);
        keys.push(key);
        starts.push(start);
        accumulators.push(save(acc));
      }
    }
    const partials: ExchangePartials = { tasks: Int32Array.from(tasks), keys: toColumn(keys), starts: Float64Array.from(starts), accumulators, records: this.records };
    this.windows.clear();
    this.records = 0;
    return { partials, transfer: [partials.tasks.buffer as ArrayBuffer, partials.starts.buffer as ArrayBuffer, ...transferablesOf([partials.keys])] };
  }
}

/** What one exchange sends one peer in the current pass: records, and records folded into accumulators. */
class PendingExchange {
  readonly records = new PendingBatch();
  partials: PendingPartials | undefined;

  get empty(): boolean {
    return this.records.empty && (this.partials === undefined || this.partials.empty);
  }
}

/** What the worker's tasks send the tasks of one peer in the current pass, per exchange. */
class Outbox {
  readonly exchanges: PendingExchange[] = [];

  exchange(index: number): PendingExchange {
    return (this.exchanges[index] ??= new PendingExchange());
  }

  get empty(): boolean {
    return this.exchanges.every((exchange) => exchange === undefined || exchange.empty);
  }

  /** The pass's message to the peer, with the buffers it can transfer, leaving the outbox empty. */
  take(sentAny: boolean): { readonly pass: ExchangePass; readonly transfer: ArrayBuffer[] } {
    const batches: ExchangeBatch[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const [index, exchange] of this.exchanges.entries()) {
      if (exchange === undefined || exchange.empty) continue;
      const records = exchange.records.take();
      const partials = exchange.partials?.empty === false ? exchange.partials.take() : undefined;
      batches.push({ exchange: index, ...records.records, partials: partials?.partials });
      transfer.push(...records.transfer, ...(partials?.transfer ?? []));
    }
    return { pass: { batches, sentAny }, transfer };
  }
}

class TaskWorker {
  private constructor(
    private readonly setup: WorkerSetup,
    private readonly port: MessagePort,
    private readonly group: TaskGroup,
    private readonly metrics: JobMetrics,
    private readonly sinks: Map<string, ForwardedSink | ForwardedLinesSink>,
    private readonly exchanges: readonly Exchange<Key, unknown>[],
    private readonly outboxes: readonly (Outbox | undefined)[],
    private readonly mailboxes: readonly (Mailbox<ExchangePass> | undefined)[],
    /** Log lines of the tasks since the previous report. */
    private readonly logs: string[],
    /** Where the rows of a restore go. */
    private readonly restoring: RestoreTarget,
  ) {}

  static async start(job: JobDefinition, setup: WorkerSetup, port: MessagePort): Promise<void> {
    const metrics = new JobMetrics();
    const jsonLines = new Set(setup.jsonLinesSinks);
    const sinks = new Map(job.sinks.map((sink) => [sink.id, jsonLines.has(sink.id) ? new ForwardedLinesSink() : new ForwardedSink()]));
    const environment = taskEnvironment(setup.parallelism, setup.maxParallelism, metrics, sinks);
    const logs: string[] = [];
    const connectors = { source: createSourceReader, sink: createSinkConnector };
    const group = await TaskGroup.open(
      job,
      setup.taskIndexesByWorker[setup.workerIndex],
      environment,
      connectors,
      { ...setup, log: (line) => void logs.push(line) },
      setup.restored,
    );
    const outboxes = setup.peers.map((peer) => (peer === undefined ? undefined : new Outbox()));
    const mailboxes = setup.peers.map((peer) => (peer === undefined ? undefined : new Mailbox<ExchangePass>(peer)));
    // Exchanges by index, in the order the tasks created them (the same in every worker).
    const ordered = [...environment.exchanges.values()];
    for (const [workerIndex, tasks] of setup.taskIndexesByWorker.entries()) {
      const outbox = outboxes[workerIndex];
      if (outbox === undefined) continue;
      for (const task of tasks) for (const [index, exchange] of ordered.entries()) exchange.receivers[task] = forwarder(outbox.exchange(index), task, localWindow(exchange));
    }
    const restoring = group.restoreTarget();
    const worker = new TaskWorker(setup, port, group, metrics, sinks, ordered, outboxes, mailboxes, logs, restoring);
    const ready: Ready = {
      type: 'ready',
      operatorCount: group.operatorCount,
      processingTime: group.tasks.some((task) => task.operators.some((operator) => operator.onProcessingTime !== undefined)),
      keyedUids: [...restoring.keyedUids],
      broadcastUids: [...restoring.broadcastUids],
    };
    port.postMessage(ready);
    port.on('message', (command: Command) => void worker.handle(command));
  }

  /** Commands come one at a time: the main thread waits for every worker's report before the next. */
  private async handle(command: Command): Promise<void> {
    try {
      const result = await this.run(command);
      if (command.type === 'restore') return;
      const { report, transfer } = this.report(result);
      this.port.postMessage(report, transfer);
      if (command.type === 'close') this.port.close();
    } catch (error) {
      const failed: Failed = { type: 'failed', message: (error as Error).message, stack: (error as Error).stack };
      this.port.postMessage(failed);
    }
  }

  private async run(command: Command): Promise<Report['result']> {
    const group = this.group;
    switch (command.type) {
      case 'poll': {
        // Several batches a phase: a phase ends at a barrier, where the faster workers wait for the slowest (its GC
        // pauses, a longer split), and over more records the differences even out.
        let polled = 0;
        for (let batches = 0; batches < BATCHES_PER_PHASE && polled < command.limit && !group.ended; batches++) {
          const more = await group.poll(this.setup.batchSize, command.limit - polled);
          polled += more;
          if (more === 0 || group.caughtUp) break;
        }
        await this.settleExchanges();
        return { polled, ended: group.ended, low: group.lowWatermark(Date.now()) };
      }
      case 'advance':
        // Settling the exchanges after each operator is a barrier across workers: what an operator fired has
        // reached every task before the next operator sees the watermark.
        for (let level = 0; level < group.operatorCount; level++) {
          group.fire(level, command.watermark);
          await this.settleExchanges();
        }
        return undefined;
      case 'time':
        group.processingTime(command.now);
        await this.settleExchanges();
        return undefined;
      case 'snapshot':
        return snapshotOperators(group.tasks, command.full, this.setup.maxParallelism);
      case 'positions':
        return group.sourcePositions();
      case 'restore':
        for (const [task, uid, key, namespace, value] of command.rows) {
          if (task === null) this.restoring.broadcastRow(uid, key, namespace, value);
          else this.restoring.keyedRow(task, uid, key, namespace, value);
        }
        return undefined;
      case 'restored':
        await this.restoring.restored(command.watermark);
        return undefined;
      case 'completed':
        await group.checkpointCompleted();
        return undefined;
      case 'close':
        await group.close();
        return undefined;
    }
  }

  /**
   * Sends what the tasks sent to other workers' tasks, and delivers what came from them, in passes: what a
   * delivery emits goes out in the next pass, until a pass in which no worker sent anything. Every worker learns
   * whether any sent something from every peer's message, so all of them stop after the same pass.
   */
  private async settleExchanges(): Promise<void> {
    const { outboxes, mailboxes } = this;
    if (outboxes.every((outbox) => outbox === undefined)) return;
    for (;;) {
      const sentAny = outboxes.some((outbox) => outbox !== undefined && !outbox.empty);
      for (const [peer, outbox] of outboxes.entries()) {
        if (outbox === undefined) continue;
        const { pass, transfer } = outbox.take(sentAny);
        this.setup.peers[peer]!.postMessage(pass, transfer);
      }
      let anySent = sentAny;
      for (const mailbox of mailboxes) {
        if (mailbox === undefined) continue;
        const pass = await mailbox.next();
        anySent ||= pass.sentAny;
        for (const batch of pass.batches) this.deliver(batch);
      }
      if (!anySent) return;
    }
  }

  private deliver(batch: ExchangeBatch): void {
    const exchange = this.exchanges[batch.exchange];
    const receivers = exchange.receivers;
    const { tasks, times } = batch;
    const keys = fromColumn(batch.keys) as ArrayLike<Key>;
    const records = Array.isArray(batch.records) ? batch.records : fromColumns(batch.records);
    for (let i = 0; i < tasks.length; i++) receivers[tasks[i]](keys[i], records[i], times[i]);
    if (batch.partials === undefined) return;
    const windows = exchange.windows;
    const partials = batch.partials;
    const partialKeys = fromColumn(partials.keys) as ArrayLike<Key>;
    for (let i = 0; i < partials.tasks.length; i++) windows[partials.tasks[i]]!.mergePartial(partialKeys[i], partials.starts[i], partials.accumulators[i]);
    this.metrics.folded(exchange.id, partials.records, partials.tasks.length);
  }

  /** The report of a command, with the buffers its message can transfer. */
  private report(result: Report['result']): { readonly report: Report; readonly transfer: ArrayBuffer[] } {
    const sinks: [string, SinkOutput][] = [];
    const transfer: ArrayBuffer[] = [];
    for (const [id, sink] of this.sinks) {
      const output = sink.take(transfer);
      if (output !== undefined) sinks.push([id, output]);
    }
    const { rows, residentRows } = this.group.countState();
    const report: Report = { type: 'done', result, sinks, metrics: takeMetrics(this.metrics), logs: this.logs.splice(0), rows, residentRows };
    return { report, transfer };
  }
}

/**
 * The receiver of a remote task in an exchange: appends to what goes to the task's worker. When the exchange feeds a
 * window step (`window`, this worker's instance of it), a record of a window that has not fired is folded into its
 * key's accumulator there instead.
 */
function forwarder(pending: PendingExchange, task: number, window: PreAggregatingWindow<Key, unknown> | undefined): KeyedReceiver<Key, unknown> {
  const records = pending.records;
  if (window === undefined) return (key, record, time) => records.add(task, key, record, time);
  const partials = (pending.partials ??= new PendingPartials(window));
  return (key, record, time) => {
    const start = window.unfiredWindowOf(time);
    if (Number.isNaN(start)) records.add(task, key, record, time);
    else partials.add(task, key, record, time, start);
  };
}

/**
 * The window step an exchange feeds, as one of this worker's tasks holds it: it folds records for the tasks of other
 * workers. Every task's instance has the same watermark, as every task of the run has.
 */
function localWindow(exchange: Exchange<Key, unknown>): PreAggregatingWindow<Key, unknown> | undefined {
  return exchange.windows.find((window) => window !== undefined);
}

/** The counters' increments since the previous call. */
function takeMetrics(metrics: JobMetrics): MetricsDelta {
  const take = <V>(counters: Map<string, V>) => {
    const entries = [...counters];
    counters.clear();
    return entries;
  };
  return {
    recordsIn: take(metrics.recordsIn),
    badRecords: take(metrics.badRecords),
    lateRecords: take(metrics.lateRecords),
    droppedRecords: take(metrics.droppedRecords),
    preAggregated: take(metrics.preAggregated),
  };
}
