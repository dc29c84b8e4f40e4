/**
 * Wiring: the offer server as a service. Mongo (sources, claims, known items; indexes made) and
 * Kafka (`listings` made, a producer) are its dependencies; once both are there the import loop
 * starts (unless IMPORT_ENABLED=false) and the sources API answers.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '@pushtech/config';
import { topics } from '@pushtech/contracts';
import { connectKafka, type KafkaConnection } from '@pushtech/kafka';
import { connectMongo, ensureIndexes, pingMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { defineService, type Dependencies, type ServiceContext } from '@pushtech/service';
import { offerserverConfigSpec, type OfferserverConfig } from './config.ts';
import { createImageImporter } from './image-import.ts';
import { retireSource, type ImportDeps } from './import-source.ts';
import { createItemStore } from './item-store.ts';
import { createOfferserverMetrics } from './metrics.ts';
import { createHostSlots } from './host-slots.ts';
import { createPoliteness, createRobots } from './politeness.ts';
import { SOURCE_ID_MAX_CHARS } from './source-input.ts';
import { sourceRoutes } from './routes.ts';
import { startScheduler, type Scheduler } from './scheduler.ts';
import { createSourceStore, sourceIndexes } from './source-store.ts';

export interface OfferserverMongo {
  client: MongoClient;
  db: Db;
}

export type OfferserverDependencies = { mongo: OfferserverMongo; kafka: KafkaConnection };

export interface RunningOfferserver {
  deps: ImportDeps;
  scheduler: Scheduler;
}

export interface OfferserverOptions {
  /** Run the loop (default: IMPORT_ENABLED). Tests drive `scheduler.runOnce()` with `loop: false`. */
  loop?: boolean;
  /** The clock (tests move it forward to pass TTLs and back-offs). */
  now?: () => number;
}

function offerserverDependencies({ config, logger }: ServiceContext<OfferserverConfig>): Dependencies<OfferserverDependencies> {
  return {
    mongo: {
      async connect() {
        const client = await connectMongo(config.MONGO_URL, { appName: 'offerserver' });
        try {
          const db = client.db(config.MONGO_DB);
          await ensureIndexes(db, sourceIndexes);
          return { client, db };
        } catch (err) {
          await client.close();
          throw err;
        }
      },
      check: (mongo) => pingMongo(mongo.db),
      close: (mongo) => mongo.client.close(),
    },
    kafka: {
      connect: () => connectKafka({ clientId: 'offerserver', brokers: config.KAFKA_BROKERS, logger, topics: [{ ...topics.listings, name: config.LISTINGS_TOPIC }] }),
      check: (kafka) => kafka.ping(),
      close: (kafka) => kafka.close(),
    },
  };
}

/** The fetcher's settings from the config. */
export function fetchSettings(config: OfferserverConfig) {
  return {
    userAgent: config.FETCH_USER_AGENT,
    timeoutMs: config.FETCH_TIMEOUT_MS,
    maxBytes: config.FETCH_MAX_BYTES,
    maxRedirects: config.FETCH_MAX_REDIRECTS,
    allowPrivate: config.FETCH_ALLOW_PRIVATE,
  };
}

export function offerserverService(options: OfferserverOptions = {}) {
  return defineService({
    name: 'offerserver',
    config: offerserverConfigSpec,
    checkConfig: (config) => [
      ...(config.IMPORT_BACKOFF_MAX_MS < config.IMPORT_BACKOFF_INITIAL_MS ? [new ConfigError('IMPORT_BACKOFF_MAX_MS', 'must be at least IMPORT_BACKOFF_INITIAL_MS')] : []),
      // A claim must outlast a fetch (and robots.txt before it), or a second instance could take the source meanwhile.
      ...(config.IMPORT_LEASE_MS < 3 * config.FETCH_TIMEOUT_MS ? [new ConfigError('IMPORT_LEASE_MS', 'must be at least 3 × FETCH_TIMEOUT_MS')] : []),
    ],
    // A source id is up to 100 characters, each up to 12 URL-encoded bytes (%F0%90%80%80): the router must take them all.
    http: { bodyLimit: 64 * 1024, logRequests: true, routerOptions: { maxParamLength: SOURCE_ID_MAX_CHARS * 12 } },
    errors: () => ({ dependencyErrors: { Mongo: 'mongo', Kafka: 'kafka' } }),
    dependencies: offerserverDependencies,
    start({ config, logger, registry }, { mongo, kafka }): RunningOfferserver {
      const now = options.now ?? Date.now;
      const fetch = fetchSettings(config);
      const sources = createSourceStore(mongo.db, { owner: `${process.pid}-${randomUUID()}`, leaseMs: config.IMPORT_LEASE_MS });
      const politeness = createPoliteness({
        robots: createRobots(fetch, now),
        slots: createHostSlots(mongo.db, { perMinute: config.FETCH_HOST_PER_MINUTE, now }),
        hosts: sources,
        now,
      });
      const deps: ImportDeps = {
        sources,
        items: createItemStore(mongo.db),
        producer: kafka.producer,
        listingsTopic: config.LISTINGS_TOPIC,
        politeness,
        fetch,
        backoff: { initialMs: config.IMPORT_BACKOFF_INITIAL_MS, maxMs: config.IMPORT_BACKOFF_MAX_MS },
        goneAfter: config.IMPORT_GONE_AFTER,
        maxItems: config.IMPORT_MAX_ITEMS,
        images: config.IMAGESERVER_URL === ''
          ? undefined
          : createImageImporter({ imageserverUrl: config.IMAGESERVER_URL, jwtSecret: config.JWT_SECRET, fetch, politeness, logger: logger.child({ component: 'images' }), registry }),
        metrics: createOfferserverMetrics(registry),
        logger: logger.child({ component: 'import' }),
        now,
      };
      const scheduler = startScheduler(deps, {
        batchSize: config.IMPORT_BATCH_SIZE,
        concurrency: config.IMPORT_CONCURRENCY,
        pollMs: config.IMPORT_POLL_MS,
        leaseMs: config.IMPORT_LEASE_MS,
        loop: options.loop ?? config.IMPORT_ENABLED,
      });
      return { deps, scheduler };
    },
    routes: (http, { config }, running) =>
      sourceRoutes(http, {
        jwtSecret: config.JWT_SECRET,
        adminUserIds: config.ADMIN_USER_IDS,
        deps: () => {
          const { deps } = running();
          return { sources: deps.sources, retire: (source) => retireSource(deps, source), now: deps.now ?? Date.now };
        },
      }),
    // HTTP closes first; then the loop stops and the fetches in flight finish.
    stop: (running) => running.scheduler.stop(),
  });
}

export const offerserver = offerserverService();
