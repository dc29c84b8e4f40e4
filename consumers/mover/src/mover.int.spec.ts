// The mover on the real stack: location events in `events` → `listing.moved` in
// `listings` for the user's active following listings, coalesced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listingsTopic, topics, type EnrichedEvent } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { createKafka, createProducer, ensureTopics, type Kafka, type Producer } from '@pushtech/kafka';
import { cellsFor, destination, haversineM, point, type Listing, type ListingEvent } from '@pushtech/listings';
import { createLogger } from '@pushtech/logging';
import { connectMongo, type MongoClient } from '@pushtech/mongo';
import { readTopic, stackAddresses, uniqueName, type TopicReader } from '@pushtech/testing';
import { startMover, type Mover, type MoverSettings } from './app.ts';

const logger = createLogger('mover-test', (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent');
const { kafkaBrokers, mongoUrl } = stackAddresses();
const settings: MoverSettings = {
  KAFKA_BROKERS: kafkaBrokers,
  MONGO_URL: mongoUrl,
  MONGO_DB: uniqueName('mover'),
  EVENTS_TOPIC: uniqueName('events'),
  LISTINGS_TOPIC: uniqueName('listings'),
  MOVER_GROUP: uniqueName('mover'),
  PROJECTOR_GROUP: uniqueName('projector'),
  MIN_MOVE_M: 25,
  MIN_INTERVAL_MS: 1_000,
  PORT: 0,
};

const CENTRE = point(13.405, 52.52);
const east = (metres: number) => destination(CENTRE, metres, Math.PI / 2);

const base: Omit<Listing, 'id' | 'kind' | 'ownerId'> = {
  title: 'bike', tags: [], location: CENTRE, radiusM: 500, follow: true, status: 'active', imageIds: [], version: 3,
};
const listings: Listing[] = [
  { ...base, id: 'a-follows', kind: 'search', ownerId: 'alice' },
  { ...base, id: 'a-follows-too', kind: 'offer', ownerId: 'alice', version: 7 },
  { ...base, id: 'a-stays', kind: 'offer', ownerId: 'alice', follow: false },
  { ...base, id: 'a-paused', kind: 'search', ownerId: 'alice', status: 'paused' },
  { ...base, id: 'a-expired', kind: 'search', ownerId: 'alice', expiresAt: '2020-01-01T00:00:00.000Z' },
  { ...base, id: 'b-follows', kind: 'search', ownerId: 'bob' },
];

let kafka: Kafka;
let producer: Producer;
let mongo: MongoClient;
let mover: Mover;
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
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  kafka = createKafka({ clientId: 'mover-test', brokers: settings.KAFKA_BROKERS, logger });
  await ensureTopics(kafka, [{ ...topics.events, name: settings.EVENTS_TOPIC }, { ...topics.listings, name: settings.LISTINGS_TOPIC }]);
  producer = await createProducer(kafka);
  mongo = await connectMongo(settings.MONGO_URL, { appName: 'mover-test' });
  await mongo.db(settings.MONGO_DB).collection('listings').insertMany(
    listings.map((l) => ({ _id: l.id, ...l, cells: cellsFor(l.location), terms: ['bike'], eventIds: [], updatedAt: new Date().toISOString() })) as never[],
  );
  moves = await readTopic(kafka, settings.LISTINGS_TOPIC, logger);
  mover = await startMover(settings, logger, { awaitJoin: true });
});

afterAll(async () => {
  await mover?.close();
  await moves?.stop();
  await producer?.disconnect();
  await mongo?.db(settings.MONGO_DB).dropDatabase().catch(() => {});
  await mongo?.close();
});

describe('mover', () => {
  it('moves the user\'s active following listings to where the user is, as storage writes moves', async () => {
    const started = Date.now();
    await send(location('alice', east(100)));
    await moves.waitForCount(2, 10_000);
    const events = moved();
    expect(events.map((e) => [e.subject, e.data.version]).sort()).toEqual([['a-follows', 4], ['a-follows-too', 8]]);
    for (const event of events) {
      expect(event).toMatchObject({ type: 'listing.moved', source: 'mover', data: { id: event.subject } });
      expect(haversineM(point(...event.data.location.coordinates), east(100))).toBeLessThan(0.01);
    }
    expect(moves.messages.map((m) => m.key).sort()).toEqual(['a-follows', 'a-follows-too']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('coalesces positions less than a second apart, and the last one arrives', async () => {
    await sleep(1_100);
    const sent = Date.now();
    await send(location('alice', east(130)));
    await send(location('alice', east(160)));
    await send(location('alice', east(190)));
    await moves.waitForCount(6, 10_000);
    await sleep(1_200); // no third move comes
    const after = moved().slice(2).filter((e) => e.subject === 'a-follows');
    // The first of the three moves at once (a second has passed since the last move); the next two are
    // coalesced into one move, a second after the first, to the last position.
    expect(after.map((e) => e.data.version)).toEqual([5, 6]);
    expect(haversineM(point(...after[0]!.data.location.coordinates), east(130))).toBeLessThan(0.01);
    expect(haversineM(point(...after[1]!.data.location.coordinates), east(190))).toBeLessThan(0.01);
    expect(Date.parse(after[1]!.time) - Date.parse(after[0]!.time)).toBeGreaterThanOrEqual(950);
    expect(Date.now() - sent).toBeGreaterThan(900);
  });

  it('does not move a listing less than 25 m', async () => {
    await sleep(1_100);
    const before = moves.messages.length;
    await send(location('alice', east(200)));
    await sleep(1_500);
    expect(moves.messages.length).toBe(before);
    await send(location('alice', east(300)));
    await moves.waitForCount(before + 2, 10_000);
    expect(haversineM(point(...moved().at(-1)!.data.location.coordinates), east(300))).toBeLessThan(0.01);
  });

  it('leaves other users\' listings alone and skips locations without a user, counting them', async () => {
    const before = moves.messages.length;
    await send(location(undefined, east(5_000)), location('carol', east(5_000)));
    await sleep(1_500);
    expect(moves.messages.length).toBe(before);
    expect(moved().map((e) => e.subject).filter((id) => !id.startsWith('a-follows'))).toEqual([]);
    const metrics = (await mover.http.inject('/metrics')).body;
    expect(metrics).toMatch(/mover_events_total\{outcome="no_user",service="mover"\} 1/);
    expect((await mover.http.inject('/readyz')).statusCode).toBe(200);
  });

  it('moves a following listing created after it started (from the log), and not once the listing is closed', async () => {
    const dave = { ...base, id: 'd-follows', kind: 'search' as const, ownerId: 'dave', version: 1 };
    await producer.send(settings.LISTINGS_TOPIC, [listingsTopic.encode({ type: 'listing.created', data: dave })]);
    const before = moves.messages.length;
    await expect.poll(async () => {
      await send(location('dave', east(400)));
      await sleep(300);
      return moved().some((e) => e.type === 'listing.moved' && e.subject === 'd-follows');
    }, { timeout: 10_000, interval: 100 }).toBe(true);
    expect(moved().filter((e) => e.type === 'listing.moved' && e.subject === 'd-follows').map((e) => e.data.version)).toEqual([2]);

    await producer.send(settings.LISTINGS_TOPIC, [listingsTopic.encode({ type: 'listing.closed', data: { id: 'd-follows', version: 3 } })]);
    const closedAt = moves.messages.length;
    await sleep(1_500);
    await send(location('dave', east(1_000)));
    await sleep(1_500);
    expect(moved().slice(closedAt).filter((e) => e.type === 'listing.moved' && e.subject === 'd-follows')).toEqual([]);
    expect(moves.messages.length).toBeGreaterThan(before);
    const metrics = (await mover.http.inject('/metrics')).body;
    expect(metrics).toMatch(/mover_following_listings\{service="mover"\} 5/); // a-follows, a-follows-too, a-paused, a-expired, b-follows
  });

  it('commits the offsets of the events it has applied', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = new Map((await admin.fetchTopicOffsets(settings.EVENTS_TOPIC)).map((p) => [p.partition, p.high]));
      await expect.poll(async () => {
        const [committed] = await admin.fetchOffsets({ groupId: settings.MOVER_GROUP, topics: [settings.EVENTS_TOPIC] });
        return committed!.partitions.every((p) => ends.get(p.partition) === '0' || p.offset === ends.get(p.partition));
      }, { timeout: 10_000 }).toBe(true);
    } finally {
      await admin.disconnect();
    }
  });
});
