// The notifier's core with a fake OneSignal and in-memory stores: order, counts
// and the scheduled delays — never wall-clock time.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@pushtech/testing';
import { createFakeSender } from './fixtures/fake-sender.ts';
import { captureLogger, connectRequest, pushRequest } from './fixtures/requests.ts';
import { createNotifierMetrics } from './metrics.ts';
import { createNotifier, type Notifier, type NotifierEvent, type NotifierOptions, type WebPushChannel } from './notifier.ts';
import type { Answer } from './outcome.ts';
import { createMemoryResponder } from './responder.ts';
import { createMemoryStores } from './retry-store.ts';
import type { WebDevice } from './web-devices.ts';

const running: Notifier[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

type Stores = ReturnType<typeof createMemoryStores>;

async function harness(overrides: Partial<NotifierOptions> = {}, stores: Stores = createMemoryStores()) {
  const sender = createFakeSender();
  const responder = createMemoryResponder();
  const { logger, lines } = captureLogger();
  const events: NotifierEvent[] = [];
  const registry = new Registry();
  const notifier = createNotifier({
    sender, responder, logger, retries: stores.retries, versions: stores.versions,
    metrics: createNotifierMetrics(registry),
    policy: { baseMs: 4, maxMs: 40, maxAttempts: 10, maxAgeMs: 60_000 },
    rateLimitPerS: 0, concurrency: 4, queueMax: 10_000,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  running.push(notifier);
  await notifier.start();
  const acked = new Set<string>();
  const take = (request: { uuid?: string }) => notifier.take(JSON.stringify(request), () => acked.add(request.uuid ?? '(none)'));
  const responses = () => responder.sent.map((s) => s.response);
  const responseFor = (uuid: string) => waitFor(() => responder.sent.find((s) => s.response.uuid === uuid)?.response, `a response for ${uuid}`, 10_000, 2);
  const sentTo = () => sender.calls.map((c) => c.include_aliases!.external_id[0]!);
  return { notifier, sender, responder, lines, events, registry, stores, acked, take, responses, responseFor, sentTo };
}

describe('fair share', () => {
  it('1,000 from producer A, then one from B: B is sent within the next few sends (rate limit on)', async () => {
    const h = await harness({ rateLimitPerS: 1_000, concurrency: 1 });
    const a = Array.from({ length: 1_000 }, (_, i) => pushRequest({ responseTopic: 'notify.results.a', userIds: [`a${i}`] }));
    const b = pushRequest({ responseTopic: 'notify.results.b', userIds: ['b0'] });
    let answered = 0;
    h.events.push = function (...events: NotifierEvent[]) {
      for (const e of events) if (e.kind === 'answered' && ++answered === 3) h.take(b);
      return Array.prototype.push.apply(this, events);
    };
    for (const r of a) h.take(r);
    await h.responseFor(b.uuid);
    const order = h.sentTo();
    expect(order.indexOf('b0')).toBeGreaterThanOrEqual(3);
    expect(order.indexOf('b0')).toBeLessThanOrEqual(4);
    expect(order.filter((u) => u.startsWith('a')).slice(0, 3)).toEqual(['a0', 'a1', 'a2']);
  });

  it('producers without a response topic share one queue of their own', async () => {
    const h = await harness({ concurrency: 1 });
    h.sender.hold();
    for (let i = 0; i < 3; i++) h.take(pushRequest({ responseTopic: null, userIds: [`n${i}`] }));
    for (let i = 0; i < 3; i++) h.take(pushRequest({ responseTopic: 'notify.results.x', userIds: [`x${i}`] }));
    h.sender.release();
    await waitFor(() => (h.sender.calls.length === 6 ? true : undefined), 'six sends');
    h.sender.release();
    expect(h.sentTo()).toEqual(['n0', 'x0', 'n1', 'x1', 'n2', 'x2']);
  });
});

describe('retries', () => {
  it('5xx with retry: tried again with growing delays until it succeeds', async () => {
    const h = await harness({ policy: { baseMs: 4, maxMs: 64, maxAttempts: 10, maxAgeMs: 60_000 } });
    const request = pushRequest({ style: { '5xx': { operation: 'retry' }, '2xx': { operation: 'success' } } });
    h.sender.script('user-1', [500, 502, 503, 500, 500]);
    h.take(request);
    const response = await h.responseFor(request.uuid);
    expect(response.type).toBe('success');
    const retries = h.events.filter((e) => e.kind === 'retry');
    expect(retries.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries.map((e) => e.status)).toEqual([500, 502, 503, 500, 500]);
    const delays = retries.map((e) => e.delayMs);
    delays.forEach((d, i) => {
      const step = Math.min(64, 4 * 2 ** i);
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
      if (i > 0) expect(d).toBeGreaterThanOrEqual(delays[i - 1]!);
    });
    expect(h.sender.calls).toHaveLength(6);
    expect(h.stores.retries.entries.size).toBe(0); // deleted on completion
    expect(h.acked.has(request.uuid)).toBe(true);
  });

  it('429 and 401 are retried until success, even when 4xx says failure', async () => {
    const h = await harness();
    const style = { '4xx': { operation: 'failure' }, '2xx': { operation: 'success' } } as const;
    const limited = pushRequest({ userIds: ['u429'], style });
    const unauthorized = pushRequest({ userIds: ['u401'], style });
    h.sender.script('u429', [429, 429, 429]);
    h.sender.script('u401', [401, 401]);
    h.take(limited);
    h.take(unauthorized);
    expect((await h.responseFor(limited.uuid)).type).toBe('success');
    expect((await h.responseFor(unauthorized.uuid)).type).toBe('success');
    expect(h.sentTo().filter((u) => u === 'u429')).toHaveLength(4);
    expect(h.sentTo().filter((u) => u === 'u401')).toHaveLength(3);
  });

  it('a 429 with Retry-After holds every send until then', async () => {
    const h = await harness({ concurrency: 1 });
    const first = pushRequest({ userIds: ['first'] });
    const second = pushRequest({ userIds: ['second'] });
    h.sender.script('first', [{ kind: 'http', status: 429, text: '{"errors":["API rate limit exceeded"]}', retryAfter: '0.3' }]);
    h.take(first);
    h.take(second);
    await h.responseFor(first.uuid);
    await h.responseFor(second.uuid);
    expect(h.events.find((e) => e.kind === 'retry')).toMatchObject({ retryAfterMs: 300, delayMs: 300 });
    expect(h.sentTo().sort()).toEqual(['first', 'first', 'second']);
    // There is no rate limit: the only wait is the hold, scheduled after the 429 for (nearly) 300 ms.
    // `second` was due at once, so it is the send that waited; without the hold no send waits.
    const waits = await h.registry.getSingleMetric('notifier_rate_limit_waits_total')!.get();
    const waited = await h.registry.getSingleMetric('notifier_rate_limit_wait_seconds_total')!.get();
    expect(waits.values[0]!.value).toBe(1);
    expect(waited.values[0]!.value).toBeGreaterThan(0.2);
    expect(waited.values[0]!.value).toBeLessThanOrEqual(0.3);
  });

  it('4xx with failure: one send, a failure response', async () => {
    const h = await harness();
    const request = pushRequest({ style: { '4xx': { operation: 'failure' } } });
    h.sender.script('user-1', [400]);
    h.take(request);
    expect(await h.responseFor(request.uuid)).toMatchObject({ type: 'failure', reason: 'status 400' });
    expect(h.sender.calls).toHaveLength(1);
  });

  it('gives up after RETRY_MAX_ATTEMPTS with a failure response', async () => {
    const h = await harness({ policy: { baseMs: 1, maxMs: 2, maxAttempts: 3, maxAgeMs: 60_000 } });
    const request = pushRequest({ style: { '5xx': { operation: 'retry' } } });
    h.sender.script('user-1', [500, 500, 500, 500]);
    h.take(request);
    expect(await h.responseFor(request.uuid)).toMatchObject({ type: 'failure', reason: 'gave up after 3 attempts: status 500' });
    expect(h.sender.calls).toHaveLength(3);
  });

  it('an attempt without an answer is retried; the same idempotency key goes out again', async () => {
    const h = await harness();
    const request = pushRequest();
    h.sender.script('user-1', [{ kind: 'error', message: 'timeout' }]);
    h.take(request);
    expect((await h.responseFor(request.uuid)).type).toBe('success');
    expect(h.sender.calls.map((c) => c.idempotency_key)).toEqual([request.uuid, request.uuid]);
  });
});

describe('versions', () => {
  const style = { '5xx': { operation: 'retry' }, '2xx': { operation: 'success' } } as const;

  it('a newer _connect drops the stale retries of its response topic, and only those', async () => {
    const h = await harness({ policy: { baseMs: 400, maxMs: 400, maxAttempts: 10, maxAgeMs: 60_000 } });
    const stale = pushRequest({ responseTopic: 'notify.results.a', versionUtcSeconds: 100, userIds: ['stale'], style });
    const other = pushRequest({ responseTopic: 'notify.results.b', versionUtcSeconds: 100, userIds: ['other'], style });
    h.sender.script('stale', [500, 500]);
    h.sender.script('other', [500]);
    h.take(stale);
    h.take(other);
    await waitFor(() => (h.events.filter((e) => e.kind === 'retry').length === 2 ? true : undefined), 'both waiting for a retry');
    const connect = connectRequest('notify.results.a', 200);
    h.take(connect);
    expect(await h.responseFor(connect.uuid)).toMatchObject({ type: 'success', versionUtcSeconds: 200 });
    expect(h.events.filter((e) => e.kind === 'dropped').map((e) => e.uuid)).toEqual([stale.uuid]);
    expect((await h.responseFor(other.uuid)).type).toBe('success');
    expect(h.responses().some((r) => r.uuid === stale.uuid)).toBe(false);
    expect(h.sentTo().filter((u) => u === 'stale')).toHaveLength(1);
    expect(h.stores.retries.entries.has(stale.uuid)).toBe(false);
    expect(h.stores.versions.values.get('notify.results.a')).toBe(200);
    expect(h.lines.find((l) => l.msg.startsWith('stale retry dropped'))).toMatchObject({ uuid: stale.uuid, currentVersion: 200 });
  });

  it('ignore_version keeps the retry going after a newer _connect', async () => {
    const h = await harness({ policy: { baseMs: 400, maxMs: 400, maxAttempts: 10, maxAgeMs: 60_000 } });
    const kept = pushRequest({ responseTopic: 'notify.results.a', versionUtcSeconds: 100, userIds: ['kept'], style: { ...style, '5xx': { operation: 'retry', ignore_version: true } } });
    h.sender.script('kept', [500]);
    h.take(kept);
    await waitFor(() => h.events.find((e) => e.kind === 'retry'), 'a retry');
    h.take(connectRequest('notify.results.a', 200));
    expect((await h.responseFor(kept.uuid)).type).toBe('success');
    expect(h.events.filter((e) => e.kind === 'dropped')).toEqual([]);
  });

  it('a request tried first after a newer _connect is still sent (only retries go stale)', async () => {
    const h = await harness();
    const connect = connectRequest('notify.results.a', 200);
    h.take(connect);
    await h.responseFor(connect.uuid);
    const old = pushRequest({ responseTopic: 'notify.results.a', versionUtcSeconds: 100 });
    h.take(old);
    expect((await h.responseFor(old.uuid)).type).toBe('success');
  });
});

describe('rejections', () => {
  it('unknown style keys: a failure response naming them, and a warning', async () => {
    const h = await harness();
    const request = pushRequest({ style: { '2xx': { operation: 'copy' }, '3xx': { operation: 'success' } } });
    h.take(request);
    const response = await h.responseFor(request.uuid);
    expect(response).toMatchObject({ type: 'failure', uuid: request.uuid, versionUtcSeconds: request.versionUtcSeconds, reason: 'style.3xx: unknown style key (allowed: 2xx, 4xx, 5xx)' });
    expect(response.info).toBeUndefined();
    expect(h.lines.find((l) => l.msg === 'request rejected')).toMatchObject({ level: 'warn', uuid: request.uuid, reason: 'style.3xx: unknown style key (allowed: 2xx, 4xx, 5xx)' });
    expect(h.sender.calls).toEqual([]);
    expect(h.acked.has(request.uuid)).toBe(true);
    expect(await h.registry.getSingleMetricAsString('notifier_requests_rejected_total')).toContain('notifier_requests_rejected_total{reason="unknown_style_key"} 1');
  });

  it('a bad request without a response topic: a warning and a counter, and the next one goes on', async () => {
    const h = await harness();
    const bad = { ...pushRequest({ responseTopic: null }), args: { content: 'no target' } };
    expect(h.take(bad)).toBe(true);
    h.notifier.take('not json at all', () => h.acked.add('not-json'));
    const good = pushRequest();
    h.take(good);
    await h.responseFor(good.uuid);
    expect(h.acked).toEqual(new Set([bad.uuid, 'not-json', good.uuid]));
    expect(h.lines.filter((l) => l.msg === 'request rejected').map((l) => l.level)).toEqual(['warn', 'warn']);
    const metric = await h.registry.getSingleMetricAsString('notifier_requests_rejected_total');
    expect(metric).toContain('{reason="invalid"} 1');
    expect(metric).toContain('{reason="not_json"} 1');
  });
});

describe('logging', () => {
  it('copy/success at trace, failure/retry at warn, silent and level per class; a partial 2xx is logged', async () => {
    const h = await harness();
    const ok = pushRequest({ userIds: ['ok'] });
    const quiet = pushRequest({ userIds: ['quiet'], style: { '4xx': { operation: 'failure', silent: true } } });
    const loud = pushRequest({ userIds: ['loud'], style: { '2xx': { operation: 'success', level: 'info' } } });
    const partial = pushRequest({ userIds: ['partial'] });
    h.sender.script('quiet', [400]);
    h.sender.script('partial', [{ kind: 'http', status: 200, text: '{"id":"n","errors":{"invalid_aliases":{"external_id":["unknown-9"]}}}' }]);
    for (const r of [ok, quiet, loud, partial]) h.take(r);
    for (const r of [ok, quiet, loud, partial]) await h.responseFor(r.uuid);
    const outcome = (uuid: string) => h.lines.filter((l) => l.uuid === uuid && l.msg.startsWith('push ')).map((l) => `${l.level} ${l.msg}`);
    expect(outcome(ok.uuid)).toEqual(['trace push sent']);
    expect(outcome(quiet.uuid)).toEqual([]);
    expect(outcome(loud.uuid)).toEqual(['info push sent']);
    expect(outcome(partial.uuid)).toEqual(['info push partly sent: OneSignal answered 2xx with errors', 'trace push sent']);
  });
});

describe('capacity and restarts', () => {
  it('says full at queueMax and has room again at half of it', async () => {
    const h = await harness({ queueMax: 10, concurrency: 2 });
    h.sender.hold();
    for (let i = 0; i < 10; i++) h.take(pushRequest({ userIds: [`u${i}`] }));
    expect(h.notifier.capacity.full()).toBe(true);
    let room = false;
    const whenRoom = h.notifier.capacity.whenRoom().then(() => { room = true; });
    await waitFor(() => (h.sender.calls.length === 2 ? true : undefined), 'two in flight');
    expect(room).toBe(false);
    h.sender.release();
    await whenRoom;
    expect(h.notifier.stats().held).toBeLessThanOrEqual(5);
  });

  it('on stop, queued and waiting requests are parked in the store; the next notifier sends them', async () => {
    const stores = createMemoryStores();
    const first = await harness({ rateLimitPerS: 2, concurrency: 1, policy: { baseMs: 60_000, maxMs: 60_000, maxAttempts: 10, maxAgeMs: 600_000 } }, stores);
    const requests = Array.from({ length: 4 }, (_, i) => pushRequest({ userIds: [`p${i}`], style: { '5xx': { operation: 'retry' } } }));
    first.sender.script('p0', [500]);
    for (const r of requests) first.take(r);
    await waitFor(() => first.events.find((e) => e.kind === 'retry'), 'p0 waiting for its retry');
    await first.notifier.stop();
    expect(first.acked).toEqual(new Set(requests.map((r) => r.uuid))); // every one is settled: stored
    expect([...stores.retries.entries.values()].map((e) => [e.request.args.userIds![0], e.attempts]).sort()).toEqual([['p0', 1], ['p1', 0], ['p2', 0], ['p3', 0]]);

    // p0's retry is not due for a minute: make it due now, as if that minute had passed.
    stores.retries.entries.get(requests[0]!.uuid)!.dueAt = Date.now();
    const second = await harness({}, stores);
    for (const r of requests) expect((await second.responseFor(r.uuid)).type).toBe('success');
    expect(second.sentTo().sort()).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(stores.retries.entries.size).toBe(0);
  });
});

describe('web push channel', () => {
  const device = (userId: string, n = 1): WebDevice => ({
    userId, subscriptionId: `wp-${userId}-${n}`, webPush: { endpoint: `https://push.example.net/${userId}/${n}`, keys: { p256dh: 'p', auth: 'a' } },
  });
  /** The users' browsers; push services answer from `script` (by subscription id), then 201. */
  function fakeWeb(browsers: WebDevice[], script: Record<string, Answer[]> = {}) {
    const sent: { subscriptionId: string; title: string; at: number }[] = [];
    const removed: WebDevice[] = [];
    const web: WebPushChannel = {
      devices: {
        of: async (userIds) => browsers.filter((d) => userIds.includes(d.userId) && !removed.includes(d)),
        remove: async (d) => { removed.push(d); },
      },
      sender: {
        async send(subscription, payload) {
          const d = browsers.find((b) => b.webPush.endpoint === subscription.endpoint)!;
          sent.push({ subscriptionId: d.subscriptionId, title: payload.title, at: Date.now() });
          return script[d.subscriptionId]?.shift() ?? { kind: 'http', status: 201, text: '' };
        },
      },
    };
    return { web, sent, removed };
  }

  it('a push to users goes to OneSignal and to each of their browsers; the record is acknowledged once all are settled', async () => {
    const { web, sent } = fakeWeb([device('ann', 1), device('ann', 2), device('bob')], { 'wp-ann-2': [{ kind: 'http', status: 503, text: '' }] });
    const h = await harness({ web });
    const request = pushRequest({ userIds: ['ann'], style: { '5xx': { operation: 'retry' } } });
    h.take(request);
    await h.responseFor(request.uuid);
    await waitFor(() => (sent.length === 3 ? true : undefined), 'three web sends');
    expect(sent.map((s) => s.subscriptionId).sort()).toEqual(['wp-ann-1', 'wp-ann-2', 'wp-ann-2']);
    expect(h.sender.calls).toHaveLength(1);
    await waitFor(() => (h.acked.has(request.uuid) ? true : undefined), 'the ack');
    // One response only: OneSignal's.
    expect(h.responses().filter((r) => r.uuid.startsWith(request.uuid))).toHaveLength(1);
  });

  it('a push service\'s Retry-After delays that delivery only: OneSignal calls go on', async () => {
    const { web, sent } = fakeWeb([device('ann')], { 'wp-ann-1': [{ kind: 'http', status: 429, text: '', retryAfter: '30' }] });
    const h = await harness({ web });
    h.take(pushRequest({ userIds: ['ann'] }));
    await waitFor(() => (sent.length === 1 ? true : undefined), 'the 429');
    const next = pushRequest({ userIds: ['carl'] });
    h.take(next);
    await h.responseFor(next.uuid);
    expect(h.events.find((e) => e.kind === 'retry')).toMatchObject({ status: 429, delayMs: 30_000 });
  });

  it('a 410 removes the device and ends the delivery without a retry', async () => {
    const ann = device('ann');
    const { web, sent, removed } = fakeWeb([ann], { 'wp-ann-1': [{ kind: 'http', status: 410, text: '' }] });
    const h = await harness({ web });
    const request = pushRequest({ userIds: ['ann'], style: { '4xx': { operation: 'retry' } } });
    h.take(request);
    await waitFor(() => (h.acked.has(request.uuid) ? true : undefined), 'the ack');
    expect(removed).toEqual([ann]);
    expect(sent).toHaveLength(1);
  });

  it('a delivery waiting for its retry is parked on stop and sent to the browser (not OneSignal) by the next notifier', async () => {
    const stores = createMemoryStores();
    const first = fakeWeb([device('ann')], { 'wp-ann-1': [{ kind: 'http', status: 500, text: '' }] });
    const h = await harness({ web: first.web, policy: { baseMs: 60_000, maxMs: 60_000, maxAttempts: 10, maxAgeMs: 600_000 } }, stores);
    const request = pushRequest({ userIds: ['ann'], style: { '5xx': { operation: 'retry' } } });
    h.take(request);
    await waitFor(() => (stores.retries.entries.has(`${request.uuid}/wp-ann-1`) ? true : undefined), 'the stored delivery');
    await h.notifier.stop();
    expect(stores.retries.entries.get(`${request.uuid}/wp-ann-1`)).toMatchObject({ attempts: 1, web: { subscriptionId: 'wp-ann-1' } });

    for (const entry of stores.retries.entries.values()) entry.dueAt = Date.now();
    const second = fakeWeb([device('ann')]);
    const h2 = await harness({ web: second.web }, stores);
    await waitFor(() => (second.sent.length === 1 ? true : undefined), 'the delivery sent again');
    await waitFor(() => (stores.retries.entries.size === 0 ? true : undefined), 'the store emptied');
    expect(h2.sender.calls).toHaveLength(0);
  });
});
