// The mover on the real stack: location events in `events` → `listing.moved` in
// `listings` for the user's active following listings, coalesced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listingsTopic, topics, type EnrichedEvent } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { createKafka, createProducer, ensureTopics, type Kafka, type Producer } from '@pushtech/kafka';
import { destination, haversineM, point, type Listing, type ListingEvent, type Point } from '@pushtech/listings';
import { createLogger } from '@pushtech/logging';
import { connectMongo, type MongoClient } from '@pushtech/mongo';
import { groupCaughtUp, readTopic, stackAddresses, uniqueName, waitFor, type TopicReader } from '@pushtech/testing';
import type { MoverConfig } from './config.ts';
import { moverService, type RunningMover } from './mover.ts';

const logger = createLogger('mover-test', (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent');
const { kafkaBrokers, mongoUrl } = stackAddresses();
const settings: MoverConfig = {
  // The tests inject their requests: the service does not listen.
  HOST: '127.0.0.1', PORT: 0, LOG_LEVEL: 'silent',
  KAFKA_BROKERS: kafkaBrokers,
  MONGO_URL: mongoUrl,
  MONGO_DB: uniqueName('mover'),
  EVENTS_TOPIC: uniqueName('events'),
  LISTINGS_TOPIC: uniqueName('listings'),
  MOVER_GROUP: uniqueName('mover'),
  PROJECTOR_GROUP: uniqueName('projector'),
  MIN_MOVE_M: 25,
  MIN_INTERVAL_MS: 1_000,
};

const CENTRE = point(13.405, 52.52);
const east = (metres: number) => destination(CENTRE, metres, Math.PI / 2);

const base: Omit<Listing, 'id' | 'kind' | 'ownerId'> = {
  title: 'bike', tags: [], location: CENTRE, radiusM: 500, follow: true, status: 'active', imageIds: [], version: 3,
};
// Each test has users and listings of its own: what one test's positions do never shows in another's.
const listings: Listing[] = [
  { ...base, id: 'a-follows', kind: 'search', ownerId: 'alice' },
  { ...base, id: 'a-follows-too', kind: 'offer', ownerId: 'alice', version: 7 },
  { ...base, id: 'a-stays', kind: 'offer', ownerId: 'alice', follow: false },
  { ...base, id: 'a-paused', kind: 'search', ownerId: 'alice', status: 'paused' },
  { ...base, id: 'a-expired', kind: 'search', ownerId: 'alice', expiresAt: '2020-01-01T00:00:00.000Z' },
  { ...base, id: 'c-follows', kind: 'search', ownerId: 'cora' },
  { ...base, id: 'd-follows', kind: 'search', ownerId: 'dora' },
  { ...base, id: 'b-follows', kind: 'search', ownerId: 'bob' },
];

let kafka: Kafka;
let producer: Producer;
let mongo: MongoClient;
let service: Awaited<ReturnType<ReturnType<typeof moverService>['start']>>;
let mover: RunningMover;
let moves: TopicReader;

function location(userId: string | undefined, at: ReturnType<typeof point>): { key: string; value: string } {
  const event: EnrichedEvent = createEnvelope({
    source: 'tracker/test',
    type: 'location',
    subject: userId ?? 'anon-1',
    data: {
      lng: at.coordinates[0], lat: at.coordinates[1],
      context: { ip: '127.0.0.1', ...(userId === undefined ? { anonymousId: 'anon-1' } : { userId }), geo: null, device: {}, os: {}, browser: {} },
    },
  });
  return { key: userId ?? 'anon-1', value: JSON.stringify(event) };
}


const send = (...records: { key: string; value: string }[]) => producer.send(settings.EVENTS_TOPIC, records);
const moved = () => moves.values<{ source: string; type: string; subject: string; time: string; data: Extract<ListingEvent, { type: 'listing.moved' }>['data'] }>();
const movesOf = (id: string) => moved().filter((e) => e.type === 'listing.moved' && e.subject === id);
const at = (e: { data: { location: Point } }, point: Point) => haversineM(e.data.location, point) < 0.01;

/** A value of the mover's /metrics (0 when the series has no sample yet). */
async function metric(name: string, label = ''): Promise<number> {
  const body = (await service.http.inject('/metrics')).body;
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}
const waitForMetric = (name: string, label: string, atLeast: number) =>
  waitFor(async () => ((await metric(name, label)) >= atLeast ? true : undefined), `${name}{${label}} >= ${atLeast}`);

/**
 * The marker before asserting that no (other) move came: every position the mover has taken is
 * applied and its moves are on Kafka, and the reader holds everything on the listings topic.
 */
async function settled(): Promise<void> {
  await waitFor(() => (mover.pendingUsers() === 0 ? true : undefined), 'no position waiting');
  await moves.caughtUp();
}

beforeAll(async () => {
  kafka = createKafka({ clientId: 'mover-test', brokers: settings.KAFKA_BROKERS, logger });
  await ensureTopics(kafka, [{ ...topics.events, name: settings.EVENTS_TOPIC }, { ...topics.listings, name: settings.LISTINGS_TOPIC }]);
  producer = await createProducer(kafka);
  mongo = await connectMongo(settings.MONGO_URL, { appName: 'mover-test' });
  await mongo.db(settings.MONGO_DB).collection('listings').insertMany(
    listings.map((l) => ({ _id: l.id, ...l, terms: ['bike'], eventIds: [], updatedAt: new Date().toISOString() })) as never[],
  );
  moves = await readTopic(kafka, settings.LISTINGS_TOPIC, logger);
  service = await moverService({ awaitJoin: true }).start({ config: settings, logger, listen: false });
  mover = await service.ready;
});

afterAll(async () => {
  await service?.stop();
  await moves?.stop();
  await producer?.disconnect();
  await mongo?.db(settings.MONGO_DB).dropDatabase().catch(() => {});
  await mongo?.close();
});

describe('mover', () => {
  it('moves the user\'s active following listings to where the user is, as storage writes moves', async () => {
    await send(location('alice', east(100)));
    await waitFor(() => (movesOf('a-follows').length > 0 && movesOf('a-follows-too').length > 0 ? true : undefined), 'alice\'s two moves');
    await settled();
    const events = moved().filter((e) => e.subject.startsWith('a-'));
    expect(events.map((e) => [e.subject, e.data.version]).sort()).toEqual([['a-follows', 4], ['a-follows-too', 8]]);
    for (const event of events) {
      expect(event).toMatchObject({ type: 'listing.moved', source: 'mover', data: { id: event.subject } });
      expect(at(event, east(100))).toBe(true);
    }
    expect(moves.messages.map((m) => m.key).filter((key) => key?.startsWith('a-')).sort()).toEqual(['a-follows', 'a-follows-too']);
  });

  it('coalesces positions that come while one is being applied, and the last one arrives', async () => {
    const coalesced = await metric('mover_coalesced_total');
    // One send: the three are one batch, so the second and third come while the first is applied.
    await send(location('cora', east(130)), location('cora', east(160)), location('cora', east(190)));
    await waitFor(() => (movesOf('c-follows').length >= 2 ? true : undefined), 'cora\'s first two moves');
    // The marker: a later position, applied after the ones before it.
    await send(location('cora', east(1_000)));
    await waitFor(() => (movesOf('c-follows').some((e) => at(e, east(1_000))) ? true : undefined), 'the marker\'s move');
    await settled();
    const after = movesOf('c-follows');
    expect(after.map((e) => e.data.version)).toEqual([4, 5, 6]);
    expect([at(after[0]!, east(130)), at(after[1]!, east(190)), at(after[2]!, east(1_000))]).toEqual([true, true, true]);
    expect(await metric('mover_coalesced_total')).toBe(coalesced + 1);
  });

  it('does not move a listing less than 25 m', async () => {
    const skipped = await metric('mover_moves_skipped_total');
    await send(location('dora', east(10))); // a first position: applied at once, 10 m from the listing
    await waitForMetric('mover_moves_skipped_total', '', skipped + 1);
    await send(location('dora', east(300))); // the marker: it moves the listing
    await waitFor(() => (movesOf('d-follows').length > 0 ? true : undefined), 'the marker\'s move');
    await settled();
    expect(movesOf('d-follows').map((e) => [e.data.version, at(e, east(300))])).toEqual([[4, true]]);
  });

  it('leaves other users\' listings alone and skips locations without a user, counting them', async () => {
    const before = moves.messages.length;
    const noUser = await metric('mover_events_total', 'outcome="no_user"');
    const applied = await metric('mover_flushes_total', 'outcome="ok"');
    await send(location(undefined, east(5_000)), location('carol', east(5_000)));
    // The markers: the event without a user counted, carol's position applied (it moves nothing: she has no listings).
    await waitForMetric('mover_events_total', 'outcome="no_user"', noUser + 1);
    await waitForMetric('mover_flushes_total', 'outcome="ok"', applied + 1);
    await settled();
    expect(moves.messages.slice(before)).toEqual([]);
    expect(movesOf('b-follows')).toEqual([]);
    expect(await metric('mover_events_total', 'outcome="no_user"')).toBe(noUser + 1);
    expect((await service.http.inject('/readyz')).statusCode).toBe(200);
  });

  it('moves a following listing created after it started (from the log), and not once the listing is closed', async () => {
    const following = await metric('mover_following_listings');
    const eve = { ...base, id: 'e-follows', kind: 'search' as const, ownerId: 'eve', version: 1 };
    await producer.send(settings.LISTINGS_TOPIC, [listingsTopic.encode({ type: 'listing.created', data: eve })]);
    await waitForMetric('mover_following_listings', '', following + 1);
    await send(location('eve', east(400)));
    await waitFor(() => (movesOf('e-follows').length > 0 ? true : undefined), 'eve\'s move');
    expect(movesOf('e-follows').map((e) => e.data.version)).toEqual([2]);

    await producer.send(settings.LISTINGS_TOPIC, [listingsTopic.encode({ type: 'listing.closed', data: { id: 'e-follows', version: 3 } })]);
    await waitFor(async () => ((await metric('mover_following_listings')) === following ? true : undefined), 'the close applied');
    const applied = await metric('mover_flushes_total', 'outcome="ok"');
    await send(location('eve', east(1_000)));
    await waitForMetric('mover_flushes_total', 'outcome="ok"', applied + 1); // the marker: eve's position applied
    await settled();
    expect(movesOf('e-follows').map((e) => e.data.version)).toEqual([2]);
    expect(await metric('mover_following_listings')).toBe(listings.filter((l) => l.follow).length);
  });

  it('commits the offsets of the events it has applied', async () => {
    await groupCaughtUp(kafka, settings.MOVER_GROUP, settings.EVENTS_TOPIC, 10_000);
  });
});
