/** Listings by expiry time, soonest first: a binary min-heap of (epoch ms, listing id). */
export interface Expiry {
  at: number;
  id: string;
}

export function createExpiryQueue() {
  const heap: Expiry[] = [];

  function push(at: number, id: string): void {
    heap.push({ at, id });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  function pop(): Expiry | undefined {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < heap.length && heap[l]!.at < heap[smallest]!.at) smallest = l;
      if (r < heap.length && heap[r]!.at < heap[smallest]!.at) smallest = r;
      if (smallest === i) return top;
      [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
      i = smallest;
    }
  }

  return { push, pop, peek: (): Expiry | undefined => heap[0], size: () => heap.length };
}
