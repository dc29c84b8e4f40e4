import { describe, expect, it } from 'vitest';
import { awaitProjection, createAppliedSignal } from './read-your-writes.ts';

type Seen = { version: number; eventIds: string[] } | null;

function projection(initial: Seen) {
  let seen = initial;
  let reads = 0;
  return {
    set: (next: Seen) => { seen = next; },
    reads: () => reads,
    readVersion: async () => { reads++; return seen; },
  };
}

describe('awaitProjection', () => {
  it('applied: the version is there, from our event', async () => {
    const p = projection({ version: 3, eventIds: ['e2', 'e3'] });
    expect(await awaitProjection('l1', 3, 'e3', { readVersion: p.readVersion, signal: createAppliedSignal(), timeoutMs: 100 })).toBe('applied');
  });

  it('applied: a newer version that still remembers our event', async () => {
    const p = projection({ version: 5, eventIds: ['e3', 'e4', 'e5'] });
    expect(await awaitProjection('l1', 3, 'e3', { readVersion: p.readVersion, signal: createAppliedSignal(), timeoutMs: 100 })).toBe('applied');
  });

  it('conflict: the version was taken by another event', async () => {
    const p = projection({ version: 3, eventIds: ['e2', 'other'] });
    expect(await awaitProjection('l1', 3, 'e3', { readVersion: p.readVersion, signal: createAppliedSignal(), timeoutMs: 100 })).toBe('conflict');
  });

  it('timeout: not there in time', async () => {
    const p = projection(null);
    const started = Date.now();
    expect(await awaitProjection('l1', 1, 'e1', { readVersion: p.readVersion, signal: createAppliedSignal(), timeoutMs: 120, pollMs: 20 })).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    expect(p.reads()).toBeGreaterThan(3);
  });

  it('the projector\'s signal wakes the waiter before the next poll', async () => {
    const p = projection(null);
    const signal = createAppliedSignal();
    const started = Date.now();
    const waiting = awaitProjection('l1', 1, 'e1', { readVersion: p.readVersion, signal, timeoutMs: 5_000, pollMs: 2_000 });
    setTimeout(() => {
      p.set({ version: 1, eventIds: ['e1'] });
      signal.notify(['other', 'l1']);
    }, 30);
    expect(await waiting).toBe('applied');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
