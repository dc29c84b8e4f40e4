import { setTimeout as sleep } from 'node:timers/promises';
import { STREAM_FIELD } from '@pushtech/contracts';
import type { Redis } from '@pushtech/redis';
import { pendingAfter, startPrivateRedis, waitFor, type PrivateServer } from '@pushtech/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_AFTER_FULL_S, RETRY_AFTER_UNAVAILABLE_S } from './http-errors.ts';
import { connectTestRedis, startTestTracker, type TestTracker } from './test-tracker.ts';
import { REDIS_COMMAND_TIMEOUT_MS, STREAM_LENGTH_TTL_MS } from './tracker-stream.ts';

const batchOfTwo = { method: 'POST', url: '/t/batch', headers: { 'content-type': 'application/json' }, payload: '[{"type":"a"},{"type":"b"}]' } as const;

/** A tracker that cannot store is unready (the load balancer sends its traffic elsewhere), not dead (no restart). */
async function expectOutOfRotation(t: TestTracker, why: RegExp): Promise<void> {
  const ready = await t.app.inject({ url: '/readyz' });
  expect(ready.statusCode).toBe(503);
  expect(ready.json().checks).toEqual({ redis: 'ok', started: 'ok', stream: expect.stringMatching(why) });
  expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
}

describe('high-water mark', () => {
  let redis: Redis;
  let t: TestTracker;
  beforeAll(async () => {
    redis = await connectTestRedis();
    t = await startTestTracker(redis, { STREAM_HIGH_WATER_MARK: '3' });
  });
  afterAll(async () => {
    await t.close();
    redis.disconnect();
  });

  it('over the mark: 503 with Retry-After and nothing written; below it again: accepted', async () => {
    for (let n = 0; n < 3; n++) await redis.xadd(t.stream, '*', STREAM_FIELD, '{}');
    // The readiness check reads XLEN afresh (requests trust a read up to STREAM_LENGTH_TTL_MS old).
    await expectOutOfRotation(t, /high-water mark of 3/);

    const full = await t.app.inject({ url: '/t/page' });
    expect(full.statusCode).toBe(503);
    expect(full.headers['retry-after']).toBe(String(RETRY_AFTER_FULL_S));
    expect(full.json()).toEqual({ error: 'busy', message: expect.stringContaining('high-water mark of 3') });
    expect((await t.app.inject(batchOfTwo)).statusCode).toBe(503);
    expect(await redis.xlen(t.stream)).toBe(3);

    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('tracker_unavailable_total{reason="stream_full",service="tracker"} 2');
    expect(metrics).toContain('tracker_stream_length{service="tracker"} 3');

    // The consumer drains the stream; the tracker sees it within the XLEN cache period, its readiness check at once.
    await redis.xtrim(t.stream, 'MAXLEN', 0);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    await sleep(STREAM_LENGTH_TTL_MS + 50);
    expect((await t.app.inject({ url: '/t/page' })).statusCode).toBe(204);
    expect((await t.app.inject(batchOfTwo)).statusCode).toBe(200);
    expect(await redis.xlen(t.stream)).toBe(3);
  });
});

/** A tracker on a Redis of its own, which a test may stop, pause or fill. */
async function trackerOnPrivateRedis(): Promise<{ server: PrivateServer; redis: Redis; t: TestTracker }> {
  const server = await startPrivateRedis();
  const redis = await connectTestRedis(server.address);
  return { server, redis, t: await startTestTracker(redis, { REDIS_URL: server.address }) };
}

async function closeAll(server: PrivateServer, redis: Redis, t: TestTracker): Promise<void> {
  await t.service.stop();
  redis.disconnect();
  await server.close();
}

describe('Redis down', () => {
  let server: PrivateServer;
  let redis: Redis;
  let t: TestTracker;
  beforeAll(async () => ({ server, redis, t } = await trackerOnPrivateRedis()));
  afterAll(() => closeAll(server, redis, t));

  async function unavailableAnswers(): Promise<number> {
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    const line = /^tracker_unavailable_total\{reason="redis_unavailable",service="tracker"\} (\d+)$/m.exec(metrics);
    return Number(line?.[1] ?? 0);
  }

  it('a Redis that hangs: 503 after the 1 s command timeout, not a hanging request', async () => {
    expect((await t.app.inject({ url: '/t/page' })).statusCode).toBe(204);
    const admin = await connectTestRedis(server.address);
    try {
      // Paused far past the timeout: had the tracker waited for Redis, it would answer 204.
      await admin.call('CLIENT', 'PAUSE', String(REDIS_COMMAND_TIMEOUT_MS + 4_000), 'ALL');
      const answer = t.app.inject({ url: '/t/page?hung=1' });
      expect(await pendingAfter(answer, REDIS_COMMAND_TIMEOUT_MS)).toBe(true); // not answered before the timeout
      expect((await answer).statusCode).toBe(503);
    } finally {
      admin.disconnect();
    }
    await waitFor(async () => ((await t.app.inject({ url: '/t/page' })).statusCode === 204 ? true : undefined), 'a 204 after the pause', 10_000, 100);
  });

  it('answers 503 (never 204) at once while Redis is down, and 204 again once it is back', async () => {
    expect((await t.app.inject({ url: '/t/page?n=0' })).statusCode).toBe(204);
    const answersBefore = await unavailableAnswers();
    await server.stop({ signal: 'SIGKILL' });

    for (const request of [{ url: '/t/page?n=1' }, { url: '/t/page.gif?n=2' }, batchOfTwo, { url: '/t/page?n=3' }]) {
      const answer = t.app.inject(request);
      expect(await pendingAfter(answer, REDIS_COMMAND_TIMEOUT_MS)).toBe(false); // answered before a command could time out
      const res = await answer;
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe(String(RETRY_AFTER_UNAVAILABLE_S));
      expect(res.json()).toEqual({ error: 'unavailable', message: 'the event was not stored: retry later' });
    }
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.redis).toMatch(/^error/);
    expect((await unavailableAnswers()) - answersBefore).toBe(4);

    await server.start();
    await waitFor(async () => ((await t.app.inject({ url: '/t/page?n=4' })).statusCode === 204 ? true : undefined), 'a 204 after Redis came back', 10_000, 100);
    // Nothing answered 503 was written; what was answered 204 after the restart is there.
    const stored = (await t.entries()).map((e) => e.data.n).filter((n) => n !== undefined);
    expect(stored.filter((n) => n === '1' || n === '2' || n === '3')).toEqual([]);
    expect(stored).toContain('4');
    expect((await t.entries()).filter((e) => e.type === 'a' || e.type === 'b')).toEqual([]);
  });
});

describe('Redis out of memory (maxmemory with noeviction, as deployed)', () => {
  let server: PrivateServer;
  let redis: Redis;
  let t: TestTracker;
  beforeAll(async () => ({ server, redis, t } = await trackerOnPrivateRedis()));
  afterAll(() => closeAll(server, redis, t));

  it('answers 503 while Redis refuses writes, stores every event it answered 204 and none it refused, and takes events again once the stream is drained', async () => {
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    const used = Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))![1]);
    await redis.config('SET', 'maxmemory', String(used + 256 * 1024));

    const accepted: string[] = [];
    const padding = 'x'.repeat(400);
    let refused = 0;
    // ~600 bytes an entry: the 256 KiB are gone after a few hundred events.
    for (let n = 0; n < 5_000 && refused < 20; n++) {
      const res = await t.app.inject({ url: `/t/page?n=${n}&padding=${padding}` });
      if (res.statusCode === 204) accepted.push(res.headers['x-event-id'] as string);
      else {
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({ error: 'unavailable', message: 'the event was not stored: retry later' });
        refused++;
      }
    }
    expect(refused).toBe(20);
    expect(accepted.length).toBeGreaterThan(100);
    const batch = await t.app.inject(batchOfTwo);
    expect(batch.statusCode).toBe(503);
    await expectOutOfRotation(t, /^error: OOM /);

    expect((await t.entries()).map((e) => e.id)).toEqual(accepted);

    // The kafkastore drains the stream: memory is free again.
    await redis.xtrim(t.stream, 'MAXLEN', 0);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/t/page?after=1' })).statusCode).toBe(204);
    expect((await t.app.inject(batchOfTwo)).statusCode).toBe(200);
    expect((await t.entries()).map((e) => e.type)).toEqual(['page', 'a', 'b']);
  });
});
