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
  /** The next timer of the same key: a key rarely has more than a few (a window's fire and cleanup, a session or two). */
  nextOfKey: TimerEntry<K> | undefined = undefined;

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
  /**
   * key → the timers of that key, linked through `nextOfKey`. One chain per key rather than a Map per key and
   * window: a Map per key cost about 200 bytes a timer with a million keys (sessions, dedupe), a chain nothing.
   */
  private readonly index = new Map<K, TimerEntry<K>>();
  private sequence = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Registers a timer; returns false when the same timer was already registered. */
  register(timestamp: number, key: K, window: number): boolean {
    const head = this.index.get(key);
    for (let entry = head; entry !== undefined; entry = entry.nextOfKey) {
      if (entry.timestamp === timestamp && entry.window === window) return false;
    }
    const timer = new TimerEntry(timestamp, key, window, this.sequence++);
    timer.nextOfKey = head;
    this.index.set(key, timer);
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
    for (let entry = this.index.get(key); entry !== undefined; entry = entry.nextOfKey) {
      if (entry.timestamp === timestamp && entry.window === window) return true;
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

  /**
   * Calls `visit` with every timer due at `time` (timestamp <= time), in no particular order, leaving them all
   * registered: what an operator must have in memory before it polls them. Visits only the part of the heap that is
   * due.
   */
  forEachDue(time: number, visit: (timer: Timer<K>) => void): void {
    const heap = this.heap;
    const positions = heap.length > 0 && heap[0].timestamp <= time ? [0] : [];
    for (let position = positions.pop(); position !== undefined; position = positions.pop()) {
      visit(heap[position]);
      for (const child of [2 * position + 1, 2 * position + 2]) {
        if (child < heap.length && heap[child].timestamp <= time) positions.push(child);
      }
    }
  }

  /**
   * Calls `visit` with the timers due at `time` in timestamp order (ties in no particular order) until it returns
   * false, leaving them all registered: a best-first walk of the heap, so stopping after k timers costs O(k log k)
   * however many are due.
   */
  visitDueInOrder(time: number, visit: (timer: Timer<K>) => boolean): void {
    const heap = this.heap;
    if (heap.length === 0 || heap[0].timestamp > time) return;
    // Positions of the heap whose parents were visited, as a min-heap by their timers' timestamps.
    const frontier = [0];
    const earlier = (a: number, b: number) => heap[frontier[a]].timestamp < heap[frontier[b]].timestamp;
    while (frontier.length > 0) {
      const position = frontier[0];
      const last = frontier.pop()!;
      if (frontier.length > 0) {
        frontier[0] = last;
        for (let at = 0; ; ) {
          const left = 2 * at + 1;
          if (left >= frontier.length) break;
          const child = left + 1 < frontier.length && earlier(left + 1, left) ? left + 1 : left;
          if (!earlier(child, at)) break;
          [frontier[at], frontier[child]] = [frontier[child], frontier[at]];
          at = child;
        }
      }
      if (!visit(heap[position])) return;
      for (const child of [2 * position + 1, 2 * position + 2]) {
        if (child >= heap.length || heap[child].timestamp > time) continue;
        frontier.push(child);
        for (let at = frontier.length - 1; at > 0 && earlier(at, (at - 1) >> 1); at = (at - 1) >> 1) {
          [frontier[at], frontier[(at - 1) >> 1]] = [frontier[(at - 1) >> 1], frontier[at]];
        }
      }
    }
  }

  private unindex(timestamp: number, key: K, window: number): TimerEntry<K> | undefined {
    let previous: TimerEntry<K> | undefined;
    for (let entry = this.index.get(key); entry !== undefined; previous = entry, entry = entry.nextOfKey) {
      if (entry.timestamp !== timestamp || entry.window !== window) continue;
      if (previous !== undefined) previous.nextOfKey = entry.nextOfKey;
      else if (entry.nextOfKey !== undefined) this.index.set(key, entry.nextOfKey);
      else this.index.delete(key);
      entry.nextOfKey = undefined;
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
