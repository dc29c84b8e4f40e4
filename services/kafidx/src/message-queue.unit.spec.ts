import { describe, expect, it } from 'vitest';
import { createMessageQueue } from './message-queue.ts';

describe('message queue', () => {
  it('keeps order and gives items back first in, first out', () => {
    const q = createMessageQueue<number>(3);
    expect([q.push(1), q.push(2)]).toEqual([undefined, undefined]);
    expect(q.size).toBe(2);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([1, 2, undefined]);
  });

  it('when full, the oldest makes room and is returned for counting', () => {
    const q = createMessageQueue<number>(3);
    for (const n of [1, 2, 3]) q.push(n);
    expect(q.push(4)).toBe(1);
    expect(q.push(5)).toBe(2);
    expect(q.size).toBe(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([3, 4, 5]);
  });

  it('wraps around many times without growing', () => {
    const q = createMessageQueue<number>(4);
    let dropped = 0;
    for (let n = 0; n < 1000; n++) {
      if (q.push(n) !== undefined) dropped++;
      if (n % 3 === 0) q.shift();
    }
    expect(q.size).toBe(3); // full at 4, then the last step (999) took one
    expect(dropped).toBeGreaterThan(0);
    q.clear();
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('refuses a capacity below 1', () => {
    expect(() => createMessageQueue(0)).toThrow(RangeError);
  });
});
