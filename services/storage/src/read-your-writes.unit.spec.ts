import { describe, expect, it, vi } from 'vitest';
import { awaitProjection, createAppliedSignal, type AppliedSignal, type Projected } from './read-your-writes.ts';

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

  it('timeout: not there after timeoutMs, read every pollMs, never waiting past the deadline', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const p = projection(null);
      // A signal that never fires: each wait moves the (fake) clock on by the time it was asked to wait.
      const waits: number[] = [];
      const quiet: AppliedSignal = { notify() {}, async next(_key, ms) { waits.push(ms); vi.setSystemTime(Date.now() + ms); } };
      expect(await awaitProjection('l1', 1, 'e1', { readVersion: p.readVersion, signal: quiet, timeoutMs: 120, pollMs: 50 })).toBe('timeout');
      expect(waits).toEqual([50, 50, 20]);
      expect(p.reads()).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the projector\'s signal wakes the waiter before the next poll', async () => {
    const p = projection(null);
    const signal = createAppliedSignal();
    let outcome: Projected | undefined;
    const waiting = awaitProjection('l1', 1, 'e1', { readVersion: p.readVersion, signal, timeoutMs: 3_600_000, pollMs: 3_600_000 })
      .then((o) => { outcome = o; });
    await new Promise(setImmediate); // first read done: waiting for the signal, or an hour
    expect(p.reads()).toBe(1);
    p.set({ version: 1, eventIds: ['e1'] });
    signal.notify(['other', 'l1']);
    await new Promise(setImmediate); // the marker: what the notification set off has run, and no timer has
    expect(outcome).toBe('applied');
    expect(p.reads()).toBe(2);
    await waiting;
  });
});
