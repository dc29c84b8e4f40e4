// Live matching end to end on the real stack, every service a child process:
// storage (API + projector), matcher, mover, tracker, kafkastore.
// A's following search and B's offer are 2 km apart; A walks towards B (location
// events through the tracker), and A's search gains B's offer as a match; A walks
// away, and it loses it.
//
// tracker → Redis → kafkastore → `events` → mover → `listings` → matcher → `matches`
//                                                        ↓                   ↓
//                                              storage projector → Mongo → GET /listings/:id/matches
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destination, haversineM, point, type Point } from '@pushtech/listings';
import { createKafka, type Kafka } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { freePort, groupCaughtUp, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { signToken } from '@pushtech/auth';
import { startService, type RunningService } from './services.ts';

const { kafkaBrokers, redisUrl, mongoUrl } = stackAddresses();
const JWT_SECRET = 'e2e-matching-secret-0123456789abcdefghij';
const names = {
  listings: uniqueName('listings'),
  matches: uniqueName('matches'),
  events: uniqueName('events'),
  stream: uniqueName('e2e:stream:'),
  db: uniqueName('e2e'),
  projector: uniqueName('projector'),
  matcher: uniqueName('matcher'),
  mover: uniqueName('mover'),
};

const START = point(13.405, 52.52);
const east = (metres: number): Point => destination(START, metres, Math.PI / 2);

let storage: RunningService;
let matcher: RunningService;
let mover: RunningService;
let tracker: RunningService;
let kafkastore: RunningService;
const kafka: Kafka = createKafka({ clientId: 'e2e-matching', brokers: kafkaBrokers, logger: createLogger('e2e-matching', 'silent') });

beforeAll(async () => {
  const common = { KAFKA_BROKERS: kafkaBrokers.join(','), MONGO_URL: mongoUrl, MONGO_DB: names.db, LISTINGS_TOPIC: names.listings };
  storage = await startService('services/storage/src/index.ts', {
    ...common, PORT: String(await freePort()), JWT_SECRET, MATCHES_TOPIC: names.matches, PROJECTOR_GROUP: names.projector,
  });
  [matcher, mover, tracker, kafkastore] = await Promise.all([
    startService('consumers/matcher/src/service/main.ts', {
      ...common, PORT: String(await freePort()), MATCHES_TOPIC: names.matches, MATCHER_GROUP: names.matcher, PROJECTOR_GROUP: names.projector,
    }),
    startService('consumers/mover/src/index.ts', { ...common, PORT: String(await freePort()), EVENTS_TOPIC: names.events, MOVER_GROUP: names.mover, PROJECTOR_GROUP: names.projector }),
    startService('services/tracker/src/index.ts', { PORT: String(await freePort()), REDIS_URL: redisUrl, REDIS_STREAM: names.stream, TRACKER_ID: 'e2e' }),
    startService('services/kafkastore/src/index.ts', {
      KAFKA_BROKERS: kafkaBrokers.join(','), PORT: String(await freePort()), REDIS_URL: redisUrl, REDIS_STREAM: names.stream,
      EVENTS_TOPIC: names.events, DLQ_TOPIC: `${names.events}.dlq`, CONSUMER_NAME: 'e2e',
    }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([tracker?.stop(), kafkastore?.stop(), mover?.stop(), matcher?.stop()]);
  await storage?.stop();
});

async function createListing(userId: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${storage.url}/listings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await signToken(userId, JWT_SECRET)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function matchesOf(listingId: string): Promise<{ listingId: string; ownerId: string; distanceM: number }[]> {
  const res = await fetch(`${storage.url}/listings/${listingId}/matches`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { listingId: string; ownerId: string; distanceM: number }[] }).items;
}

/** The walker's phone: a location every 250 ms, from `from` to `to` metres east of START. */
async function walk(userId: string, from: number, to: number, step: number): Promise<void> {
  for (let at = from; step > 0 ? at <= to : at >= to; at += step) {
    const [lng, lat] = east(at).coordinates;
    const res = await fetch(`${tracker.url}/t/location?userId=${userId}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lng, lat }),
    });
    expect(res.status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('live matching: a following search walks to an offer and away', () => {
  const walker = uniqueName('walker');
  const seller = uniqueName('seller');
  let searchId: string;
  let offerId: string;

  it('a following search and an offer 2 km apart do not match', async () => {
    searchId = await createListing(walker, { kind: 'search', title: 'bike', location: START, radiusM: 500, follow: true });
    offerId = await createListing(seller, { kind: 'offer', title: 'Bike', description: 'city bike, 28"', location: east(2_000), radiusM: 1_000 });
    // The marker: the matcher has decided on both listings, and storage has projected what it decided.
    await groupCaughtUp(kafka, names.matcher, names.listings);
    await groupCaughtUp(kafka, names.projector, names.matches);
    expect(await matchesOf(searchId)).toEqual([]);
  });

  it('the walker walks to the offer: the search follows and gains the offer as a match', async () => {
    await walk(walker, 200, 1_900, 200);
    const items = await waitFor(async () => {
      const found = await matchesOf(searchId);
      return found.length > 0 ? found : undefined;
    }, 'the offer among the search\'s matches', 30_000, 250);
    expect(items).toEqual([expect.objectContaining({ listingId: offerId, ownerId: seller })]);
    expect((await matchesOf(offerId)).map((m) => m.listingId)).toEqual([searchId]);
    // The search ends where the walker stopped (the coalesced last position arrives).
    await waitFor(async () => {
      const listing = await (await fetch(`${storage.url}/listings/${searchId}`)).json() as { location: Point };
      return haversineM(listing.location, east(1_800)) < 1 ? true : undefined;
    }, 'the search at the walker\'s last position', 15_000, 250);
  }, 60_000);

  it('the walker walks away: the search loses the offer', async () => {
    await walk(walker, 1_600, 0, -400);
    await waitFor(async () => ((await matchesOf(searchId)).length === 0 ? true : undefined), 'no match left', 30_000, 250);
    expect(await matchesOf(offerId)).toEqual([]);
  }, 60_000);
});
