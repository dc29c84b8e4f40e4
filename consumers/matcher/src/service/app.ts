/**
 * Wiring of the matcher service: HTTP first (/healthz answers while the index
 * loads), then Mongo and Kafka, the start from the projection, the index feed,
 * and shard ownership with its reconciliation.
 *
 * Start: (1) the storage projector's committed offsets on `listings`, read
 * FIRST; (2) every active or paused listing of the projection into the index
 * (the projection is at least as new as those offsets); (3) the index feed
 * from those offsets (none committed: from the beginning) — events the
 * projection already had are ignored by version; (4) once the feed has caught
 * up, /readyz turns ready and the instance joins MATCHER_GROUP; (5) each
 * assignment is reconciled with the matches projection (reconcile.ts).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { topics } from '@pushtech/contracts';
import { createMetricsRegistry, healthPlugin } from '@pushtech/http';
import { createKafka, createProducer, ensureTopics, type Kafka, type Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { connectMongo, pingMongo, type MongoClient } from '@pushtech/mongo';
import type { MatcherConfig } from './config.ts';
import { startIndexFeed, type IndexFeed } from './index-feed.ts';
import { createMatchEmitter, type MatchEmitter } from './match-emitter.ts';
import { createMatching, type Matching } from './matching.ts';
import { createMatcherMetrics } from './metrics.ts';
import { currentCollections, loadListings, projectorStart, watermarks } from '@pushtech/listing-log';
import { reconcileShards } from './reconcile.ts';
import { startShardOwnership, type ShardOwnership } from './shard-ownership.ts';

export type MatcherSettings = Omit<MatcherConfig, 'LOG_LEVEL'>;

export type MatcherState = 'starting' | 'loading' | 'catching-up' | 'ready' | 'failed' | 'stopping';

export interface Matcher {
  http: FastifyInstance;
  url: string;
  /** Resolves once the index is loaded, caught up with the log, and the instance is in the group. */
  ready: Promise<void>;
  state(): MatcherState;
  /** Shards (partitions of LISTINGS_TOPIC) this instance decides now. */
  owned(): ReadonlySet<number>;
  /** Throws until `ready` resolved. */
  matching(): Matching;
  /** Match events this instance has written since it started. */
  decisionsSent(): number;
  /**
   * Resolves once the feed has applied everything on LISTINGS_TOPIC as of the
   * call, the decisions are on Kafka, and the reconciliation of the current
   * assignment has finished (tests).
   */
  settled(): Promise<void>;
  /** Leaves the group, finishes the batch in hand, sends every decision made, then closes everything. */
  close(): Promise<void>;
}

const EXPIRY_SWEEP_MS = 1_000;

export async function startMatcher(settings: MatcherSettings, logger: Logger): Promise<Matcher> {
  const registry = createMetricsRegistry('matcher');
  const metrics = createMatcherMetrics(registry);
  const kafka: Kafka = createKafka({ clientId: `matcher-${hostname()}`, brokers: settings.KAFKA_BROKERS, logger });
  const admin = kafka.admin();
  let mongo: MongoClient | undefined;
  let producer: Producer | undefined;
  let emitter: MatchEmitter | undefined;
  let matching: Matching | undefined;
  let feed: IndexFeed | undefined;
  let ownership: ShardOwnership | undefined;
  let owned: ReadonlySet<number> = new Set();
  let state: MatcherState = 'starting';
  let progress = '';
  let sweepTimer: NodeJS.Timeout | undefined;
  let assignment = 0;
  let reconciling: Promise<void> = Promise.resolve();
  const closing = new AbortController();

  const http = Fastify({ logger: false });
  await http.register(healthPlugin, {
    registry,
    checks: {
      index: async () => {
        if (state !== 'ready') throw new Error(`${state}${progress ? `: ${progress}` : ''}`);
      },
      kafka: async () => {
        await admin.connect();
        await admin.describeCluster();
      },
      mongo: async () => {
        if (mongo === undefined) throw new Error('not connected yet');
        await pingMongo(mongo.db(settings.MONGO_DB));
      },
    },
  });
  const url = await http.listen({ host: '0.0.0.0', port: settings.PORT });
  logger.info({ url }, 'listening');

  function reconcile(shards: ReadonlySet<number>): void {
    const generation = ++assignment;
    const isCurrent = () => generation === assignment && owned === shards && !closing.signal.aborted;
    const started = performance.now();
    reconciling = (async () => {
      for (let attempt = 1; isCurrent(); attempt++) {
        try {
          const result = await reconcileShards({
            shards,
            matching: matching!,
            emitter: emitter!,
            feed: feed!,
            kafka,
            admin,
            db: mongo!.db(settings.MONGO_DB),
            listingsTopic: settings.LISTINGS_TOPIC,
            matchesTopic: settings.MATCHES_TOPIC,
            projectorGroup: settings.PROJECTOR_GROUP,
            logger,
            isCurrent,
          });
          if (result === undefined) return;
          const seconds = (performance.now() - started) / 1000;
          metrics.reconcileSeconds.observe(seconds);
          logger.info({ ...result, shards: [...shards].sort((a, b) => a - b), seconds: Math.round(seconds * 1000) / 1000 }, 'shards reconciled with the matches projection');
          return;
        } catch (err) {
          const retryInMs = Math.min(30_000, 500 * 2 ** attempt);
          logger.error({ err, attempt, retryInMs }, 'reconciling shards failed');
          await new Promise((resolve) => setTimeout(resolve, retryInMs));
        }
      }
    })();
  }

  const startUp = async () => {
    mongo = await connectMongo(settings.MONGO_URL, { appName: 'matcher' });
    const db = mongo.db(settings.MONGO_DB);
    await admin.connect();
    await ensureTopics(kafka, [
      { ...topics.listings, name: settings.LISTINGS_TOPIC },
      { ...topics.matches, name: settings.MATCHES_TOPIC },
    ]);
    const metadata = await admin.fetchTopicMetadata({ topics: [settings.LISTINGS_TOPIC] });
    const shards = metadata.topics[0]!.partitions.length;
    producer = await createProducer(kafka);
    emitter = createMatchEmitter({ producer, topic: settings.MATCHES_TOPIC, logger, metrics });
    const emit = emitter;
    matching = createMatching({ shards, owns: (shard) => owned.has(shard), decide: (decision) => emit.decide(decision) });
    const held = matching;

    // (1) The projector's offsets before (2) its documents: the documents are at least as new.
    const start = await projectorStart(admin, settings.PROJECTOR_GROUP, settings.LISTINGS_TOPIC);
    state = 'loading';
    const collections = await currentCollections(db);
    await loadListings({
      db,
      collection: collections.listings,
      logger,
      load: (listing) => {
        if (closing.signal.aborted) throw new Error('stopping');
        if (held.load(listing)) metrics.listingsLoaded.inc();
        progress = `${held.size()} listings`;
      },
    });
    metrics.listingsHeld.set(held.size());

    // (3) The log after the projection.
    state = 'catching-up';
    feed = await startIndexFeed({
      kafka,
      topic: settings.LISTINGS_TOPIC,
      groupId: `${settings.MATCHER_GROUP}.feed.${hostname()}.${randomUUID()}`,
      start,
      matching,
      emitter,
      logger,
      metrics,
    });
    const caughtUp = feed.reach((await watermarks(admin, settings.LISTINGS_TOPIC)).high);
    const reportLag = setInterval(() => {
      progress = `${feed!.lag()} records behind`;
      logger.info({ lag: feed!.lag() }, 'catching up with the listings log');
    }, 2_000);
    const stopping = new Promise<void>((resolve) => closing.signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([caughtUp, stopping]).finally(() => clearInterval(reportLag));
    progress = '';
    if (closing.signal.aborted) return;

    sweepTimer = setInterval(() => {
      if (held.sweepExpired(Date.now()) > 0) void emit.flush();
    }, EXPIRY_SWEEP_MS);

    // (4) Join the group; (5) every assignment is reconciled.
    ownership = await startShardOwnership({
      kafka,
      topic: settings.LISTINGS_TOPIC,
      groupId: settings.MATCHER_GROUP,
      feed,
      logger,
      onChange: (next, reason) => {
        owned = next;
        metrics.ownedShards.set(next.size);
        if (reason === 'assigned' && next.size > 0) reconcile(next);
        else assignment++;
      },
    });
    state = 'ready';
    logger.info({ listings: held.size(), shards }, 'matcher ready');
  };
  // Stopped while starting: `ready` resolves (the process exits through close()).
  const ready = startUp().catch((err: unknown) => {
    if (closing.signal.aborted) return;
    state = 'failed';
    logger.error({ err }, 'matcher failed to start');
    throw err;
  });

  let closed: Promise<void> | undefined;
  return {
    http,
    url,
    ready,
    state: () => state,
    owned: () => owned,
    decisionsSent: () => emitter?.sent() ?? 0,
    matching() {
      if (matching === undefined) throw new Error('the matcher is not ready');
      return matching;
    },
    async settled() {
      await ready;
      await feed!.reach((await watermarks(admin, settings.LISTINGS_TOPIC)).high);
      await reconciling;
      await emitter!.flush();
    },
    close() {
      closed ??= (async () => {
        state = 'stopping';
        closing.abort();
        await ready.catch(() => {});
        clearInterval(sweepTimer);
        // Decide nothing more, send what was decided, then hand the shards over.
        ownership?.release();
        await emitter?.flush();
        await ownership?.stop();
        await feed?.stop();
        await emitter?.close(); // a reconciliation in progress stops at its next chunk
        await producer?.disconnect();
        await admin.disconnect();
        await mongo?.close();
        await http.close();
      })();
      return closed;
    },
  };
}
