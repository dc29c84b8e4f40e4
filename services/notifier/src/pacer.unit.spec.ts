import { describe, expect, it } from 'vitest';
import { createPacer } from './pacer.ts';

/** A pacer on a fake clock: waiting moves the clock. */
function fakeClock(perSecond: number) {
  let now = 1_000_000;
  const waits: number[] = [];
  const pacer = createPacer({
    perSecond,
    now: () => now,
    wait: async (ms) => { waits.push(ms); now += ms; },
  });
  return { pacer, waits, advance: (ms: number) => { now += ms; }, now: () => now };
}

describe('pacer', () => {
  it('spaces sends 1000 / perSecond ms apart', async () => {
    const { pacer, waits } = fakeClock(10);
    const waited = [];
    for (let i = 0; i < 5; i++) waited.push(await pacer.take());
    expect(waited).toEqual([0, 100, 100, 100, 100]);
    expect(waits).toEqual([100, 100, 100, 100]);
  });

  it('does not save up slots in a quiet spell (no burst afterwards)', async () => {
    const { pacer, advance } = fakeClock(10);
    await pacer.take();
    advance(5_000);
    expect(await pacer.take()).toBe(0);
    expect(await pacer.take()).toBe(100);
  });

  it('0 per second is no limit', async () => {
    const { pacer, waits } = fakeClock(0);
    for (let i = 0; i < 100; i++) expect(await pacer.take()).toBe(0);
    expect(waits).toEqual([]);
  });

  it('holds every send until a Retry-After passed, with or without a limit', async () => {
    for (const perSecond of [0, 10]) {
      const { pacer, now } = fakeClock(perSecond);
      pacer.holdUntil(now() + 3_000);
      expect(pacer.heldUntil()).toBe(now() + 3_000);
      expect(await pacer.take()).toBe(3_000);
      expect(pacer.heldUntil()).toBeUndefined();
      expect(await pacer.take()).toBe(perSecond ? 100 : 0);
    }
  });
});
