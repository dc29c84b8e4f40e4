import { UUID_V7, idTime } from '@pushtech/events';
import type { Redis } from '@pushtech/redis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { TRANSPARENT_GIF } from './beacon-reply.ts';
import { BATCH_MAX_BYTES, BATCH_MAX_EVENTS, EVENT_BODY_MAX_BYTES, EVENT_MAX_BYTES } from './event-rules.ts';
import { connectTestRedis, startTestTracker, type TestTracker } from './test-tracker.ts';

let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(() => {
  redis.disconnect();
});

async function tracker(env: Record<string, string> = {}): Promise<TestTracker> {
  const t = await startTestTracker(redis, env);
  onTestFinished(() => t.close());
  return t;
}

const TYPE_RULE = 'must match ^[a-z][a-z0-9_.-]{0,63}$';

/** Data whose JSON is exactly `bytes` long. */
function dataOfSize(bytes: number): Record<string, unknown> {
  return { s: 'x'.repeat(bytes - '{"s":""}'.length) };
}

function postJson(t: TestTracker, url: string, body: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });
}

describe('GET /t/:type (beacon)', () => {
  it('/t/w?wor=king: 204, and the stream holds the envelope', async () => {
    const t = await tracker();
    vi.useFakeTimers({ toFake: ['Date'] }); // the clock stands still while the tracker stamps the event
    const now = Date.now();
    const res = await t.app.inject({ url: '/t/w?wor=king', headers: { 'user-agent': 'test-agent/1.0' } }).finally(() => vi.useRealTimers());
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');

    const [event, ...others] = await t.entries();
    expect(others).toEqual([]);
    expect(res.headers['x-event-id']).toBe(event!.id);
    expect(event).toEqual({
      specversion: '1.0',
      id: expect.stringMatching(UUID_V7),
      source: 'tracker/test-1',
      type: 'w',
      time: expect.any(String),
      datacontenttype: 'application/json',
      data: { wor: 'king', context: { ip: '127.0.0.1', userAgent: 'test-agent/1.0' } },
    });
    expect(event!.time).toBe(new Date(now).toISOString());
    expect(idTime(event!.id)).toBe(now);
  });

  it('userId, anonymousId and time are taken out of data into the context; subject is the user id', async () => {
    const t = await tracker();
    const time = '2026-03-01T10:00:00.000+01:00';
    const res = await t.app.inject({ url: `/t/page.view?path=%2Fhome&userId=u-1&anonymousId=a-1&time=${encodeURIComponent(time)}` });
    expect(res.statusCode).toBe(204);
    const [event] = await t.entries();
    expect(event!.subject).toBe('u-1');
    expect(event!.data).toEqual({
      path: '/home',
      context: { ip: '127.0.0.1', userAgent: 'lightMyRequest', clientTime: time, userId: 'u-1', anonymousId: 'a-1' },
    });
  });

  it('subject is the anonymous id when there is no user id', async () => {
    const t = await tracker();
    await t.app.inject({ url: '/t/page.view?anonymousId=a-9' });
    const [event] = await t.entries();
    expect(event!.subject).toBe('a-9');
  });

  it('/t/:type.gif answers a 1×1 GIF; the type loses its .gif', async () => {
    const t = await tracker();
    const res = await t.app.inject({ url: '/t/page.view.gif?x=1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/gif');
    expect(res.rawPayload.equals(TRANSPARENT_GIF)).toBe(true);
    const [event] = await t.entries();
    expect(event!.type).toBe('page.view');
  });

  it('answers the GIF to a client that accepts only images, 204 to a browser that also accepts */*', async () => {
    const t = await tracker();
    const image = await t.app.inject({ url: '/t/open', headers: { accept: 'image/webp,image/*' } });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/gif');
    const browser = await t.app.inject({ url: '/t/open', headers: { accept: 'image/webp,image/*,*/*;q=0.8' } });
    expect(browser.statusCode).toBe(204);
    expect(await t.entries()).toHaveLength(2);
  });

  it('location: lng and lat become numbers', async () => {
    const t = await tracker();
    const res = await t.app.inject({ url: '/t/location?lng=13.405&lat=52.52&accuracy=12' });
    expect(res.statusCode).toBe(204);
    const [event] = await t.entries();
    expect(event!.data).toMatchObject({ lng: 13.405, lat: 52.52, accuracy: '12' });
  });

  it.each([
    ['lat=91&lng=0', 'data.lat', 'must be a number between -90 and 90'],
    ['lat=0&lng=-180.5', 'data.lng', 'must be a number between -180 and 180'],
    ['lat=0&lng=east', 'data.lng', 'must be a number between -180 and 180'],
    ['lat=0', 'data.lng', 'must be a number between -180 and 180'],
  ])('location %s: 400 naming %s; nothing written', async (query, field, rule) => {
    const t = await tracker();
    const res = await t.app.inject({ url: `/t/location?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_event', errors: [{ field, rule }] });
    expect(await t.entries()).toEqual([]);
  });

  it.each([[''], ['Page'], ['9lives'], [`a${'b'.repeat(64)}`], ['caf%C3%A9']])('type %s: 400 naming the rule; nothing written', async (type) => {
    const t = await tracker();
    const res = await t.app.inject({ url: `/t/${type}?a=1` });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ error: 'invalid_event', errors: [{ field: 'type', rule: TYPE_RULE }] });
    expect(await t.entries()).toEqual([]);
  });

  it('a type of 64 characters is accepted', async () => {
    const t = await tracker();
    expect((await t.app.inject({ url: `/t/a${'b'.repeat(63)}` })).statusCode).toBe(204);
  });

  it('a context parameter is reserved', async () => {
    const t = await tracker();
    const res = await t.app.inject({ url: '/t/page?context=x' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_event', errors: [{ field: 'data.context', rule: 'is reserved' }] });
    expect(await t.entries()).toEqual([]);
  });

  it('ids: 128 characters accepted, 129 rejected', async () => {
    const t = await tracker();
    expect((await t.app.inject({ url: `/t/page?userId=${'u'.repeat(128)}` })).statusCode).toBe(204);
    const long = await t.app.inject({ url: `/t/page?anonymousId=${'a'.repeat(129)}` });
    expect(long.statusCode).toBe(400);
    expect(long.json()).toEqual({ error: 'invalid_event', errors: [{ field: 'anonymousId', rule: 'must be a string of 1 to 128 characters' }] });
    expect(await t.entries()).toHaveLength(1);
  });

  it('time must be RFC 3339', async () => {
    const t = await tracker();
    const res = await t.app.inject({ url: '/t/page?time=yesterday' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_event', errors: [{ field: 'time', rule: 'must be an RFC 3339 timestamp' }] });
    expect(await t.entries()).toEqual([]);
  });
});

describe('POST /t/:type (JSON)', () => {
  it('application/json: the body is data', async () => {
    const t = await tracker();
    const res = await postJson(t, '/t/cart.add?userId=u-2', { sku: 'A-1', qty: 2, tags: ['x'] });
    expect(res.statusCode).toBe(204);
    const [event] = await t.entries();
    expect(event).toMatchObject({ type: 'cart.add', subject: 'u-2', data: { sku: 'A-1', qty: 2, tags: ['x'], context: { userId: 'u-2' } } });
  });

  it('text/plain holding JSON (what navigator.sendBeacon sends)', async () => {
    const t = await tracker();
    const res = await t.app.inject({
      method: 'POST',
      url: '/t/page.leave',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      payload: '{"path":"/a","ms":1200}',
    });
    expect(res.statusCode).toBe(204);
    const [event] = await t.entries();
    expect(event!.data).toMatchObject({ path: '/a', ms: 1200 });
  });

  it('no body and no content type: data is {}', async () => {
    const t = await tracker();
    expect((await t.app.inject({ method: 'POST', url: '/t/ping' })).statusCode).toBe(204);
    const [event] = await t.entries();
    expect(Object.keys(event!.data)).toEqual(['context']);
  });

  it.each([
    ['application/json', '{"a":'],
    ['text/plain', 'hello'],
  ])('%s that is not JSON: 400 naming the body', async (contentType, payload) => {
    const t = await tracker();
    const res = await t.app.inject({ method: 'POST', url: '/t/page', headers: { 'content-type': contentType }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: [{ field: 'body', rule: 'must be valid JSON' }] });
    expect(await t.entries()).toEqual([]);
  });

  it.each([[[1, 2]], [42], ['"text"'], [null]])('a body that is not a JSON object (%j): 400 naming data', async (body) => {
    const t = await tracker();
    const res = await postJson(t, '/t/page', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_event', errors: [{ field: 'data', rule: 'must be a JSON object' }] });
  });

  it('another content type: 415 as JSON', async () => {
    const t = await tracker();
    const res = await t.app.inject({ method: 'POST', url: '/t/page', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({
      error: 'unsupported_media_type',
      errors: [{ field: 'content-type', rule: 'must be application/json or text/plain (holding JSON)' }],
    });
  });

  it('a body with its own context is rejected', async () => {
    const t = await tracker();
    const res = await postJson(t, '/t/page', { context: { ip: '1.2.3.4' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'data.context', rule: 'is reserved' }]);
    expect(await t.entries()).toEqual([]);
  });

  it('query parameters other than the reserved ones are refused', async () => {
    const t = await tracker();
    const res = await postJson(t, '/t/page?page=home', { a: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'query.page', rule: expect.stringContaining('is not a known parameter') }]);
  });

  it(`data of ${EVENT_MAX_BYTES} bytes is accepted; one byte more is 413`, async () => {
    const t = await tracker();
    expect((await postJson(t, '/t/big', dataOfSize(EVENT_MAX_BYTES))).statusCode).toBe(204);
    const res = await postJson(t, '/t/big', dataOfSize(EVENT_MAX_BYTES + 1));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'event_too_large', errors: [{ field: 'data', rule: 'must be at most 32768 bytes as JSON' }] });
    expect(await t.entries()).toHaveLength(1);
  });

  it(`a body over ${EVENT_BODY_MAX_BYTES} bytes: Fastify's limit, answered 413 as JSON`, async () => {
    const t = await tracker();
    const res = await postJson(t, '/t/big', dataOfSize(EVENT_BODY_MAX_BYTES + 1));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: `must be at most ${EVENT_BODY_MAX_BYTES} bytes` }] });
    expect(await t.entries()).toEqual([]);
  });

  it('location with numbers is accepted; with strings rejected', async () => {
    const t = await tracker();
    expect((await postJson(t, '/t/location', { lng: -0.12, lat: 51.5 })).statusCode).toBe(204);
    const res = await postJson(t, '/t/location', { lng: '-0.12', lat: 51.5 });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'data.lng', rule: 'must be a number between -180 and 180' }]);
    expect((await t.entries()).map((e) => e.data.lng)).toEqual([-0.12]);
  });
});

describe('POST /t/batch', () => {
  it('accepts the valid events, lists the rejected ones by index with field and rule', async () => {
    const t = await tracker();
    const res = await postJson(t, '/t/batch', [
      { type: 'page.view', data: { path: '/' }, anonymousId: 'a-1', time: '2026-03-01T10:00:00Z' },
      { type: 'Bad', data: {} },
      { type: 'click', data: { id: 'buy' }, userId: 'u-1' },
      { type: 'page.view', data: { context: {} }, userId: 'u'.repeat(129) },
      { type: 'location', data: { lng: 13.4, lat: 52.5 }, userId: 'u-1' },
      { type: 'x', colour: 'red' },
      'not an event',
    ]);
    expect(res.statusCode).toBe(200);
    const events = await t.entries();
    expect(res.json()).toEqual({
      accepted: 3,
      ids: events.map((e) => e.id),
      rejected: [
        { index: 1, field: 'type', rule: TYPE_RULE },
        { index: 3, field: 'data.context', rule: 'is reserved' },
        { index: 3, field: 'userId', rule: 'must be a string of 1 to 128 characters' },
        { index: 5, field: 'colour', rule: 'is not a known field' },
        { index: 6, field: 'event', rule: 'must be a JSON object' },
      ],
    });
    expect(events.map((e) => [e.type, e.subject, e.data.context.clientTime])).toEqual([
      ['page.view', 'a-1', '2026-03-01T10:00:00Z'],
      ['click', 'u-1', undefined],
      ['location', 'u-1', undefined],
    ]);
    expect(events[0]!.data).toEqual({ path: '/', context: { ip: '127.0.0.1', userAgent: 'lightMyRequest', clientTime: '2026-03-01T10:00:00Z', anonymousId: 'a-1' } });
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('keeps the ids the client gave its events: a retried batch stores the same ids again, so consumers skip the copies', async () => {
    const t = await tracker();
    const ids = ['019d5e4a-7c31-7a2e-9b1f-3c5d7e9f1a2b', '019d5e4a-7c31-7a2f-8b1f-3c5d7e9f1a2c'];
    const batch = [{ id: ids[0], type: 'page.view' }, { type: 'click' }, { id: ids[1], type: 'click' }, { id: 'not-a-uuid', type: 'a' }];
    const first = await postJson(t, '/t/batch', batch);
    expect(first.json()).toMatchObject({ accepted: 3, rejected: [{ index: 3, field: 'id', rule: 'must be a lower-case UUIDv7' }] });
    const [a, made, b] = first.json().ids as string[];
    expect([a, b]).toEqual(ids);
    expect(made).toMatch(UUID_V7);
    await postJson(t, '/t/batch', [batch[0], batch[2]]);
    expect((await t.entries()).map((e) => e.id)).toEqual([...ids.slice(0, 1), made, ids[1], ...ids]);
  });

  it('an event over 32 KiB is rejected by index; the others are taken', async () => {
    const t = await tracker();
    const res = await postJson(t, '/t/batch', [{ type: 'a', data: dataOfSize(EVENT_MAX_BYTES + 1) }, { type: 'b' }]);
    expect(res.statusCode).toBe(200);
    const entries = await t.entries();
    expect(res.json()).toEqual({ accepted: 1, ids: [entries[0]!.id], rejected: [{ index: 0, field: 'data', rule: 'must be at most 32768 bytes as JSON' }] });
    expect(entries.map((e) => e.type)).toEqual(['b']);
  });

  it('no valid event: 400 with the list; nothing written', async () => {
    const t = await tracker();
    const res = await postJson(t, '/t/batch', [{ type: 'A' }, { type: 'b', time: 'now' }]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_batch',
      errors: [{ field: 'body', rule: 'must hold at least one valid event' }],
      accepted: 0,
      rejected: [
        { index: 0, field: 'type', rule: TYPE_RULE },
        { index: 1, field: 'time', rule: 'must be an RFC 3339 timestamp' },
      ],
    });
    expect(await t.entries()).toEqual([]);
  });

  it.each([
    ['an object', { type: 'a' }, 'must be a JSON array of events'],
    ['an empty array', [], 'must hold at least one event'],
  ])('a body that is %s: 400', async (_name, body, rule) => {
    const t = await tracker();
    const res = await postJson(t, '/t/batch', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_batch', errors: [{ field: 'body', rule }] });
  });

  it('bad JSON: 400 naming the body', async () => {
    const t = await tracker();
    const res = await t.app.inject({ method: 'POST', url: '/t/batch', headers: { 'content-type': 'application/json' }, payload: '[{"type":' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: [{ field: 'body', rule: 'must be valid JSON' }] });
  });

  it(`${BATCH_MAX_EVENTS} events are all written, in order, in one go`, async () => {
    const t = await tracker();
    const batch = Array.from({ length: BATCH_MAX_EVENTS }, (_, n) => ({ type: 'tick', data: { n } }));
    const res = await postJson(t, '/t/batch', batch);
    expect(res.statusCode).toBe(200);
    const events = await t.entries();
    expect(res.json()).toEqual({ accepted: BATCH_MAX_EVENTS, ids: events.map((e) => e.id), rejected: [] });
    expect(events.map((e) => e.data.n)).toEqual(batch.map((e) => e.data.n));
    expect([...events.map((e) => e.id)].sort()).toEqual(events.map((e) => e.id));
  });

  it(`${BATCH_MAX_EVENTS + 1} events: 413; nothing written`, async () => {
    const t = await tracker();
    const res = await postJson(t, '/t/batch', Array.from({ length: BATCH_MAX_EVENTS + 1 }, () => ({ type: 'tick' })));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'invalid_batch', errors: [{ field: 'body', rule: 'must hold at most 500 events' }] });
    expect(await t.entries()).toEqual([]);
  });

  it('a body over 1 MiB: 413 as JSON naming the rule; nothing written', async () => {
    const t = await tracker();
    const batch = Array.from({ length: 40 }, () => ({ type: 'a', data: dataOfSize(30_000) }));
    expect(JSON.stringify(batch).length).toBeGreaterThan(BATCH_MAX_BYTES);
    const res = await postJson(t, '/t/batch', batch);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'body_too_large', errors: [{ field: 'body', rule: 'must be at most 1048576 bytes' }] });
    expect(await t.entries()).toEqual([]);
  });
});

describe('errors', () => {
  it('a malformed URL: 400 as JSON', async () => {
    const t = await tracker();
    const res = await t.app.inject({ url: '/t/%zz' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: [{ field: 'path', rule: expect.stringContaining('must be a valid URL') }] });
  });

  it('HEAD stores nothing (link checkers, crawlers): 405, no HEAD in Allow', async () => {
    const t = await tracker();
    const res = await t.app.inject({ method: 'HEAD', url: '/t/page?a=1' });
    expect([res.statusCode, res.headers.allow]).toEqual([405, 'GET, POST']);
    expect(await t.entries()).toEqual([]);
  });

  it.each([['/nope'], ['/t'], ['/t/page/more']])('GET %s: 404 as JSON, listing the routes', async (url) => {
    const t = await tracker();
    const res = await t.app.inject({ url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: 'not_found',
      errors: [{ field: 'path', rule: `no route GET ${url}; the routes are GET /healthz, GET /readyz, GET /metrics, GET /t/:type, POST /t/:type, POST /t/batch` }],
    });
  });

  it.each([
    ['DELETE', '/t/page', 'GET, POST'],
    ['PUT', '/t/batch', 'GET, POST'],
    ['POST', '/metrics', 'GET'],
  ] as const)('%s %s: 405 as JSON, Allow: %s', async (method, url, allow) => {
    const t = await tracker();
    const res = await t.app.inject({ method, url });
    expect([res.statusCode, res.headers.allow]).toEqual([405, allow]);
    expect(res.json()).toEqual({ error: 'method_not_allowed', errors: [{ field: 'method', rule: `must be one of ${allow}` }] });
  });
});

describe('CORS', () => {
  it('preflight from an allowed origin is answered; the origin is echoed', async () => {
    const t = await tracker({ CORS_ORIGINS: 'https://shop.example,https://www.shop.example' });
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/t/page',
      headers: { origin: 'https://www.shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://www.shop.example');
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, POST');

    const post = await postJson(t, '/t/page', { a: 1 }, { origin: 'https://shop.example' });
    expect(post.statusCode).toBe(204);
    expect(post.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(post.headers.vary).toMatch(/Origin/);
    // A page (the tracker SDK) reads Retry-After of a 503 and the event id only when they are exposed.
    expect(post.headers['access-control-expose-headers']).toBe('Retry-After, X-Event-Id');
  });

  it('another origin gets no Access-Control-Allow-Origin', async () => {
    const t = await tracker({ CORS_ORIGINS: 'https://shop.example' });
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/t/page',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const get = await t.app.inject({ url: '/t/page', headers: { origin: 'https://evil.example' } });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CORS_ORIGINS empty: no cross-origin access at all', async () => {
    const t = await tracker();
    const get = await t.app.inject({ url: '/t/page', headers: { origin: 'https://shop.example' } });
    expect(get.statusCode).toBe(204);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/t/page', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(405);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('with CORS an unknown path is still a 404', async () => {
    const t = await tracker({ CORS_ORIGINS: 'https://shop.example' });
    expect((await t.app.inject({ url: '/nope' })).statusCode).toBe(404);
  });
});

describe('client IP and TRUST_PROXY', () => {
  // inject() connects from 127.0.0.1.
  const forwarded = { 'x-forwarded-for': '203.0.113.7, 198.51.100.2' };

  it.each([
    ['unset', {}, '127.0.0.1'],
    ['false', { TRUST_PROXY: 'false' }, '127.0.0.1'],
    ['true', { TRUST_PROXY: 'true' }, '203.0.113.7'],
    ['1 hop', { TRUST_PROXY: '1' }, '198.51.100.2'],
    ['2 hops', { TRUST_PROXY: '2' }, '203.0.113.7'],
    ['a list holding the peer', { TRUST_PROXY: '127.0.0.1,198.51.100.0/24' }, '203.0.113.7'],
    ['a list without the peer', { TRUST_PROXY: '10.0.0.1' }, '127.0.0.1'],
  ])('TRUST_PROXY %s', async (_name, env, ip) => {
    const t = await tracker(env);
    expect((await t.app.inject({ url: '/t/page', headers: forwarded })).statusCode).toBe(204);
    const [event] = await t.entries();
    expect(event!.data.context.ip).toBe(ip);
  });
});

describe('health and metrics', () => {
  it('/readyz checks Redis and room in the stream; /metrics counts accepted and rejected events and XADD latency', async () => {
    const t = await tracker();
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', checks: { redis: 'ok', started: 'ok', stream: 'ok' } });
    await t.app.inject({ url: '/t/a' });
    await postJson(t, '/t/batch', [{ type: 'b' }, { type: 'C' }]);
    await t.app.inject({ url: '/t/location?lat=100&lng=0' });
    await t.app.inject({ method: 'POST', url: '/t/page', headers: { 'content-type': 'application/json' }, payload: '{' });
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('tracker_events_accepted_total{form="beacon",service="tracker"} 1');
    expect(metrics).toContain('tracker_events_accepted_total{form="batch",service="tracker"} 1');
    expect(metrics).toContain('tracker_events_rejected_total{reason="invalid_type",service="tracker"} 1');
    expect(metrics).toContain('tracker_events_rejected_total{reason="invalid_location",service="tracker"} 1');
    expect(metrics).toContain('tracker_events_rejected_total{reason="invalid_body",service="tracker"} 1');
    expect(metrics).toContain('tracker_xadd_duration_seconds_count{service="tracker"} 2');
  });
});
