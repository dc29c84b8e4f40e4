import { describe, expect, it, vi } from 'vitest';
import { uniqueName, uniqueNameOrigin, uniqueNameTime } from './index.ts';

describe('uniqueNameTime', () => {
  it('finds when a uniqueName was made, alone or inside a longer name', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const made = Date.UTC(2026, 5, 1, 12, 30, 15, 250);
      vi.setSystemTime(made);
      for (const name of [uniqueName('busy'), `${uniqueName('notify')}.results`, `kafidx.${uniqueName('t')}`, uniqueName('')]) {
        expect(uniqueNameTime(name), name).toBe(made);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it('is undefined for the names services declare, so the cleanup never touches them', () => {
    for (const name of ['events', 'events.dlq', 'listings', 'matches', 'users', 'notify.requests', 'notify.results.bridge', 'pushtech.warm-up', '__consumer_offsets', 'deadbeefcafe1234']) {
      expect(uniqueNameTime(name), name).toBeUndefined();
    }
  });

  it('carries the run tag the global setup gives the run, so a cleanup tells its run\'s names from another run\'s', () => {
    const names = [uniqueName('a'), `${uniqueName('b')}.results`];
    const runs = new Set(names.map((name) => uniqueNameOrigin(name)?.run));
    expect(runs.size).toBe(1);
    const [run] = runs;
    expect(run).toMatch(/^[0-9a-f]{2}$/);
    if (process.env.PUSHTECH_TEST_RUN !== undefined) expect(run).toBe(process.env.PUSHTECH_TEST_RUN);
  });
});
