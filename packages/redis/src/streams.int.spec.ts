import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { createRedis, pingRedis, type Redis } from './index.ts';

let redis: Redis;
const stream = uniqueName('test:stream:');
const group = 'kafkastore';

type StreamReply = [string, [string, string[]][]][] | null;

beforeAll(async () => {
  redis = createRedis(stackAddresses().redisUrl, { connectionName: 'streams-test' });
  await pingRedis(redis);
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
});
afterAll(async () => {
  await redis.del(stream);
  redis.disconnect();
});

describe('redis streams', () => {
  it('XADD, XREADGROUP, XACK; an entry left pending by a dead consumer is taken over with XAUTOCLAIM', async () => {
    const first = await redis.xadd(stream, '*', 'event', '{"n":1}');
    const second = await redis.xadd(stream, '*', 'event', '{"n":2}');
    expect(first! < second!).toBe(true);

    // Consumer "a" reads both, acknowledges the first, then dies holding the second.
    const read = (await redis.xreadgroup('GROUP', group, 'a', 'COUNT', 10, 'STREAMS', stream, '>')) as StreamReply;
    const entries = read![0]![1];
    expect(entries.map(([id, fields]) => [id, fields])).toEqual([[first, ['event', '{"n":1}']], [second, ['event', '{"n":2}']]]);
    expect(await redis.xack(stream, group, first!)).toBe(1);

    const pending = (await redis.xpending(stream, group)) as [number, string, string, [string, string][]];
    expect(pending[0]).toBe(1);
    expect(pending[3]).toEqual([['a', '1']]);

    // Not idle long enough: nothing to claim yet.
    const tooSoon = (await redis.xautoclaim(stream, group, 'b', 60_000, '0-0', 'COUNT', 10)) as [string, [string, string[]][], string[]];
    expect(tooSoon[1]).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 120));
    const [cursor, claimed] = (await redis.xautoclaim(stream, group, 'b', 100, '0-0', 'COUNT', 10)) as [string, [string, string[]][], string[]];
    expect(cursor).toBe('0-0');
    expect(claimed).toEqual([[second, ['event', '{"n":2}']]]);

    // "b" owns it now; its delivery count went up; acknowledging it empties the pending list.
    const detail = (await redis.xpending(stream, group, '-', '+', 10)) as [string, string, number, number][];
    expect(detail).toEqual([[second, 'b', expect.any(Number), 2]]);
    expect(await redis.xack(stream, group, second!)).toBe(1);
    expect(((await redis.xpending(stream, group)) as [number])[0]).toBe(0);
  });
});
