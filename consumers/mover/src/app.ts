/**
 * Wiring of the mover: HTTP (/healthz, /readyz, /metrics), the following
 * listings in memory, Kafka (group MOVER_GROUP on EVENTS_TOPIC, a producer to
 * LISTINGS_TOPIC), the coalescer and the offset commits.
 *
 * Start, as the matcher's: the storage projector's committed offsets on
 * LISTINGS_TOPIC, read first; the following listings of storage's Mongo
 * projection (Mongo is not used after that); the listing feed from those
 * offsets, caught up with the log before the first location event is taken.
 *
 * A location event with a userId hands its position to the coalescer; when the
 * user's interval is up the position is applied to the user's following
 * listings (listing-moves.ts). Offsets are committed once the positions of
 * the events before them are applied. SIGTERM: stop taking events, apply every
 * waiting position now, commit, leave.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance } from 'fastify';
import { topics } from '@pushtech/contracts';
import { createMetricsRegistry, healthPlugin } from '@pushtech/http';
import { createKafka, createProducer, ensureTopics, runAckConsumer, type Kafka, type Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { currentCollections, followProjection, loadListings, parseListingEvent, type Admin, type ListingFeed } from '@pushtech/listing-log';
import { connectMongo } from '@pushtech/mongo';
import type { MoverConfig } from './config.ts';
import { createFollowingListings, type FollowingListings } from './following-listings.ts';
import { createListingMover } from './listing-moves.ts';
import { readLocationEvent } from './location-event.ts';
import { createMoverMetrics, type MoverMetrics } from './metrics.ts';
import { createPositionCoalescer } from './position-coalescer.ts';

export type MoverSettings = Omit<MoverConfig, 'LOG_LEVEL'>;

export interface Mover {
  http: FastifyInstance;
  url: string;
  /** Users with a position waiting or being applied. */
  pendingUsers(): number;
  /** Stops taking events, applies every waiting position, commits, then closes everything. */
  close(): Promise<void>;
}

const COMMIT_EVERY_MS = 500;

/** `awaitJoin` (tests): resolve only once the consumer is in its group and reading, so an event written next is read. */
export async function startMover(settings: MoverSettings, logger: Logger, options: { awaitJoin?: boolean } = {}): Promise<Mover> {
  const registry = createMetricsRegistry('mover');
  const metrics = createMoverMetrics(registry);
  const kafka = createKafka({ clientId: 'mover', brokers: settings.KAFKA_BROKERS, logger });
  await ensureTopics(kafka, [
    { ...topics.events, name: settings.EVENTS_TOPIC },
    { ...topics.listings, name: settings.LISTINGS_TOPIC },
  ]);
  const admin = kafka.admin();
  await admin.connect();
  const following = createFollowingListings();
  const feed = await followListings(settings, { kafka, admin, following, logger, metrics });
  const producer: Producer = await createProducer(kafka);
  const mover = createListingMover({ following, producer, topic: settings.LISTINGS_TOPIC, minMoveM: settings.MIN_MOVE_M, metrics });

  const coalescer = createPositionCoalescer({
    minIntervalMs: settings.MIN_INTERVAL_MS,
    async apply(userId, location) {
      const started = performance.now();
      const moved = await mover.move(userId, location);
      metrics.flushes.inc({ outcome: 'ok' });
      metrics.flushSeconds.observe((performance.now() - started) / 1000);
      logger.debug({ userId, location: location.coordinates, moved }, 'position applied');
    },
    onCoalesced: () => metrics.coalesced.inc(),
    onFailure(err, userId, attempt) {
      metrics.flushes.inc({ outcome: 'failed' });
      logger.warn({ err: err instanceof Error ? err.message : String(err), userId, attempt }, 'applying a position failed: retrying');
    },
  });

  // An event is acknowledged once what it asked for is done (its position applied, or nothing
  // to do); positions wait up to MIN_INTERVAL_MS, so offsets trail a little. A crash re-reads
  // the events not done, and re-applying a position is harmless.
  const consumer = await runAckConsumer({
    kafka,
    groupId: settings.MOVER_GROUP,
    topics: [settings.EVENTS_TOPIC],
    logger,
    // A new group starts at the end of the topic: events written before that are not its business.
    fromBeginning: false,
    commitIntervalMs: COMMIT_EVERY_MS,
    maxWaitMs: 1_000,
    take(message) {
      const outcome = readLocationEvent(message);
      switch (outcome.kind) {
        case 'location':
          metrics.events.inc({ outcome: 'location' });
          void coalescer.offer(outcome.userId, outcome.location).then(message.ack);
          return;
        case 'other':
          metrics.events.inc({ outcome: 'other' });
          break;
        case 'no-user':
          metrics.events.inc({ outcome: 'no_user' });
          break;
        case 'invalid':
          metrics.events.inc({ outcome: 'invalid' });
          logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, reason: outcome.reason }, 'location event skipped');
          break;
      }
      message.ack();
    },
  });
  const gaugeTimer = setInterval(() => metrics.pendingUsers.set(coalescer.pendingUsers()), COMMIT_EVERY_MS);
  let reading = false;
  void consumer.reading.then(() => { reading = true; });
  if (options.awaitJoin) await consumer.reading;

  const http = Fastify({ logger: false });
  await http.register(healthPlugin, {
    registry,
    checks: {
      kafka: async () => {
        if (!consumer.member() || !reading) throw new Error(`not reading in consumer group ${settings.MOVER_GROUP} yet`);
        await admin.connect();
        await admin.describeCluster();
      },
    },
  });
  const url = await http.listen({ host: '0.0.0.0', port: settings.PORT });
  logger.info({ url, group: settings.MOVER_GROUP, events: settings.EVENTS_TOPIC, listings: settings.LISTINGS_TOPIC }, 'mover running');

  let closed: Promise<void> | undefined;
  return {
    http,
    url,
    pendingUsers: () => coalescer.pendingUsers(),
    close() {
      closed ??= (async () => {
        consumer.pause();
        await coalescer.drain();
        clearInterval(gaugeTimer);
        await consumer.stop();
        coalescer.close();
        await feed.stop();
        await http.close();
        await producer.disconnect();
        await admin.disconnect();
      })();
      return closed;
    },
  };
}

/** Loads the following listings of storage's projection, then follows the log from the projector's offsets until caught up. */
async function followListings(
  settings: MoverSettings,
  context: { kafka: Kafka; admin: Admin; following: FollowingListings; logger: Logger; metrics: MoverMetrics },
): Promise<ListingFeed> {
  const { kafka, admin, following, logger, metrics } = context;
  const feed = await followProjection({
    kafka,
    admin,
    topic: settings.LISTINGS_TOPIC,
    projectorGroup: settings.PROJECTOR_GROUP,
    groupId: `${settings.MOVER_GROUP}.feed.${hostname()}.${randomUUID()}`,
    logger,
    async load() {
      const mongo = await connectMongo(settings.MONGO_URL, { appName: 'mover' });
      try {
        const db = mongo.db(settings.MONGO_DB);
        await loadListings({ db, collection: (await currentCollections(db)).listings, filter: { follow: true }, load: following.load, logger });
      } finally {
        await mongo.close();
      }
    },
    parse: parseListingEvent,
    apply: following.apply,
    onInvalid: () => metrics.invalidListingRecords.inc(),
    onProgress: () => metrics.followingListings.set(following.size()),
  });
  metrics.followingListings.set(following.size());
  logger.info({ following: following.size() }, 'following listings loaded and caught up with the log');
  return feed;
}
