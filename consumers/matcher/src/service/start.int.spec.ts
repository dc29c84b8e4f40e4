// The matcher starts from storage's Mongo projection plus the log after the
// projector's committed offsets — not by replaying everything — and reconciles
// the matches projection with its index.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Kafka, type Producer } from '@pushtech/kafka';
import { pairKey, type MatchData } from '@pushtech/contracts';
import type { Listing } from '@pushtech/listings';
import { connectMongo, type MongoClient } from '@pushtech/mongo';
import { readTopic, type TopicReader } from '@pushtech/testing';
import { watermarks } from '@pushtech/listing-log';
import {
  at, commitOffsets, createTestTopics, decisions, listing, listingRecord, startTestMatcher, testKafka, testLogger, testSettings, type TestMatcher,
} from './test-matcher.ts';

const settings = testSettings();
let kafka: Kafka;
let producer: Producer;
let mongo: MongoClient;
let matcher: TestMatcher;
let matches: TopicReader;

const s1 = listing({ id: 's1', kind: 'search', ownerId: 'alice', title: 'bike', radiusM: 1_000 });
const o1 = listing({ id: 'o1', kind: 'offer', ownerId: 'bob', title: 'bike', location: at(300), version: 2 });
const o9 = listing({ id: 'o9', kind: 'offer', ownerId: 'carol', title: 'bike', location: at(400), status: 'paused', version: 2 });
/** In the log before the projector's offsets, but not in the projection: a matcher that replays the log would know it. */
const x = listing({ id: 'x', kind: 'offer', ownerId: 'xavier', title: 'bike', location: at(100) });
/** In the collection a rebuild replaced: not current. */
const decoy = listing({ id: 'decoy', kind: 'offer', ownerId: 'dan', title: 'bike', location: at(200) });
/** Written after the projector's offsets. */
const o2 = listing({ id: 'o2', kind: 'offer', ownerId: 'dora', title: 'bike', location: at(500) });

const document = (l: Listing) => ({ _id: l.id, ...l, terms: [l.title], eventIds: [], updatedAt: new Date().toISOString() });
const matchDocument = (data: MatchData) => ({ _id: pairKey(data.searchId, data.offerId), pair: pairKey(data.searchId, data.offerId), ...data, state: 'found', eventIds: [], decidedAt: new Date().toISOString() });

beforeAll(async () => {
  kafka = testKafka(settings);
  await createTestTopics(kafka, settings);
  producer = await createProducer(kafka);
  mongo = await connectMongo(settings.MONGO_URL, { appName: 'matcher-test' });
  const db = mongo.db(settings.MONGO_DB);

  // The log up to the projector's offsets (x was never projected: a gap made on purpose).
  await producer.send(settings.LISTINGS_TOPIC, [
    { type: 'listing.created', data: s1 } as const,
    { type: 'listing.created', data: { ...o1, version: 1 } } as const,
    { type: 'listing.updated', data: o1 } as const,
    { type: 'listing.created', data: { ...o9, status: 'active', version: 1 } } as const,
    { type: 'listing.paused', data: { id: 'o9', version: 2 } } as const,
    { type: 'listing.created', data: x } as const,
  ].map(listingRecord));
  const admin = kafka.admin();
  await admin.connect();
  await commitOffsets(kafka, settings.PROJECTOR_GROUP, settings.LISTINGS_TOPIC, (await watermarks(admin, settings.LISTINGS_TOPIC)).high);
  await admin.disconnect();

  // The projection, after a rebuild: projection_meta names the current collections.
  await db.collection('projection_meta').insertOne({ _id: 'current' as never, listings: 'listings_r1', matches: 'matches_r1', switchedAt: new Date().toISOString() });
  await db.collection('listings_r1').insertMany([s1, o1, o9].map(document) as never[]);
  await db.collection('listings').insertMany([decoy].map(document) as never[]);
  await db.collection('matches_r1').insertMany([
    matchDocument({ searchId: 's1', offerId: 'o1', searchOwnerId: 'alice', offerOwnerId: 'bob', distanceM: 300, searchVersion: 1, offerVersion: 2 }),
    // Stale: o9 was paused and the match never lost (the matcher was down).
    matchDocument({ searchId: 's1', offerId: 'o9', searchOwnerId: 'alice', offerOwnerId: 'carol', distanceM: 400, searchVersion: 1, offerVersion: 1 }),
  ] as never[]);

  // The log after the projector's offsets.
  await producer.send(settings.LISTINGS_TOPIC, [listingRecord({ type: 'listing.created', data: o2 })]);

  matches = await readTopic(kafka, settings.MATCHES_TOPIC, testLogger);
  matcher = await startTestMatcher(settings);
});

afterAll(async () => {
  await matches?.stop();
  await matcher?.stop();
  await producer?.disconnect();
  await mongo?.db(settings.MONGO_DB).dropDatabase().catch(() => {});
  await mongo?.close();
});

describe('matcher start', () => {
  it('holds the current projection plus the log after the projector\'s offsets, and nothing else', async () => {
    const index = matcher.matching.index;
    expect(['s1', 'o1', 'o9', 'o2'].filter((id) => index.has(id))).toEqual(['s1', 'o1', 'o9', 'o2']);
    expect(index.has('x')).toBe(false);
    expect(index.has('decoy')).toBe(false);
    expect(matcher.matching.facts('o1')?.version).toBe(2);
  });

  it('makes the matches projection agree with its index once it owns the shards', async () => {
    await expect.poll(() => matcher.owned().size, { timeout: 30_000 }).toBe(6);
    await matcher.settled();
    await matches.caughtUp(); // settled: its decisions are on Kafka; now the reader has all of them
    expect(decisions(matches.messages.map((m) => m.value)).sort()).toEqual(['match.found s1|o2', 'match.lost s1|o9']);
  });

  it('then follows the log', async () => {
    await producer.send(settings.LISTINGS_TOPIC, [listingRecord({ type: 'listing.moved', data: { id: 's1', location: at(10_000), version: 2 } })]);
    await matcher.settled();
    await matches.waitForCount(4);
    expect(decisions(matches.messages.slice(2).map((m) => m.value)).sort()).toEqual(['match.lost s1|o1', 'match.lost s1|o2']);
  });
});
