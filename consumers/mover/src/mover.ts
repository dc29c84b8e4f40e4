/**
 * The mover as a service: Kafka (topics, an admin connection, the producer of moves) and Mongo
 * (storage's projection) are its dependencies, connected with the runtime's back-off while it
 * already answers /healthz. Then it starts, as the matcher does: the storage projector's
 * committed offsets on LISTINGS_TOPIC, read first; the following listings of the projection;
 * the listing feed from those offsets, caught up with the log before the first location event
 * is taken. Then the consumer (group MOVER_GROUP on EVENTS_TOPIC) joins in the background;
 * the mover is ready once it reads.
 *
 * A location event with a userId hands its position to the coalescer; when the user's interval
 * is up the position is applied to the user's following listings (listing-moves.ts). Offsets are
 * committed once the positions of the events before them are applied. Stop: HTTP, then stop
 * taking events, apply every waiting position now, commit, leave; then Mongo and Kafka close.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { topics } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, pingKafka, runAckConsumer, type AckConsumer, type Kafka, type KafkaAdmin, type Producer } from '@pushtech/kafka';
import { currentCollections, followProjection, loadListings, parseListingEvent, type ListingFeed } from '@pushtech/listing-log';
import type { Logger } from '@pushtech/logging';
import { connectMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { defineService, type Dependencies, type ServiceContext } from '@pushtech/service';
import { moverConfigSpec, type MoverConfig } from './config.ts';
import { createFollowingListings, type FollowingListings } from './following-listings.ts';
import { createListingMover } from './listing-moves.ts';
import { readLocationEvent } from './location-event.ts';
import { createMoverMetrics, type MoverMetrics } from './metrics.ts';
import { createPositionCoalescer, type PositionCoalescer } from './position-coalescer.ts';

/** Kafka, topics made: the client, an admin connection (the projector's offsets, /readyz) and the producer of moves. */
export interface MoverKafka {
  client: Kafka;
  admin: KafkaAdmin;
  producer: Producer;
}

/** Storage's projection: read once, at the start. */
export interface MoverMongo {
  client: MongoClient;
  db: Db;
}

/** What the mover runs once started. */
export interface RunningMover {
  consumer: AckConsumer;
  coalescer: PositionCoalescer;
  feed: ListingFeed;
  gaugeTimer: NodeJS.Timeout;
  /** The consumer has fetched once since it joined. */
  reading(): boolean;
  /** Users with a position waiting or being applied. */
  pendingUsers(): number;
}

const COMMIT_EVERY_MS = 500;

async function connectKafka({ config, logger }: ServiceContext<MoverConfig>): Promise<MoverKafka> {
  const client = createKafka({ clientId: 'mover', brokers: config.KAFKA_BROKERS, logger });
  await ensureTopics(client, [
    { ...topics.events, name: config.EVENTS_TOPIC },
    { ...topics.listings, name: config.LISTINGS_TOPIC },
  ]);
  const admin = client.admin();
  await admin.connect();
  try {
    return { client, admin, producer: await createProducer(client) };
  } catch (err) {
    await admin.disconnect();
    throw err;
  }
}

async function connectProjection(config: MoverConfig): Promise<MoverMongo> {
  const client = await connectMongo(config.MONGO_URL, { appName: 'mover' });
  return { client, db: client.db(config.MONGO_DB) };
}

function moverDependencies(ctx: ServiceContext<MoverConfig>): Dependencies<{ kafka: MoverKafka; mongo: MoverMongo }> {
  return {
    kafka: {
      connect: () => connectKafka(ctx),
      check: ({ admin }) => pingKafka(admin),
      async close({ admin, producer }) {
        await producer.disconnect();
        await admin.disconnect();
      },
    },
    // Read only at the start: /readyz does not ask it afterwards.
    mongo: { connect: () => connectProjection(ctx.config), close: (mongo) => mongo.client.close() },
  };
}

/** `awaitJoin` (tests): be ready only once the consumer is in its group and reading, so an event written next is read. */
export function moverService(options: { awaitJoin?: boolean } = {}) {
  return defineService({
    name: 'mover',
    config: moverConfigSpec,
    dependencies: moverDependencies,
    async start({ config, logger, registry }, { kafka, mongo }): Promise<RunningMover> {
      const metrics = createMoverMetrics(registry);
      const following = createFollowingListings();
      const feed = await followListings(config, { kafka, db: mongo.db, following, logger, metrics });
      const mover = createListingMover({ following, producer: kafka.producer, topic: config.LISTINGS_TOPIC, minMoveM: config.MIN_MOVE_M, metrics });
      const coalescer = createPositionCoalescer({
        minIntervalMs: config.MIN_INTERVAL_MS,
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
        kafka: kafka.client,
        groupId: config.MOVER_GROUP,
        topics: [config.EVENTS_TOPIC],
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
      logger.info({ group: config.MOVER_GROUP, events: config.EVENTS_TOPIC, listings: config.LISTINGS_TOPIC }, 'mover running');
      return { consumer, coalescer, feed, gaugeTimer, reading: () => reading, pendingUsers: () => coalescer.pendingUsers() };
    },
    checks: ({ config }, running) => ({
      consumer: async () => {
        const mover = running();
        if (!mover.consumer.member() || !mover.reading()) throw new Error(`not reading in consumer group ${config.MOVER_GROUP} yet`);
      },
    }),
    // HTTP is closed first; then no more events are taken, every waiting position is applied, the offsets committed.
    async stop({ consumer, coalescer, feed, gaugeTimer }) {
      consumer.pause();
      await coalescer.drain();
      clearInterval(gaugeTimer);
      await consumer.stop();
      coalescer.close();
      await feed.stop();
    },
  });
}

export const mover = moverService();

/** Loads the following listings of storage's projection, then follows the log from the projector's offsets until caught up. */
async function followListings(
  config: MoverConfig,
  context: { kafka: MoverKafka; db: Db; following: FollowingListings; logger: Logger; metrics: MoverMetrics },
): Promise<ListingFeed> {
  const { kafka, db, following, logger, metrics } = context;
  const feed = await followProjection({
    kafka: kafka.client,
    admin: kafka.admin,
    topic: config.LISTINGS_TOPIC,
    projectorGroup: config.PROJECTOR_GROUP,
    groupId: `${config.MOVER_GROUP}.feed.${hostname()}.${randomUUID()}`,
    logger,
    async load() {
      await loadListings({ db, collection: (await currentCollections(db)).listings, filter: { follow: true }, load: following.load, logger });
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
