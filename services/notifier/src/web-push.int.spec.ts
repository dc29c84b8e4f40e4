// Web Push end to end on the local stack: a browser subscription registered through storage's
// POST /me/devices (storage and its projector in this process), push requests produced to Kafka,
// the notifier (its service) sending to a local HTTPS push service that checks the VAPID JWT and
// decrypts the body with http_ece; 404/410 removes the device through `users`; 429 and 5xx are
// retried (Retry-After honoured).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@pushtech/config';
import { createLogger } from '@pushtech/logging';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { signToken, storageConfigSpec, storageService } from '@pushtech/storage';
import { stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { freshNames, notifierEnv, startBench, startNotifier, STANDIN_API_KEY, STANDIN_APP_ID, type Bench, type RunningNotifier } from './fixtures/harness.ts';
import { pushBrowser, verifyVapid, type PushBrowser } from './fixtures/push-browser.ts';
import { startPushService, type PushService } from './fixtures/push-service.ts';
import { pushRequest as anyPushRequest, type PushOptions } from './fixtures/requests.ts';
import { generateVapidKeys } from './web-push.ts';

const JWT_SECRET = 'web-push-test-secret-0123456789abcdef';
const vapid = generateVapidKeys();

let standin: Standin;
let pushService: PushService;
let bench: Bench;
let notifier: RunningNotifier;
let storage: Awaited<ReturnType<ReturnType<typeof storageService>['start']>>;

beforeAll(async () => {
  standin = await startStandin({ appId: STANDIN_APP_ID, apiKey: STANDIN_API_KEY });
  pushService = await startPushService();
  const names = freshNames('webpush');
  const usersTopic = uniqueName('users');
  const { kafkaBrokers, mongoUrl } = stackAddresses();
  const storageConfig = loadConfig(storageConfigSpec, {
    KAFKA_BROKERS: kafkaBrokers.join(','), MONGO_URL: mongoUrl, MONGO_DB: names.db, JWT_SECRET, LOG_LEVEL: 'silent',
    LISTINGS_TOPIC: uniqueName('listings'), MATCHES_TOPIC: uniqueName('matches'), USERS_TOPIC: usersTopic, PROJECTOR_GROUP: uniqueName('projector'),
  });
  storage = await storageService({ awaitProjectorJoin: true }).start({ config: storageConfig, logger: createLogger('storage-test', 'silent'), listen: false });
  await storage.ready;
  bench = await startBench(names);
  notifier = await startNotifier(notifierEnv(names, standin, {
    USERS_TOPIC: usersTopic,
    VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@pushtech.example',
    WEB_PUSH_TTL_S: '120', WEB_PUSH_URGENCY: 'high',
    RETRY_BASE_MS: '100', RETRY_MAX_MS: '400',
  }));
}, 60_000);

afterAll(async () => {
  await notifier?.close();
  await storage?.stop();
  await bench?.close();
  await pushService?.close();
  await standin?.close();
});

/** A push request answered on the bench's response topic, styled as the notify bridge styles its requests (5xx retried). */
const BRIDGE_STYLE = { '2xx': { operation: 'success' }, '4xx': { operation: 'failure' }, '5xx': { operation: 'retry' } };
const pushRequest = (options: PushOptions) => anyPushRequest({ responseTopic: bench.names.responseTopic, style: BRIDGE_STYLE, ...options });

const auth = async (userId: string) => ({ authorization: `Bearer ${await signToken(userId, JWT_SECRET)}` });

/** A browser of `userId` subscribed at `/push/<id>` and registered with storage (visible in the projection). */
async function subscribe(userId: string, id: string): Promise<{ browser: PushBrowser; subscriptionId: string }> {
  const browser = pushBrowser();
  const res = await storage.http.inject({
    method: 'POST', url: '/me/devices', headers: await auth(userId),
    payload: { platform: 'web', webPush: { ...browser.subscription(pushService.endpoint(id)), expirationTime: null } },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { browser, subscriptionId: (res.json() as { subscriptionId: string }).subscriptionId };
}

const devicesOf = async (userId: string) =>
  ((await storage.http.inject({ url: '/me/devices', headers: await auth(userId) })).json() as { items: { subscriptionId: string }[] }).items;

const calls = (id: string, n: number, timeoutMs = 15_000) =>
  waitFor(() => (pushService.calls(id).length >= n ? pushService.calls(id) : undefined), `${n} calls to /push/${id}`, timeoutMs);

describe('web push', () => {
  it('encrypts for the browser, signs with VAPID (aud = the endpoint origin), sends TTL and Urgency; OneSignal still gets its call and answers the producer', async () => {
    const { browser } = await subscribe('ann', 'ann-laptop');
    const phone = await subscribe('ann', 'ann-phone');
    await subscribe('carl', 'carl-laptop');
    const request = pushRequest({ userIds: ['ann'], content: 'Someone 300 m away offers a bike', data: { listingId: 'offer-7', pair: 's|o' } });
    await bench.produce([request]);

    expect((await bench.responseFor(request.uuid)).type).toBe('success');
    expect(standin.calls.some((c) => (c.body as { idempotency_key?: string }).idempotency_key === request.uuid)).toBe(true);
    const [call] = await calls('ann-laptop', 1);
    await calls('ann-phone', 1);
    expect(call!.headers).toMatchObject({ ttl: '120', urgency: 'high', 'content-encoding': 'aes128gcm', 'content-type': 'application/octet-stream' });
    const claims = verifyVapid(call!.headers.authorization as string);
    const now = Date.now() / 1000;
    expect(claims).toMatchObject({ aud: pushService.origin, sub: 'mailto:ops@pushtech.example', publicKey: vapid.publicKey });
    expect(claims.exp).toBeGreaterThan(now);
    expect(claims.exp).toBeLessThanOrEqual(now + 24 * 3600);
    expect(JSON.parse(browser.decrypt(call!.body).toString())).toEqual({
      title: 'Bike nearby', body: 'Someone 300 m away offers a bike', listingId: 'offer-7', url: null, data: { listingId: 'offer-7', pair: 's|o' },
    });
    // Each browser's body is encrypted for that browser only.
    expect(() => phone.browser.decrypt(call!.body)).toThrow();
    expect(JSON.parse(phone.browser.decrypt(pushService.calls('ann-phone')[0]!.body).toString())).toMatchObject({ title: 'Bike nearby' });
    expect(pushService.calls('carl-laptop')).toEqual([]); // not among the userIds
  });

  it('a 410 removes the subscription: device.removed on users, the device gone from the projection; no retry', async () => {
    const { subscriptionId } = await subscribe('bea', 'bea-laptop');
    expect((await devicesOf('bea')).map((d) => d.subscriptionId)).toEqual([subscriptionId]);
    pushService.script('bea-laptop', [{ status: 410 }]);
    const request = pushRequest({ userIds: ['bea'] });
    await bench.produce([request]);

    await waitFor(async () => ((await devicesOf('bea')).length === 0 ? true : undefined), 'bea\'s device removed from the projection');
    const doc = await bench.db.collection('devices').findOne({ _id: subscriptionId } as never);
    expect(doc).toMatchObject({ state: 'removed', userId: 'bea' });
    expect(notifier.lines.some((l) => l.msg === 'web push subscription gone: device removed' && l.subscriptionId === subscriptionId)).toBe(true);
    expect((await notifier.http.inject({ url: '/metrics' })).body).toMatch(/notifier_web_push_subscriptions_removed_total\{service="notifier"\} 1/);
    // The next push to bea goes to OneSignal only.
    const next = pushRequest({ userIds: ['bea'] });
    await bench.produce([next]);
    await bench.responseFor(next.uuid);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushService.calls('bea-laptop')).toHaveLength(1);
  });

  it('a 429 with Retry-After is tried again after it, not before', async () => {
    const { browser } = await subscribe('dan', 'dan-laptop');
    pushService.script('dan-laptop', [{ status: 429, retryAfter: '2' }]);
    const request = pushRequest({ userIds: ['dan'], content: 'after the wait' });
    await bench.produce([request]);

    const [first, second] = await calls('dan-laptop', 2);
    expect([first!.status, second!.status]).toEqual([429, 201]);
    // The back-off alone would be at most RETRY_MAX_MS (400 ms).
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_900);
    expect(JSON.parse(browser.decrypt(second!.body).toString())).toMatchObject({ body: 'after the wait' });
    const retry = notifier.events.find((e) => e.kind === 'retry' && e.uuid.startsWith(request.uuid));
    expect(retry).toMatchObject({ status: 429, retryAfterMs: 2_000, delayMs: 2_000 });
  });

  it('5xx answers are retried with back-off (the request\'s style: 5xx retry) until the push service takes it', async () => {
    await subscribe('eve', 'eve-laptop');
    pushService.script('eve-laptop', [{ status: 503 }, { status: 500 }]);
    const request = pushRequest({ userIds: ['eve'] });
    await bench.produce([request]);

    const got = await calls('eve-laptop', 3);
    expect(got.map((c) => c.status)).toEqual([503, 500, 201]);
    const retries = notifier.events.filter((e) => e.kind === 'retry' && e.uuid.startsWith(request.uuid));
    expect(retries.map((e) => e.kind === 'retry' && e.status)).toEqual([503, 500]);
    for (const [i, e] of retries.entries()) {
      if (e.kind !== 'retry') continue;
      // Equal jitter: between half and all of min(400, 100·2^(n-1)).
      const step = Math.min(400, 100 * 2 ** i);
      expect(e.delayMs).toBeGreaterThanOrEqual(step / 2);
      expect(e.delayMs).toBeLessThanOrEqual(step);
      expect(got[i + 1]!.at - got[i]!.at).toBeGreaterThanOrEqual(e.delayMs - 5);
    }
    const delivery = `${request.uuid}/${(await devicesOf('eve'))[0]!.subscriptionId}`;
    expect(notifier.events.some((e) => e.kind === 'answered' && e.uuid === delivery && e.status === 201)).toBe(true);
  });

  it('without a 5xx style entry a 5xx fails the delivery, as it would fail the OneSignal call', async () => {
    await subscribe('fay', 'fay-laptop');
    pushService.script('fay-laptop', [{ status: 502 }]);
    const request = pushRequest({ userIds: ['fay'], style: { '2xx': { operation: 'success' } } });
    await bench.produce([request]);
    await bench.responseFor(request.uuid);
    await waitFor(() => notifier.lines.find((l) => l.msg === 'push failed' && String(l.uuid).startsWith(`${request.uuid}/`) && l.status === 502), 'the delivery\'s failure');
    expect(pushService.calls('fay-laptop').map((c) => c.status)).toEqual([502]);
  });

  it('a user without web devices gets no Web Push; the request is answered as before', async () => {
    const request = pushRequest({ userIds: [`nobody-${randomUUID()}`] });
    const before = pushService.calls().length;
    await bench.produce([request]);
    expect((await bench.responseFor(request.uuid)).type).toBe('success');
    expect(pushService.calls().length).toBe(before);
  });
});
