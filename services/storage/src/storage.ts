/**
 * Wiring: Mongo, Kafka (topics, producer), the projector and the HTTP app,
 * from config. `index.ts` runs it; the integration tests build the same.
 */
import { topics } from '@pushtech/contracts';
import { createMetricsRegistry } from '@pushtech/http';
import { createKafka, createProducer, ensureTopics, type Kafka, type Producer, type RunningConsumer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { connectMongo, ensureIndexes, isFerretDb, type MongoClient } from '@pushtech/mongo';
import { buildApp, type StorageApp } from './app.ts';
import type { StorageConfig } from './config.ts';
import { createStorageMetrics } from './metrics.ts';
import { collectionPointer, projectionIndexes } from './projection-collections.ts';
import { startProjector } from './projector.ts';
import { createAppliedSignal } from './read-your-writes.ts';

export type StorageSettings = Pick<StorageConfig,
  'KAFKA_BROKERS' | 'MONGO_URL' | 'MONGO_DB' | 'JWT_SECRET' | 'LISTINGS_TOPIC' | 'MATCHES_TOPIC' | 'USERS_TOPIC' | 'PROJECTOR_GROUP' | 'READ_YOUR_WRITES_TIMEOUT_MS'>;

export interface Storage {
  app: StorageApp;
  kafka: Kafka;
  mongo: MongoClient;
  /** Stops in order: HTTP (answers in flight), projector (batch in hand), producer, Mongo. */
  close(): Promise<void>;
}

/** Creates the topics named in `settings` with the partitions and retention of the declared ones. */
export function storageTopics(settings: Pick<StorageSettings, 'LISTINGS_TOPIC' | 'MATCHES_TOPIC'> & Partial<Pick<StorageSettings, 'USERS_TOPIC'>>) {
  return [
    { ...topics.listings, name: settings.LISTINGS_TOPIC },
    { ...topics.matches, name: settings.MATCHES_TOPIC },
    { ...topics.users, name: settings.USERS_TOPIC ?? topics.users.name },
  ];
}

export interface StartOptions {
  /** Run the projector in this process (default true). */
  projector?: boolean;
  /** Resolve only once the projector's group has joined (tests). */
  awaitProjectorJoin?: boolean;
}

export async function startStorage(settings: StorageSettings, logger: Logger, options: StartOptions = {}): Promise<Storage> {
  const registry = createMetricsRegistry('storage');
  const metrics = createStorageMetrics(registry);
  const mongo = await connectMongo(settings.MONGO_URL, { appName: 'storage' });
  const db = mongo.db(settings.MONGO_DB);
  const pointer = collectionPointer(db);
  await ensureIndexes(db, projectionIndexes((await pointer.current()).names));

  const kafka = createKafka({ clientId: 'storage', brokers: settings.KAFKA_BROKERS, logger });
  await ensureTopics(kafka, storageTopics(settings));
  const producer: Producer = await createProducer(kafka);
  const signal = createAppliedSignal();
  const admin = kafka.admin();

  let projector: RunningConsumer | undefined;
  if (options.projector !== false) {
    projector = await startProjector({
      kafka,
      groupId: settings.PROJECTOR_GROUP,
      topics: { listings: settings.LISTINGS_TOPIC, matches: settings.MATCHES_TOPIC, users: settings.USERS_TOPIC },
      target: () => pointer.current(),
      logger: logger.child({ component: 'projector' }),
      metrics,
      signal,
      guardByRead: await isFerretDb(db),
      awaitJoin: options.awaitProjectorJoin,
    });
  }

  const app = await buildApp({
    db,
    pointer,
    producer,
    logger,
    registry,
    metrics,
    signal,
    jwtSecret: settings.JWT_SECRET,
    listingsTopic: settings.LISTINGS_TOPIC,
    usersTopic: settings.USERS_TOPIC,
    readYourWritesTimeoutMs: settings.READ_YOUR_WRITES_TIMEOUT_MS,
    degradedBy: {
      kafka: async () => {
        await admin.connect();
        await admin.describeCluster();
      },
    },
  });

  return {
    app,
    kafka,
    mongo,
    async close() {
      await app.close();
      await projector?.stop();
      await producer.disconnect();
      await admin.disconnect();
      await mongo.close();
    },
  };
}
