import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.ts';

describe('back-off', () => {
  it('doubles from 100 ms up to a 5 s cap, and starts over after a success', () => {
    const backoff = createBackoff();
    expect(Array.from({ length: 9 }, () => backoff.next())).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(backoff.failures).toBe(9);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
