// The tracker's coalesced XADDs on the local Redis: the single events of one
// event-loop turn go out in one pipeline, each stored once and in order, and a
// Redis that is gone fails every call of the turn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_FIELD } from '@pushtech/events';
import { createRedis, type Redis } from '@pushtech/redis';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { coalescedXadd } from './tracker-stream.ts';

let redis: Redis;

beforeAll(async () => {
  redis = createRedis(stackAddresses().redisUrl, { connectionName: 'coalesced-xadd-test' });
  await redis.ping();
});

afterAll(() => {
  redis.disconnect();
});

describe('coalesced XADD', () => {
  it('the calls of one turn are one pipeline; every entry is stored once, in call order', async () => {
    const stream = uniqueName('test:coalesced:');
    const flushes: number[] = [];
    const xadd = coalescedXadd(redis, stream, (entries) => flushes.push(entries));
    await Promise.all(Array.from({ length: 50 }, (_, i) => xadd(`entry-${i}`)));
    await xadd('next turn');
    expect(flushes).toEqual([50, 1]);
    const stored = (await redis.xrange(stream, '-', '+')).map(([, fields]) => fields);
    expect(stored).toEqual([...Array.from({ length: 50 }, (_, i) => [STREAM_FIELD, `entry-${i}`]), [STREAM_FIELD, 'next turn']]);
    await redis.del(stream);
  });

  it('a Redis client that is closed fails every call of the turn', async () => {
    const closed = createRedis(stackAddresses().redisUrl, { connectionName: 'coalesced-xadd-closed', enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    await new Promise((resolve) => closed.once('ready', resolve));
    closed.disconnect();
    const xadd = coalescedXadd(closed, uniqueName('test:coalesced:'));
    const results = await Promise.allSettled([xadd('a'), xadd('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
