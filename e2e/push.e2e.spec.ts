// Push notifications end to end on the real stack, every service a child
// process except the OneSignal stand-in (in process: the test reads what it
// received; it has no /readyz for startService to wait on):
// storage, matcher, mover, notify bridge, notifier, tracker, kafkastore.
// Two users register their devices; A's following search "bike" is 2 km from
// B's offer "bike"; A walks towards B (location events through the tracker):
// the pair matches and each of them gets one push. A walks out of range and
// back in: the pair is found again, and nobody gets a second push within the
// window.
//
// tracker → Redis → kafkastore → `events` → mover → `listings` → matcher → `matches`
//   → notify bridge (titles, devices, window: Mongo) → `notify.requests` → notifier → OneSignal stand-in
//                                                   ◄── `notify.results.bridge` ◄──┘
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destination, point, type Point } from '@pushtech/listings';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { signToken } from '@pushtech/auth';
import { freePort, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { startMatchingPipeline, startService, type RunningService } from './services.ts';

const { kafkaBrokers, redisUrl, mongoUrl } = stackAddresses();
const JWT_SECRET = 'e2e-push-secret-0123456789abcdefghijklmn';
const ONESIGNAL_APP_ID = '2f4c5b1e-8a9d-4e6f-b3c2-1d0e9f8a7b6c';
const ONESIGNAL_API_KEY = 'e2e-standin-key';
const names = {
  listings: uniqueName('listings'),
  matches: uniqueName('matches'),
  users: uniqueName('users'),
  events: uniqueName('events'),
  requests: uniqueName('requests'),
  responses: uniqueName('responses'),
  stream: uniqueName('e2e:stream:'),
  db: uniqueName('e2epush'),
  projector: uniqueName('projector'),
  matcher: uniqueName('matcher'),
  mover: uniqueName('mover'),
  bridge: uniqueName('bridge'),
  notifier: uniqueName('notifier'),
};

const START = point(13.405, 52.52);
const east = (metres: number): Point => destination(START, metres, Math.PI / 2);

let standin: Standin;
let storage: RunningService;
let bridge: RunningService;
const others: RunningService[] = [];

beforeAll(async () => {
  standin = await startStandin({ appId: ONESIGNAL_APP_ID, apiKey: ONESIGNAL_API_KEY, host: '127.0.0.1' });
  const kafka = { KAFKA_BROKERS: kafkaBrokers.join(',') };
  const mongo = { MONGO_URL: mongoUrl, MONGO_DB: names.db };
  const pipeline = await startMatchingPipeline({
    kafkaBrokers, mongoUrl, names, jwtSecret: JWT_SECRET, onesignal: { apiRoot: standin.apiRoot, appId: ONESIGNAL_APP_ID, apiKey: ONESIGNAL_API_KEY },
  });
  storage = pipeline.storage;
  const started = await Promise.all([
    startService('consumers/mover/src/index.ts', {
      ...kafka, ...mongo, PORT: String(await freePort()), EVENTS_TOPIC: names.events, LISTINGS_TOPIC: names.listings, MOVER_GROUP: names.mover, PROJECTOR_GROUP: names.projector,
    }),
    startService('services/tracker/src/index.ts', { PORT: String(await freePort()), REDIS_URL: redisUrl, REDIS_STREAM: names.stream, TRACKER_ID: 'e2e' }),
    startService('services/kafkastore/src/index.ts', {
      ...kafka, PORT: String(await freePort()), REDIS_URL: redisUrl, REDIS_STREAM: names.stream,
      EVENTS_TOPIC: names.events, DLQ_TOPIC: `${names.events}.dlq`, CONSUMER_NAME: 'e2e',
    }),
  ]);
  bridge = pipeline.bridge;
  others.push(pipeline.bridge, pipeline.notifier, pipeline.matcher, ...started);
}, 240_000);

afterAll(async () => {
  await Promise.all(others.map((service) => service.stop()));
  await storage?.stop();
  await standin?.close();
});

const tracker = () => others[4]!;

async function as(userId: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${storage.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await signToken(userId, JWT_SECRET)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: res.status === 204 ? undefined : await res.json() };
}

/** The walker's phone: a location every 250 ms, from `from` to `to` metres east of START. */
async function walk(userId: string, from: number, to: number, step: number): Promise<void> {
  for (let at = from; step > 0 ? at <= to : at >= to; at += step) {
    const [lng, lat] = east(at).coordinates;
    const res = await fetch(`${tracker().url}/t/location?userId=${userId}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lng, lat }),
    });
    expect(res.status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function matchesOf(listingId: string): Promise<unknown[]> {
  return ((await (await fetch(`${storage.url}/listings/${listingId}/matches`)).json()) as { items: unknown[] }).items;
}

async function bridgeMetric(name: string, label: string): Promise<number> {
  const line = (await (await fetch(`${bridge.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

interface PushBody {
  app_id: string;
  idempotency_key: string;
  include_aliases: { external_id: string[] };
  headings: { en: string };
  contents: { en: string };
  data: { searchId: string; offerId: string; pair: string };
}
/** Pushes the stand-in created (duplicates of an idempotency key it has seen are not new pushes). */
const pushes = () => standin.notifications().filter((call) => !call.duplicate).map((call) => call.body as PushBody);

describe('push notifications: a following search walks to an offer', () => {
  const walker = uniqueName('walker');
  const seller = uniqueName('seller');
  let searchId: string;
  let offerId: string;

  it('both users register their devices', async () => {
    expect((await as(walker, 'POST', '/me/devices', { subscriptionId: 'a0b1c2d3-0000-4000-8000-00000000000a', platform: 'ios' })).status).toBe(201);
    expect((await as(seller, 'POST', '/me/devices', { subscriptionId: 'b0b1c2d3-0000-4000-8000-00000000000b', platform: 'android' })).status).toBe(201);
    expect((await as(walker, 'GET', '/me/devices')).json.items).toEqual([expect.objectContaining({ subscriptionId: 'a0b1c2d3-0000-4000-8000-00000000000a', userId: walker })]);
  });

  it('A walks towards B: the pair matches, and each of them gets one push', async () => {
    const search = await as(walker, 'POST', '/listings', { kind: 'search', title: 'bike', location: START, radiusM: 500, follow: true });
    const offer = await as(seller, 'POST', '/listings', { kind: 'offer', title: 'bike', description: 'city bike, 28"', location: east(2_000), radiusM: 1_000 });
    expect([search.status, offer.status]).toEqual([201, 201]);
    searchId = search.json.id;
    offerId = offer.json.id;
    expect(await matchesOf(searchId)).toEqual([]);

    await walk(walker, 200, 1_900, 200); // ends 1,800 m east: 200 m from the offer
    const received = await waitFor(() => (pushes().length >= 2 ? pushes() : undefined), 'a push for each user', 60_000, 250);
    const byUser = new Map(received.map((p) => [p.include_aliases.external_id[0], p]));
    expect([...byUser.keys()].sort()).toEqual([seller, walker].sort());
    const pair = `${searchId}|${offerId}`;
    expect(byUser.get(walker)).toMatchObject({
      app_id: ONESIGNAL_APP_ID,
      headings: { en: 'Offer nearby' },
      contents: { en: expect.stringMatching(/^An offer for “bike” is \d+ m away$/) },
      data: { searchId, offerId, pair },
    });
    expect(byUser.get(seller)).toMatchObject({
      headings: { en: 'Someone nearby is looking' },
      contents: { en: expect.stringMatching(/^Someone \d+ m away is looking for “bike”$/) },
      data: { searchId, offerId, pair },
    });
    // The notifier answered the bridge: both pushes succeeded.
    await waitFor(async () => ((await bridgeMetric('notify_bridge_responses_total', 'type="success"')) === 2 ? true : undefined), 'two success responses', 30_000, 250);
  }, 120_000);

  it('A walks out of range and back: the pair is found again, and nobody gets a second push within the window', async () => {
    await walk(walker, 1_400, 800, -300); // 1,200 m from the offer: out of the search's 500 m
    await waitFor(async () => ((await matchesOf(searchId)).length === 0 ? true : undefined), 'the match lost', 30_000, 250);
    await walk(walker, 1_200, 1_900, 300); // back to 1,800 m east
    await waitFor(async () => ((await matchesOf(searchId)).length === 1 ? true : undefined), 'the match found again', 30_000, 250);
    // The bridge handled the second match.found: both owners skipped for the pair window.
    await waitFor(async () => ((await bridgeMetric('notify_bridge_skipped_total', 'reason="pair_window"')) === 2 ? true : undefined), 'the second decision skipped', 30_000, 250);
    expect(pushes()).toHaveLength(2);
    expect(await bridgeMetric('notify_bridge_requests_total', '')).toBe(2);
  }, 120_000);
});
