/** For integration tests: matcher instances on the local stack with their own topics, groups and database. */
import { listingsTopic, matchesTopic, topics, type MatchEvent } from '@pushtech/contracts';
import { createKafka, ensureTopics, type Kafka, type OutgoingMessage } from '@pushtech/kafka';
import { destination, point, type Listing, type ListingEvent, type Point } from '@pushtech/listings';
import type { Offsets } from '@pushtech/listing-log';
import { createLogger, type Logger } from '@pushtech/logging';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import type { FastifyInstance } from 'fastify';
import { matcher } from './app.ts';
import type { MatcherConfig } from './config.ts';
import type { RunningMatcher } from './matching-start.ts';

export const testLogger: Logger = createLogger('matcher-test', (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent');

/** The config of a matcher on the local stack with topics, groups and database of its own. */
export function testSettings(change: Partial<MatcherConfig> = {}): MatcherConfig {
  const { kafkaBrokers, mongoUrl } = stackAddresses();
  return {
    HOST: '127.0.0.1',
    PORT: 0,
    LOG_LEVEL: 'silent',
    KAFKA_BROKERS: kafkaBrokers,
    MONGO_URL: mongoUrl,
    MONGO_DB: uniqueName('matcher'),
    LISTINGS_TOPIC: uniqueName('listings'),
    MATCHES_TOPIC: uniqueName('matches'),
    MATCHER_GROUP: uniqueName('matcher'),
    PROJECTOR_GROUP: uniqueName('projector'),
    ...change,
  };
}

export function testKafka(settings: MatcherConfig): Kafka {
  return createKafka({ clientId: 'matcher-test', brokers: settings.KAFKA_BROKERS, logger: testLogger });
}

export async function createTestTopics(kafka: Kafka, settings: MatcherConfig): Promise<void> {
  await ensureTopics(kafka, [
    { ...topics.listings, name: settings.LISTINGS_TOPIC },
    { ...topics.matches, name: settings.MATCHES_TOPIC },
  ]);
}

/** A running matcher (not listening: `http.inject`); `stop` stops the whole service. */
export type TestMatcher = RunningMatcher & { http: FastifyInstance };

/** Starts a matcher and resolves once it is ready: index loaded, caught up, in its group. */
export async function startTestMatcher(settings: MatcherConfig, name = 'matcher'): Promise<TestMatcher> {
  const service = await matcher.start({ config: settings, logger: testLogger.child({ instance: name }), listen: false });
  const running = await service.ready.catch(async (err: unknown) => {
    await service.stop();
    throw err;
  });
  return { ...running, http: service.http, stop: () => service.stop() };
}

/** A record of topic `listings` as storage writes it (key: the listing id). */
export function listingRecord(event: ListingEvent): OutgoingMessage {
  return listingsTopic.encode(event);
}

export const CENTRE = point(13.405, 52.52);

/** A point `metres` east of CENTRE (north when `north`). */
export function at(metres: number, north = 0): Point {
  const east = destination(CENTRE, metres, Math.PI / 2);
  return north === 0 ? east : destination(east, north, 0);
}

export function listing(change: Partial<Listing> & Pick<Listing, 'id' | 'kind'>): Listing {
  return {
    ownerId: `owner-${change.id}`,
    title: 'bike',
    tags: [],
    location: CENTRE,
    radiusM: 1_000,
    follow: false,
    status: 'active',
    imageIds: [],
    version: 1,
    ...change,
  };
}

/** Sets a consumer group's committed offsets (the group must have no members). */
export async function commitOffsets(kafka: Kafka, groupId: string, topic: string, offsets: Offsets): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: String(offset) })) });
  } finally {
    await admin.disconnect();
  }
}

/** `type searchId|offerId` of each match record, in the order given. */
export function decisions(values: (Buffer | null)[]): string[] {
  return values.map((value) => {
    const { type, data } = matchEvent(value);
    return `${type} ${data.searchId}|${data.offerId}`;
  });
}

export function matchEvents(values: (Buffer | null)[]): MatchEvent[] {
  return values.map(matchEvent);
}

function matchEvent(value: Buffer | null): MatchEvent {
  const parsed = matchesTopic.decode(value);
  if (!parsed.ok) throw new Error(`not a match record: ${JSON.stringify(parsed.errors)}`);
  return parsed.value.event;
}
