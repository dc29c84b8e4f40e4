/**
 * Fair share between producers: one FIFO queue per producer (its response
 * topic) and a rotation of the producers that have work. `next()` takes one
 * item from the producer at the head of the rotation and moves that producer
 * to the back, so with n producers waiting, each gets every n-th turn — a
 * burst of a thousand from one producer delays another's request by at most
 * n - 1 turns, not by a thousand.
 */

interface Deque<T> {
  items: T[];
  head: number;
}

function size<T>(q: Deque<T>): number {
  return q.items.length - q.head;
}

function shift<T>(q: Deque<T>): T | undefined {
  if (q.head >= q.items.length) return undefined;
  const item = q.items[q.head]!;
  (q.items as (T | undefined)[])[q.head] = undefined;
  q.head++;
  if (q.head === q.items.length) {
    q.items = [];
    q.head = 0;
  } else if (q.head >= 1024 && q.head * 2 >= q.items.length) {
    q.items = q.items.slice(q.head);
    q.head = 0;
  }
  return item;
}

function unshift<T>(q: Deque<T>, item: T): void {
  if (q.head > 0) q.items[--q.head] = item;
  else q.items.unshift(item);
}

export interface FairQueue<T> {
  /** Adds an item at the back of its producer's queue, or at the front (`front: true`: a retry that is due). */
  push(producer: string, item: T, options?: { front?: boolean }): void;
  /** The next item in round-robin order over the producers with work, or undefined when all are empty. */
  next(): { producer: string; item: T } | undefined;
  /** Removes and returns the items of `producer` for which `match` is true. */
  remove(producer: string, match: (item: T) => boolean): T[];
  /** Removes and returns every item, producer by producer. */
  drain(): { producer: string; item: T }[];
  /** Items waiting, all producers. */
  readonly size: number;
  sizeOf(producer: string): number;
  /** Producers that ever had an item (for gauges), in first-seen order. */
  producers(): string[];
}

export function createFairQueue<T>(): FairQueue<T> {
  const queues = new Map<string, Deque<T>>();
  /** Producers with a non-empty queue, in turn order; each appears once. */
  const rotation: Deque<string> = { items: [], head: 0 };
  let total = 0;

  function queueOf(producer: string): Deque<T> {
    let q = queues.get(producer);
    if (!q) {
      q = { items: [], head: 0 };
      queues.set(producer, q);
    }
    return q;
  }

  function removeFromRotation(producer: string): void {
    const rest = rotation.items.slice(rotation.head).filter((p) => p !== producer);
    rotation.items = rest;
    rotation.head = 0;
  }

  return {
    push(producer, item, options = {}) {
      const q = queueOf(producer);
      if (size(q) === 0) rotation.items.push(producer);
      if (options.front) unshift(q, item);
      else q.items.push(item);
      total++;
    },
    next() {
      const producer = shift(rotation);
      if (producer === undefined) return undefined;
      const q = queues.get(producer)!;
      const item = shift(q)!;
      total--;
      if (size(q) > 0) rotation.items.push(producer);
      return { producer, item };
    },
    remove(producer, match) {
      const q = queues.get(producer);
      if (!q || size(q) === 0) return [];
      const kept: T[] = [];
      const removed: T[] = [];
      for (let i = q.head; i < q.items.length; i++) (match(q.items[i]!) ? removed : kept).push(q.items[i]!);
      q.items = kept;
      q.head = 0;
      total -= removed.length;
      if (kept.length === 0 && removed.length > 0) removeFromRotation(producer);
      return removed;
    },
    drain() {
      const all: { producer: string; item: T }[] = [];
      for (let next = this.next(); next; next = this.next()) all.push(next);
      return all;
    },
    get size() {
      return total;
    },
    sizeOf(producer) {
      const q = queues.get(producer);
      return q ? size(q) : 0;
    },
    producers() {
      return [...queues.keys()];
    },
  };
}
