import { describe, expect, it } from 'vitest';
import { uniqueName, uniqueNameTime } from './index.ts';

describe('uniqueNameTime', () => {
  it('finds when a uniqueName was made, alone or inside a longer name', () => {
    const before = Date.now();
    for (const name of [uniqueName('busy'), `${uniqueName('notify')}.results`, `kafidx.${uniqueName('t')}`, uniqueName('')]) {
      const ms = uniqueNameTime(name);
      expect(ms, name).toBeGreaterThanOrEqual(before);
      expect(ms, name).toBeLessThanOrEqual(Date.now());
    }
  });

  it('is undefined for the names services declare, so the cleanup never touches them', () => {
    for (const name of ['events', 'events.dlq', 'listings', 'matches', 'users', 'notify.requests', 'notify.results.bridge', 'pushtech.warm-up', '__consumer_offsets', 'deadbeefcafe1234']) {
      expect(uniqueNameTime(name), name).toBeUndefined();
    }
  });
});
