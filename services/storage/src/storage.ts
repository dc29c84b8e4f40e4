/**
 * Wiring: storage as a service. Mongo (indexes) and Kafka (topics, producer) are its
 * dependencies, connected with back-off while it already listens; once both are there the
 * projector starts and storage is ready. Kafka is `degraded`: once started, reads go on
 * without it and writes answer 503. `index.ts` runs it; the tests start the same.
 */
import { topics } from '@pushtech/contracts';
import { connectKafka, type KafkaConnection, type RunningConsumer } from '@pushtech/kafka';
import { connectMongo, ensureIndexes, isFerretDb, pingMongo, type Db, type MongoClient } from '@pushtech/mongo';
import type { Logger } from '@pushtech/logging';
import { checkOidcConfig, oidcVerifierFrom } from '@pushtech/auth';
import { defineService, type Dependencies, type ServiceContext } from '@pushtech/service';
import { storageErrors, storageHttp, storageRoutes, type StorageHandlers } from './app.ts';
import { storageConfigSpec, type StorageConfig } from './config.ts';
import { createDeviceStore } from './device-store.ts';
import { fillListingCells } from './listing-cells.ts';
import { createListingStore } from './listing-store.ts';
import { createStorageMetrics } from './metrics.ts';
import { collectionPointer, projectionIndexes, type CollectionPointer } from './projection-collections.ts';
import { startProjector } from './projector.ts';
import { createAppliedSignal } from './read-your-writes.ts';

/** Creates the topics named in `settings` with the partitions and retention of the declared ones. */
export function storageTopics(settings: Pick<StorageConfig, 'LISTINGS_TOPIC' | 'MATCHES_TOPIC'> & Partial<Pick<StorageConfig, 'USERS_TOPIC'>>) {
  return [
    { ...topics.listings, name: settings.LISTINGS_TOPIC },
    { ...topics.matches, name: settings.MATCHES_TOPIC },
    { ...topics.users, name: settings.USERS_TOPIC ?? topics.users.name },
  ];
}

/** The projections' database, indexes made, the nearby index filled. */
export interface StorageMongo {
  client: MongoClient;
  db: Db;
  pointer: CollectionPointer;
  /** FerretDB: the projector checks its write guard on a read (projection-writer.ts). */
  guardByRead: boolean;
}

/** Kafka, topics made: the client (the projector's), the producer (commands'), and a probe for /readyz. */
export type StorageKafka = KafkaConnection;

export type StorageDependencies = { mongo: StorageMongo; kafka: StorageKafka };

/** What `start` gives: the connections, the projector and what the routes use. */
export interface RunningStorage extends StorageHandlers {
  mongo: StorageMongo;
  kafka: StorageKafka;
  projector: RunningConsumer | undefined;
}

export interface StorageOptions {
  /** Run the projector in this process (default true). */
  projector?: boolean;
  /** Be ready only once the projector's group has joined (tests). */
  awaitProjectorJoin?: boolean;
  /** Stand-ins for Mongo and Kafka (unit tests, without servers). */
  dependencies?: (ctx: ServiceContext<StorageConfig>) => Dependencies<StorageDependencies>;
}

async function connectProjections(config: StorageConfig, logger: Logger): Promise<StorageMongo> {
  const client = await connectMongo(config.MONGO_URL, { appName: 'storage' });
  try {
    const db = client.db(config.MONGO_DB);
    const pointer = collectionPointer(db);
    const current = await pointer.current();
    await ensureIndexes(db, projectionIndexes(current.names));
    const started = Date.now();
    const filled = await fillListingCells(current.listingCells, current.listings, {
      onChunk: (listings) => logger.info({ listings, ms: Date.now() - started }, 'filling the nearby index from the listings'),
    });
    if (filled > 0) logger.info({ listings: filled, ms: Date.now() - started }, 'nearby index filled from the listings (projected before it existed)');
    return { client, db, pointer, guardByRead: await isFerretDb(db) };
  } catch (err) {
    await client.close();
    throw err;
  }
}

function storageDependencies({ config, logger }: ServiceContext<StorageConfig>): Dependencies<StorageDependencies> {
  return {
    mongo: { connect: () => connectProjections(config, logger), check: (mongo) => pingMongo(mongo.db), close: (mongo) => mongo.client.close() },
    kafka: {
      connect: () => connectKafka({ clientId: 'storage', brokers: config.KAFKA_BROKERS, logger, topics: storageTopics(config) }),
      check: (kafka) => kafka.ping(),
      close: (kafka) => kafka.close(),
      degraded: true,
    },
  };
}

export function storageService(options: StorageOptions = {}) {
  return defineService({
    name: 'storage',
    config: storageConfigSpec,
    checkConfig: checkOidcConfig,
    http: storageHttp,
    errors: () => storageErrors,
    dependencies: options.dependencies ?? storageDependencies,
    async start({ config, logger, registry }, { mongo, kafka }): Promise<RunningStorage> {
      const metrics = createStorageMetrics(registry);
      const signal = createAppliedSignal();
      const projector = options.projector === false ? undefined : await startProjector({
        kafka: kafka.client,
        groupId: config.PROJECTOR_GROUP,
        topics: { listings: config.LISTINGS_TOPIC, matches: config.MATCHES_TOPIC, users: config.USERS_TOPIC },
        target: () => mongo.pointer.current(),
        logger: logger.child({ component: 'projector' }),
        metrics,
        signal,
        guardByRead: mongo.guardByRead,
        awaitJoin: options.awaitProjectorJoin,
      });
      const commands = { producer: kafka.producer, signal, readYourWritesTimeoutMs: config.READ_YOUR_WRITES_TIMEOUT_MS, metrics, logger };
      return {
        mongo,
        kafka,
        projector,
        listings: { ...commands, store: createListingStore(mongo.pointer), listingsTopic: config.LISTINGS_TOPIC },
        devices: { ...commands, store: createDeviceStore(mongo.pointer), usersTopic: config.USERS_TOPIC },
      };
    },
    routes: (http, { config }, running) => storageRoutes(http, { jwtSecret: config.JWT_SECRET, oidc: oidcVerifierFrom(config), webPushHosts: config.WEB_PUSH_ENDPOINT_HOSTS, running }),
    // HTTP is closed first (answers in flight), then the projector finishes its batch; Kafka and Mongo close after.
    stop: (storage) => storage.projector?.stop(),
  });
}

export const storage = storageService();
