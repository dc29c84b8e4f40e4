import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { point, type Point } from '@pushtech/listings';
import { createPositionCoalescer } from './position-coalescer.ts';

const p = (n: number) => point(13 + n / 1000, 52);

describe('position coalescer', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  function coalescer(apply: (userId: string, location: Point) => Promise<void> = async () => {}) {
    const applied: string[] = [];
    let coalesced = 0;
    const c = createPositionCoalescer({
      minIntervalMs: 1_000,
      async apply(userId, location) {
        await apply(userId, location);
        applied.push(`${userId}@${location.coordinates[0]}`);
      },
      onCoalesced: () => { coalesced++; },
      retryDelayMs: () => 300,
    });
    return { c, applied, coalesced: () => coalesced };
  }

  it('applies a first position at once', async () => {
    const { c, applied } = coalescer();
    await c.offer('u', p(1));
    expect(applied).toEqual(['u@13.001']);
  });

  it('applies at most one position a second per user, the latest, when the second is up', async () => {
    const { c, applied, coalesced } = coalescer();
    const first = c.offer('u', p(1));
    await vi.advanceTimersByTimeAsync(0);
    const second = c.offer('u', p(2));
    await vi.advanceTimersByTimeAsync(200);
    const third = c.offer('u', p(3));
    await vi.advanceTimersByTimeAsync(700);
    expect(applied).toEqual(['u@13.001']);
    await vi.advanceTimersByTimeAsync(100);
    expect(applied).toEqual(['u@13.001', 'u@13.003']);
    expect(coalesced()).toBe(1);
    await Promise.all([first, second, third]); // the replaced position counts as applied with the newer one
  });

  it('keeps users apart', async () => {
    const { c, applied } = coalescer();
    await Promise.all([c.offer('u', p(1)), c.offer('v', p(2))]);
    expect(applied.sort()).toEqual(['u@13.001', 'v@13.002']);
  });

  it('retries a failed position, or the newer one that came meanwhile', async () => {
    let failures = 1;
    const { c, applied } = coalescer(async () => { if (failures-- > 0) throw new Error('kafka down'); });
    const done = c.offer('u', p(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(applied).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    await done;
    expect(applied).toEqual(['u@13.001']);
  });

  it('retries a failing position after 250 ms, doubling to at most 10 s (the default back-off)', async () => {
    const attempts: number[] = [];
    let failures = 8;
    const c = createPositionCoalescer({
      minIntervalMs: 0,
      async apply() {
        attempts.push(Date.now());
        if (failures-- > 0) throw new Error('kafka down');
      },
    });
    const done = c.offer('u', p(1));
    await vi.advanceTimersByTimeAsync(60_000);
    await done;
    expect(attempts.slice(1).map((at, i) => at - attempts[i]!)).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    c.close();
  });

  it('drain applies what waits, without waiting for the interval', async () => {
    const { c, applied } = coalescer();
    await c.offer('u', p(1));
    const waiting = c.offer('u', p(2));
    expect(c.pendingUsers()).toBe(1);
    await c.drain();
    await waiting;
    expect(applied).toEqual(['u@13.001', 'u@13.002']);
    expect(c.pendingUsers()).toBe(0);
  });
});
