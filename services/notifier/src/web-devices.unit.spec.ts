import { describe, expect, it } from 'vitest';
import { batchedWebDevices, type WebDevice, type WebDevices } from './web-devices.ts';

const device = (userId: string): WebDevice => ({ userId, subscriptionId: `wp-${userId}`, webPush: { endpoint: `https://p.example/${userId}`, keys: { p256dh: 'p', auth: 'a' } } });

function counting(fail = false): WebDevices & { queries: string[][] } {
  const queries: string[][] = [];
  return {
    queries,
    async of(userIds) {
      queries.push(userIds);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw new Error('mongo away');
      return userIds.filter((u) => u !== 'nobody').map(device);
    },
    remove: async () => {},
  };
}

describe('batchedWebDevices', () => {
  it('lookups asked together make one query; each caller gets its own users\' devices', async () => {
    const inner = counting();
    const devices = batchedWebDevices(inner);
    const [a, b, c] = await Promise.all([devices.of(['ann']), devices.of(['bob', 'nobody']), devices.of(['ann', 'carl'])]);
    expect(inner.queries).toEqual([['ann', 'bob', 'nobody', 'carl']]);
    expect(a).toEqual([device('ann')]);
    expect(b).toEqual([device('bob')]);
    expect(c).toEqual([device('ann'), device('carl')]);
  });

  it('what is asked while a query is out goes in the next one; at most maxUsers users a query', async () => {
    const inner = counting();
    const devices = batchedWebDevices(inner, 2);
    const first = devices.of(['u1']);
    await new Promise((resolve) => setImmediate(resolve)); // the first query is out
    const rest = [devices.of(['u2']), devices.of(['u3']), devices.of(['u4'])];
    await Promise.all([first, ...rest]);
    expect(inner.queries).toEqual([['u1'], ['u2', 'u3'], ['u4']]);
  });

  it('a failed query fails its callers only; the next lookups go on', async () => {
    const inner = counting(true);
    const devices = batchedWebDevices(inner);
    await expect(devices.of(['ann'])).rejects.toThrow('mongo away');
    const ok = batchedWebDevices(counting());
    expect(await ok.of(['bob'])).toEqual([device('bob')]);
  });
});
