// One task of a job: the operators, exchanges and sink writers that the generated build() creates for it.

import type { ExchangeSender, Key, Operator, PreAggregatingWindow, SinkWriter, Task } from './api.ts';
import { keyGroupOf, taskOfKeyGroup } from './keys.ts';
import type { JobMetrics } from './metrics.ts';

export type KeyedReceiver<K extends Key, T> = (key: K, record: T, time: number) => void;

/**
 * Routes keyed records to the task that owns their key group: a send is a direct call of the owning task's
 * receiver, which for a task on another worker thread appends to the outbox for that thread (runtime/parallel).
 */
export class Exchange<K extends Key, T> implements ExchangeSender<K, T> {
  /** The receiver of each task, by task index. */
  readonly receivers: KeyedReceiver<K, T>[] = [];
  /** The window step each task's receiver feeds, when it feeds one and nothing else (Task.exchange). */
  readonly windows: (PreAggregatingWindow<K, T> | undefined)[] = [];

  constructor(
    readonly id: string,
    private readonly parallelism: number,
    private readonly maxParallelism: number,
  ) {}

  send(key: K, record: T, time: number): void {
    const receiver =
      this.parallelism === 1
        ? this.receivers[0]
        : this.receivers[taskOfKeyGroup(keyGroupOf(key, this.maxParallelism), this.parallelism, this.maxParallelism)];
    receiver(key, record, time);
  }
}

export interface TaskEnvironment {
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly metrics: JobMetrics;
  /** Sink writers, shared by the tasks of a process. */
  sink(id: string): SinkWriter<unknown>;
  /** The exchange with this id, shared by the tasks of a process. */
  exchange(id: string): Exchange<Key, unknown>;
}

/**
 * The environment of the tasks on one thread: the sink writers by id, and the exchanges, created as the tasks'
 * build() asks for them (so in the order of the job's steps, which is topological).
 */
export function taskEnvironment(
  parallelism: number,
  maxParallelism: number,
  metrics: JobMetrics,
  sinks: ReadonlyMap<string, SinkWriter<unknown>>,
): TaskEnvironment & { readonly exchanges: ReadonlyMap<string, Exchange<Key, unknown>> } {
  const exchanges = new Map<string, Exchange<Key, unknown>>();
  return {
    parallelism,
    maxParallelism,
    metrics,
    exchanges,
    sink(id) {
      const sink = sinks.get(id);
      if (sink === undefined) throw new Error(`the job has no sink '${id}'`);
      return sink;
    },
    exchange(id) {
      let exchange = exchanges.get(id);
      if (exchange === undefined) exchanges.set(id, (exchange = new Exchange(id, parallelism, maxParallelism)));
      return exchange;
    },
  };
}

export class TaskRuntime implements Task {
  readonly operators: Operator[] = [];

  constructor(
    readonly index: number,
    private readonly environment: TaskEnvironment,
  ) {}

  get parallelism(): number {
    return this.environment.parallelism;
  }

  get metrics(): JobMetrics {
    return this.environment.metrics;
  }

  sink<T>(id: string): SinkWriter<T> {
    return this.environment.sink(id) as SinkWriter<T>;
  }

  register<T extends Operator>(operator: T): T {
    this.operators.push(operator);
    return operator;
  }

  exchange<K extends Key, T>(id: string, receiver: KeyedReceiver<K, T>, window?: PreAggregatingWindow<K, T>): Exchange<K, T> {
    const exchange = this.environment.exchange(id) as unknown as Exchange<K, T>;
    exchange.receivers[this.index] = receiver;
    exchange.windows[this.index] = window;
    return exchange;
  }
}
