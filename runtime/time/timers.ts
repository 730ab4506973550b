// Timer service of a keyed operator: a binary min-heap of (timestamp, key, window) timers, deduplicated as Flink's.
import type { Key } from '../api.ts';

/** A timer as the queue hands it out: it fired because time reached `timestamp`. */
export interface Timer<K extends Key = string> {
  readonly timestamp: number;
  /** The key the timer belongs to; operators that keep one timer per window for all keys use ''. */
  readonly key: K;
  /** The window (or other namespace) the timer belongs to, as a number: a window start, a kept time. */
  readonly window: number;
}

class TimerEntry<K extends Key> implements Timer<K> {
  /** Position in the heap array, kept current so that deleting a timer is O(log n). */
  heapIndex = -1;
  /** The next timer of the same (key, window): usually there is none, at most a fire and a cleanup timer. */
  nextInWindow: TimerEntry<K> | undefined = undefined;

  constructor(
    readonly timestamp: number,
    readonly key: K,
    readonly window: number,
    /** Registration order; breaks timestamp ties so timers due together fire in the order they were registered. */
    readonly sequence: number,
  ) {}
}

function isEarlier<K extends Key>(a: TimerEntry<K>, b: TimerEntry<K>): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.sequence < b.sequence);
}

/**
 * Timers of one operator, for event time (fired by watermarks) or processing time. Registering a timer that
 * already exists for the same (timestamp, key, window) does nothing, as in Flink's InternalTimerService, so an
 * operator may register on every event without piling up duplicates. Timers due at the same timestamp fire in
 * registration order, which makes firing deterministic.
 */
export class TimerService<K extends Key = string> {
  private readonly heap: TimerEntry<K>[] = [];
  /** key → window → the timers of that (key, window), linked through `nextInWindow`. */
  private readonly index = new Map<K, Map<number, TimerEntry<K>>>();
  private sequence = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Registers a timer; returns false when the same timer was already registered. */
  register(timestamp: number, key: K, window: number): boolean {
    let windows = this.index.get(key);
    if (windows === undefined) {
      windows = new Map();
      this.index.set(key, windows);
    }
    const head = windows.get(window);
    for (let entry = head; entry !== undefined; entry = entry.nextInWindow) {
      if (entry.timestamp === timestamp) return false;
    }
    const timer = new TimerEntry(timestamp, key, window, this.sequence++);
    timer.nextInWindow = head;
    windows.set(window, timer);
    timer.heapIndex = this.heap.length;
    this.heap.push(timer);
    this.siftUp(timer.heapIndex);
    return true;
  }

  /** Removes a registered timer; returns false when there was none. */
  delete(timestamp: number, key: K, window: number): boolean {
    const timer = this.unindex(timestamp, key, window);
    if (timer === undefined) return false;
    this.removeAt(timer.heapIndex);
    return true;
  }

  has(timestamp: number, key: K, window: number): boolean {
    for (let entry = this.index.get(key)?.get(window); entry !== undefined; entry = entry.nextInWindow) {
      if (entry.timestamp === timestamp) return true;
    }
    return false;
  }

  /** The timestamp of the earliest timer, +Infinity when there is none. */
  nextTimestamp(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0].timestamp;
  }

  /**
   * Removes and returns the earliest timer if it is due at `time` (timestamp <= time), else undefined. Operators
   * call it in a loop; a timer registered while the loop runs fires in the same loop if it is due.
   */
  pollDue(time: number): Timer<K> | undefined {
    if (this.heap.length === 0) return undefined;
    const timer = this.heap[0];
    if (timer.timestamp > time) return undefined;
    this.unindex(timer.timestamp, timer.key, timer.window);
    this.removeAt(0);
    return timer;
  }

  private unindex(timestamp: number, key: K, window: number): TimerEntry<K> | undefined {
    const windows = this.index.get(key);
    if (windows === undefined) return undefined;
    let previous: TimerEntry<K> | undefined;
    for (let entry = windows.get(window); entry !== undefined; previous = entry, entry = entry.nextInWindow) {
      if (entry.timestamp !== timestamp) continue;
      if (previous !== undefined) previous.nextInWindow = entry.nextInWindow;
      else if (entry.nextInWindow !== undefined) windows.set(window, entry.nextInWindow);
      else {
        windows.delete(window);
        if (windows.size === 0) this.index.delete(key);
      }
      entry.nextInWindow = undefined;
      return entry;
    }
    return undefined;
  }

  private removeAt(position: number): void {
    const heap = this.heap;
    const removed = heap[position];
    const last = heap.pop()!;
    removed.heapIndex = -1;
    if (last === removed) return;
    heap[position] = last;
    last.heapIndex = position;
    if (position > 0 && isEarlier(last, heap[(position - 1) >> 1])) this.siftUp(position);
    else this.siftDown(position);
  }

  private siftUp(position: number): void {
    const heap = this.heap;
    const timer = heap[position];
    while (position > 0) {
      const parentPosition = (position - 1) >> 1;
      const parent = heap[parentPosition];
      if (!isEarlier(timer, parent)) break;
      heap[position] = parent;
      parent.heapIndex = position;
      position = parentPosition;
    }
    heap[position] = timer;
    timer.heapIndex = position;
  }

  private siftDown(position: number): void {
    const heap = this.heap;
    const length = heap.length;
    const timer = heap[position];
    for (;;) {
      const left = 2 * position + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && isEarlier(heap[right], heap[left]) ? right : left;
      if (!isEarlier(heap[child], timer)) break;
      heap[position] = heap[child];
      heap[position].heapIndex = position;
      position = child;
    }
    heap[position] = timer;
    timer.heapIndex = position;
  }
}
