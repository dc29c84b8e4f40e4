/**
 * What the matcher starts once Mongo and Kafka are connected, and how it stops.
 *
 * Start: (1) the storage projector's committed offsets on `listings`, read
 * FIRST; (2) every active or paused listing of the projection into the index
 * (the projection is at least as new as those offsets); (3) the index feed
 * from those offsets (none committed: from the beginning) — events the
 * projection already had are ignored by version; (4) once the feed has caught
 * up, the instance joins MATCHER_GROUP and is ready; (5) each assignment is
 * reconciled with the matches projection (reconcile.ts).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { currentCollections, loadListings, projectorStart, watermarks } from '@pushtech/listing-log';
import { retry, type BackoffPolicy, type ServiceContext } from '@pushtech/service';
import type { MatcherDependencies } from './app.ts';
import type { MatcherConfig } from './config.ts';
import { startIndexFeed, type IndexFeed } from './index-feed.ts';
import { createMatchEmitter } from './match-emitter.ts';
import { createMatching, type Matching } from './matching.ts';
import { createMatcherMetrics } from './metrics.ts';
import { reconcileShards } from './reconcile.ts';
import { startShardOwnership, type ShardOwnership } from './shard-ownership.ts';

export interface RunningMatcher {
  matching: Matching;
  /** Shards (partitions of LISTINGS_TOPIC) this instance decides now. */
  owned(): ReadonlySet<number>;
  /** Match events this instance has written since it started. */
  decisionsSent(): number;
  /**
   * Resolves once the feed has applied everything on LISTINGS_TOPIC as of the
   * call, the decisions are on Kafka, and the reconciliation of the current
   * assignment has finished (tests).
   */
  settled(): Promise<void>;
  /** The service's stop: decides nothing more, sends every decision made, leaves the group, stops the feed. */
  stop(): Promise<void>;
}

const EXPIRY_SWEEP_MS = 1_000;
const LAG_REPORT_MS = 2_000;
/** A failed reconciliation is tried again 1 s later, doubling up to 30 s, while the assignment stands. */
const RECONCILE_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000 };

/** How far the start of each running instance is, for /readyz: `loading: 120000 listings`, …, `ready`. */
const progress = new WeakMap<object, string>();

export function startProgress(ctx: ServiceContext<MatcherConfig>): string {
  return progress.get(ctx) ?? 'waiting for mongo and kafka';
}

/** Resolves with `promise`, or rejects once the service stops. */
function unlessStopped<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      signal.throwIfAborted();
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    }),
  ]);
}

export async function startMatching(ctx: ServiceContext<MatcherConfig>, { mongo, kafka }: MatcherDependencies): Promise<RunningMatcher> {
  const { config, logger, signal } = ctx;
  const db = mongo.db(config.MONGO_DB);
  const { admin } = kafka;
  const metrics = createMatcherMetrics(ctx.registry);
  const metadata = await admin.fetchTopicMetadata({ topics: [config.LISTINGS_TOPIC] });
  const shards = metadata.topics[0]!.partitions.length;
  const emitter = createMatchEmitter({ producer: kafka.producer, topic: config.MATCHES_TOPIC, logger, metrics });
  let owned: ReadonlySet<number> = new Set();
  const matching = createMatching({ shards, owns: (shard) => owned.has(shard), decide: (decision) => emitter.decide(decision) });

  // (1) The projector's offsets before (2) its documents: the documents are at least as new.
  const start = await projectorStart(admin, config.PROJECTOR_GROUP, config.LISTINGS_TOPIC);
  progress.set(ctx, 'loading');
  await loadListings({
    db,
    collection: (await currentCollections(db)).listings,
    logger,
    load: (listing) => {
      signal.throwIfAborted();
      if (matching.load(listing)) metrics.listingsLoaded.inc();
      progress.set(ctx, `loading: ${matching.size()} listings`);
    },
  });
  metrics.listingsHeld.set(matching.size());

  // (3) The log after the projection.
  progress.set(ctx, 'catching-up');
  const feed: IndexFeed = await startIndexFeed({
    kafka: kafka.client,
    topic: config.LISTINGS_TOPIC,
    groupId: `${config.MATCHER_GROUP}.feed.${hostname()}.${randomUUID()}`,
    start,
    matching,
    emitter,
    logger,
    metrics,
  });
  let assignment = 0;
  let reconciling: Promise<void> = Promise.resolve();
  const reconcile = (assigned: ReadonlySet<number>) => {
    const generation = ++assignment;
    const isCurrent = () => generation === assignment && owned === assigned && !signal.aborted;
    const started = performance.now();
    reconciling = retry(
      async () => {
        if (!isCurrent()) return;
        const result = await reconcileShards({
          shards: assigned, matching, emitter, feed, kafka: kafka.client, admin, db,
          listingsTopic: config.LISTINGS_TOPIC, matchesTopic: config.MATCHES_TOPIC, projectorGroup: config.PROJECTOR_GROUP,
          logger, isCurrent,
        });
        if (result === undefined) return;
        const seconds = (performance.now() - started) / 1000;
        metrics.reconcileSeconds.observe(seconds);
        logger.info({ ...result, shards: [...assigned].sort((a, b) => a - b), seconds: Math.round(seconds * 1000) / 1000 }, 'shards reconciled with the matches projection');
      },
      { policy: RECONCILE_BACKOFF, signal, onFailure: (err, attempt, retryInMs) => logger.error({ err, attempt, retryInMs }, 'reconciling shards failed') },
    ).catch(() => {}); // only a stop ends the retrying
  };

  let ownership: ShardOwnership;
  try {
    const reportLag = setInterval(() => {
      progress.set(ctx, `catching-up: ${feed.lag()} records behind`);
      logger.info({ lag: feed.lag() }, 'catching up with the listings log');
    }, LAG_REPORT_MS);
    await unlessStopped(feed.reach((await watermarks(admin, config.LISTINGS_TOPIC)).high), signal).finally(() => clearInterval(reportLag));

    // (4) Join the group; (5) every assignment is reconciled.
    ownership = await startShardOwnership({
      kafka: kafka.client,
      topic: config.LISTINGS_TOPIC,
      groupId: config.MATCHER_GROUP,
      feed,
      logger,
      onChange: (next, reason) => {
        owned = next;
        metrics.ownedShards.set(next.size);
        if (reason === 'assigned' && next.size > 0) reconcile(next);
        else assignment++;
      },
    });
  } catch (err) {
    await feed.stop(); // `stop` below is only called for a start that finished
    throw err;
  }
  const sweep = setInterval(() => {
    if (matching.sweepExpired(Date.now()) > 0) void emitter.flush();
  }, EXPIRY_SWEEP_MS);
  progress.set(ctx, 'ready');
  logger.info({ listings: matching.size(), shards }, 'matcher ready');

  return {
    matching,
    owned: () => owned,
    decisionsSent: () => emitter.sent(),
    async settled() {
      await feed.reach((await watermarks(admin, config.LISTINGS_TOPIC)).high);
      await reconciling;
      await emitter.flush();
    },
    async stop() {
      progress.set(ctx, 'stopping');
      clearInterval(sweep);
      // Decide nothing more, send what was decided, then hand the shards over.
      ownership.release();
      await emitter.flush();
      await ownership.stop();
      await feed.stop();
      await emitter.close(); // a reconciliation in progress stops at its next chunk
    },
  };
}
