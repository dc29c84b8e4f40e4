// Matcher service on the real stack: listing events in, match.found / match.lost out,
// only when the state of a pair changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Kafka, type Producer } from '@pushtech/kafka';
import { pairKey } from '@pushtech/contracts';
import type { ListingEvent } from '@pushtech/listings';
import { readTopic, topicLength, type TopicReader } from '@pushtech/testing';
import { partitionOf } from './shards.ts';
import {
  at, createTestTopics, decisions, listing, listingRecord, matchEvents, startTestMatcher, testKafka, testLogger, testSettings, type TestMatcher,
} from './test-matcher.ts';

const settings = testSettings();
let kafka: Kafka;
let producer: Producer;
let matcher: TestMatcher;
let matches: TopicReader;
let listingsLog: TopicReader;

beforeAll(async () => {
  kafka = testKafka(settings);
  await createTestTopics(kafka, settings);
  producer = await createProducer(kafka);
  matcher = await startTestMatcher(settings);
  matches = await readTopic(kafka, settings.MATCHES_TOPIC, testLogger);
  listingsLog = await readTopic(kafka, settings.LISTINGS_TOPIC, testLogger);
});

afterAll(async () => {
  await matches?.stop();
  await listingsLog?.stop();
  await matcher?.stop();
  await producer?.disconnect();
});

let seen = 0;
/** Writes `events`, waits until the matcher has applied them, and returns the decisions they caused. */
async function given(...events: ListingEvent[]): Promise<string[]> {
  await producer.send(settings.LISTINGS_TOPIC, events.map(listingRecord));
  await matcher.settled();
  const total = await topicLength(kafka, settings.MATCHES_TOPIC);
  await matches.waitForCount(total);
  const news = matches.messages.slice(seen, total);
  seen = total;
  return decisions(news.map((m) => m.value)).sort();
}

describe('matcher service', () => {
  const search = listing({ id: 's1', kind: 'search', ownerId: 'alice', title: 'Bike', tags: [], radiusM: 1_000 });
  const offer = listing({ id: 'o1', kind: 'offer', ownerId: 'bob', title: 'Blue bike', description: 'old', location: at(300), radiusM: 2_000 });

  it('owns every shard when it is alone in its group', async () => {
    await expect.poll(() => matcher.owned().size).toBe(6);
  });

  it('decides match.found when a search and an offer meet', async () => {
    expect(await given({ type: 'listing.created', data: search })).toEqual([]);
    expect(await given({ type: 'listing.created', data: offer })).toEqual(['match.found s1|o1']);
    const [found] = matchEvents([matches.messages.at(-1)!.value]);
    expect(found!.data).toMatchObject({ searchId: 's1', offerId: 'o1', searchOwnerId: 'alice', offerOwnerId: 'bob', searchVersion: 1, offerVersion: 1 });
    expect(found!.data.distanceM).toBeCloseTo(300, 0);
    const record = matches.messages.at(-1)!;
    expect(record.key).toBe(pairKey('s1', 'o1'));
    expect(JSON.parse(record.value!.toString())).toMatchObject({ specversion: '1.0', source: 'matcher', type: 'match.found', subject: 's1|o1' });
  });

  it('decides nothing for an edit that keeps the match, nor for a duplicate or an old version', async () => {
    expect(await given({ type: 'listing.updated', data: { ...offer, description: 'new saddle', version: 2 } })).toEqual([]);
    expect(await given({ type: 'listing.moved', data: { id: 'o1', location: at(350), version: 3 } })).toEqual([]);
    expect(await given({ type: 'listing.moved', data: { id: 'o1', location: at(5_000), version: 3 } })).toEqual([]);
    expect(await given({ type: 'listing.created', data: offer })).toEqual([]);
  });

  it('decides match.lost when the pair stops matching, and found again when it matches again', async () => {
    expect(await given({ type: 'listing.moved', data: { id: 'o1', location: at(1_500), version: 4 } })).toEqual(['match.lost s1|o1']);
    expect(await given({ type: 'listing.moved', data: { id: 's1', location: at(1_000), version: 2 } })).toEqual(['match.found s1|o1']);
    expect(await given({ type: 'listing.paused', data: { id: 's1', version: 3 } })).toEqual(['match.lost s1|o1']);
    expect(await given({ type: 'listing.resumed', data: { id: 's1', version: 4 } })).toEqual(['match.found s1|o1']);
    expect(await given({ type: 'listing.updated', data: { ...offer, title: 'Car', location: at(1_500), version: 5 } })).toEqual(['match.lost s1|o1']);
    expect(await given({ type: 'listing.updated', data: { ...offer, location: at(1_500), version: 6 } })).toEqual(['match.found s1|o1']);
  });

  it('never matches a search and an offer of the same owner, nor an offer without the term', async () => {
    expect(await given(
      { type: 'listing.created', data: listing({ id: 'o2', kind: 'offer', ownerId: 'alice', location: at(1_000) }) },
      { type: 'listing.created', data: listing({ id: 'o3', kind: 'offer', ownerId: 'carol', title: 'Helmet', location: at(1_000) }) },
    )).toEqual([]);
  });

  it('decides for every search an offer meets, and loses them all when the offer closes', async () => {
    expect(await given({ type: 'listing.created', data: listing({ id: 's2', kind: 'search', ownerId: 'alice', title: 'bike', location: at(1_200) }) }))
      .toEqual(['match.found s2|o1']);
    expect(await given({ type: 'listing.closed', data: { id: 'o1', version: 7 } })).toEqual(['match.lost s1|o1', 'match.lost s2|o1']);
    expect(await given({ type: 'listing.resumed', data: { id: 'o1', version: 8 } })).toEqual([]);
  });

  it('decides match.lost when a listing expires, with no event', async () => {
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    expect(await given({ type: 'listing.created', data: listing({ id: 'o4', kind: 'offer', ownerId: 'erin', location: at(1_100), expiresAt }) }))
      .toEqual(['match.found s1|o4', 'match.found s2|o4']);
    await matches.waitForCount(seen + 2, 10_000);
    expect(await given()).toEqual(['match.lost s1|o4', 'match.lost s2|o4']);
  });

  it('answers /healthz, /readyz and /metrics', async () => {
    expect((await matcher.http.inject('/healthz')).statusCode).toBe(200);
    const ready = await matcher.http.inject('/readyz');
    expect(ready.json()).toEqual({ status: 'ready', checks: { mongo: 'ok', kafka: 'ok', started: 'ok', index: 'ok' } });
    const metrics = (await matcher.http.inject('/metrics')).body;
    expect(metrics).toMatch(/matcher_listings_held\{service="matcher"\} [1-9]/);
    expect(metrics).toMatch(/matcher_matches_total\{type="found",cause="event",service="matcher"\} [1-9]/);
    expect(metrics).toMatch(/matcher_matches_total\{type="lost",cause="expiry",service="matcher"\} 2/);
    expect(metrics).toMatch(/matcher_listing_events_total\{outcome="ignored",service="matcher"\} [1-9]/);
    expect(metrics).toContain('matcher_rematch_seconds_bucket');
    expect(metrics).toMatch(/matcher_owned_shards\{service="matcher"\} 6/);
  });

  it('puts a pair in the shard of its search: the partition Kafka gives the search id', async () => {
    await listingsLog.waitForCount(1);
    for (const message of listingsLog.messages) expect(partitionOf(message.key!, 6)).toBe(message.partition);
  });
});
