import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Redis } from '@pushtech/redis';
import { freePort, stackAddresses, startPrivateRedis, uniqueName, waitFor } from '@pushtech/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSPARENT_GIF } from './beacon-reply.ts';
import { connectTestRedis, startTestTracker, type TestTracker } from './test-tracker.ts';

let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(() => {
  redis.disconnect();
});

describe('over a real socket', () => {
  let t: TestTracker;
  let base: string;
  beforeAll(async () => {
    t = await startTestTracker(redis, { CORS_ORIGINS: 'https://shop.example' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => t.close());

  it('a beacon, a sendBeacon-style POST and a batch reach the stream', async () => {
    const gif = await fetch(`${base}/t/page.view.gif?path=%2F&anonymousId=a-1`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(gif.status).toBe(200);
    expect(Buffer.from(await gif.arrayBuffer()).equals(TRANSPARENT_GIF)).toBe(true);

    const beacon = await fetch(`${base}/t/page.leave?userId=u-1`, {
      method: 'POST',
      body: JSON.stringify({ ms: 5300 }), // fetch sends a string as text/plain, like sendBeacon
      headers: { origin: 'https://shop.example' },
    });
    expect(beacon.status).toBe(204);
    expect(beacon.headers.get('access-control-allow-origin')).toBe('https://shop.example');

    const batch = await fetch(`${base}/t/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ type: 'click', data: { id: 'buy' } }, { type: 'Nope' }]),
    });
    expect(batch.status).toBe(200);
    const batchAnswer = await batch.json() as { ids: string[] };
    expect(batchAnswer).toEqual({ accepted: 1, ids: [expect.any(String)], rejected: [{ index: 1, field: 'type', rule: expect.any(String) }] });

    const events = await t.entries();
    expect(events.map((e) => [e.type, e.subject, e.data.context.ip])).toEqual([
      ['page.view', 'a-1', '127.0.0.1'], // X-Forwarded-For ignored: TRUST_PROXY is off
      ['page.leave', 'u-1', '127.0.0.1'],
      ['click', undefined, '127.0.0.1'],
    ]);
    expect(events[2]!.id).toBe(batchAnswer.ids[0]);
    expect(events[1]!.data).toMatchObject({ ms: 5300, context: { userAgent: expect.any(String), userId: 'u-1' } });
  });

  it('errors are JSON on the wire too', async () => {
    const res = await fetch(`${base}/t/page`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: 'invalid_request', errors: [{ field: 'body', rule: 'must be valid JSON' }] });
  });
});

describe('the tracker process (src/index.ts)', () => {
  const node = process.execPath;
  const entry = fileURLToPath(new URL('./index.ts', import.meta.url));

  it('a bad variable stops it with one line naming the variable and the rule (exit 78)', async () => {
    const child = spawn(node, [entry], { env: { ...process.env, PORT: 'eighty', TRUST_PROXY: 'maybe' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(stderr.trim().split('\n')).toEqual([
      'config: PORT must be an integer between 0 and 65535 (got "eighty")',
      expect.stringMatching(/^config: TRUST_PROXY must be false, true, a number of hops/),
    ]);
  });

  it('listens, stores events, and on SIGTERM closes and exits 0', async () => {
    const stream = uniqueName('test:tracker:');
    const port = await freePort();
    const child = spawn(node, [entry], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: stackAddresses().redisUrl, REDIS_STREAM: stream, TRACKER_ID: 'proc' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    try {
      await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 'the tracker to be ready', 15_000, 100);
      expect((await fetch(`http://127.0.0.1:${port}/t/started`)).status).toBe(204);
      const [[, fields]] = (await redis.xrange(stream, '-', '+')) as [[string, string[]]];
      expect(JSON.parse(fields[1]!)).toMatchObject({ source: 'tracker/proc', type: 'started' });

      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; service: string });
      expect(lines.every((line) => line.service === 'tracker')).toBe(true);
      expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
    } finally {
      child.kill('SIGKILL');
      await redis.del(stream);
    }
  });

  it('started while its Redis is away: listens, answers 503 unavailable and is unready; ready and storing once Redis is there', async () => {
    const server = await startPrivateRedis();
    await server.stop();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const stream = uniqueName('test:tracker:');
    const child = spawn(node, [entry], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: server.address, REDIS_STREAM: stream, LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    try {
      await waitFor(async () => ((await fetch(`${base}/healthz`).catch(() => undefined))?.ok ? true : undefined), 'the tracker listening', 15_000, 50);
      const unready = await fetch(`${base}/readyz`);
      expect(unready.status).toBe(503);
      expect((await unready.json() as { checks: { redis: string } }).checks.redis).toMatch(/^error/);
      const refused = await fetch(`${base}/t/page?n=1`);
      expect([refused.status, refused.headers.get('retry-after'), await refused.json()]).toEqual([503, '1', { error: 'unavailable', message: 'the event was not stored: retry later' }]);

      await server.start();
      await waitFor(async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 'the tracker ready', 15_000, 50);
      const stored = await fetch(`${base}/t/page?n=2`);
      expect(stored.status).toBe(204);
      const own = await connectTestRedis(server.address);
      const entries = await own.xrange(stream, '-', '+');
      own.disconnect();
      expect(entries.map(([, fields]) => (JSON.parse(fields[1]!) as { id: string }).id)).toEqual([stored.headers.get('x-event-id')]);
    } finally {
      child.kill('SIGKILL');
      await server.close();
    }
  });
});
