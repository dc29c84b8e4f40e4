import { describe, expect, it } from 'vitest';
import { createFairQueue } from './fair-queue.ts';

describe('fair queue', () => {
  it('1,000 queued from producer A, then one from B: B is among the next two taken, not after A\'s thousand', () => {
    const queue = createFairQueue<string>();
    for (let i = 0; i < 1_000; i++) queue.push('A', `a${i}`);
    // A few of A's are under way when B's arrives.
    const taken = [queue.next()!.item, queue.next()!.item, queue.next()!.item];
    queue.push('B', 'b0');
    for (let next = queue.next(); next; next = queue.next()) taken.push(next.item);
    expect(taken.indexOf('b0')).toBeLessThanOrEqual(4);
    expect(taken).toHaveLength(1_001);
    expect(taken.filter((t) => t.startsWith('a'))).toEqual(Array.from({ length: 1_000 }, (_, i) => `a${i}`));
  });

  it('takes one from each producer with work in turn, each in its own order', () => {
    const queue = createFairQueue<string>();
    for (const [p, n] of [['A', 4], ['B', 2], ['C', 1]] as const) for (let i = 0; i < n; i++) queue.push(p, `${p}${i}`);
    expect(queue.drain().map((n) => n.item)).toEqual(['A0', 'B0', 'C0', 'A1', 'B1', 'A2', 'A3']);
    expect(queue.size).toBe(0);
    expect(queue.next()).toBeUndefined();
  });

  it('a due retry goes to the front of its producer\'s queue', () => {
    const queue = createFairQueue<string>();
    queue.push('A', 'a0');
    queue.push('A', 'a1');
    queue.push('A', 'retry', { front: true });
    expect(queue.drain().map((n) => n.item)).toEqual(['retry', 'a0', 'a1']);
  });

  it('removes a producer\'s matching items and keeps the rotation right', () => {
    const queue = createFairQueue<string>();
    queue.push('A', 'old1');
    queue.push('A', 'old2');
    queue.push('B', 'b0');
    expect(queue.remove('A', (item) => item.startsWith('old'))).toEqual(['old1', 'old2']);
    expect(queue.sizeOf('A')).toBe(0);
    expect(queue.size).toBe(1);
    queue.push('A', 'a0');
    expect(queue.drain().map((n) => `${n.producer}:${n.item}`)).toEqual(['B:b0', 'A:a0']);
    expect(queue.producers()).toEqual(['A', 'B']);
  });

  it('stays correct over many pushes and takes (queue compaction)', () => {
    const queue = createFairQueue<number>();
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) queue.push('A', round * 300 + i);
      for (let i = 0; i < 250; i++) expect(queue.next()!.item).toBe(expected++);
    }
    while (queue.size > 0) expect(queue.next()!.item).toBe(expected++);
    expect(expected).toBe(15_000);
  });
});
