/** For integration tests: a storage service on the local stack with its own topics and database. */
import type { FastifyInstance } from 'fastify';
import { createLogger } from '@pushtech/logging';
import { createProducer, type Kafka, type KafkaAdmin, type Producer } from '@pushtech/kafka';
import type { Listing, ListingEvent } from '@pushtech/listings';
import { listingsTopic, matchesTopic, usersTopic, type DeviceEvent, type MatchEvent } from '@pushtech/contracts';
import { loadConfig } from '@pushtech/config';
import type { Db, MongoClient } from '@pushtech/mongo';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { signToken } from '@pushtech/auth';
import { storageConfigSpec, type StorageConfig } from './config.ts';
import type { CollectionPointer } from './projection-collections.ts';
import { storageService, type StorageOptions } from './storage.ts';

export const TEST_SECRET = 'integration-test-secret-0123456789abcdef';

export interface TestStorage {
  /** The HTTP app: tests use `inject()`. */
  app: FastifyInstance;
  /** `http://127.0.0.1:port` when started with `listen: true`. */
  url: string | undefined;
  kafka: Kafka;
  mongo: MongoClient;
  settings: StorageConfig;
  token(userId: string): Promise<string>;
  /** A producer for writing records straight to the test's topics. */
  producer: Producer;
  produceListingEvent(event: ListingEvent): Promise<string>;
  produceMatchEvent(event: MatchEvent): Promise<string>;
  produceUserEvent(event: DeviceEvent): Promise<string>;
  /** Stops everything; drops the database unless `keepDatabase`. */
  stop(options?: { keepDatabase?: boolean }): Promise<void>;
}

export const testLogger = () => createLogger('storage-test', (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent');

/** The config of a storage on the local stack with topics, group and database of its own. */
export function testSettings(change: Partial<StorageConfig> = {}): StorageConfig {
  const { kafkaBrokers, mongoUrl } = stackAddresses();
  return {
    HOST: '127.0.0.1',
    PORT: 0,
    LOG_LEVEL: 'silent',
    KAFKA_BROKERS: kafkaBrokers,
    MONGO_URL: mongoUrl,
    MONGO_DB: uniqueName('storage'),
    JWT_SECRET: TEST_SECRET,
    LISTINGS_TOPIC: uniqueName('listings'),
    MATCHES_TOPIC: uniqueName('matches'),
    USERS_TOPIC: uniqueName('users'),
    PROJECTOR_GROUP: uniqueName('projector'),
    READ_YOUR_WRITES_TIMEOUT_MS: 15_000,
    WEB_PUSH_ENDPOINT_HOSTS: [],
    OIDC_ISSUER: undefined,
    OIDC_AUDIENCE: undefined,
    OIDC_JWKS_URL: undefined,
    ...change,
  };
}

/** Starts storage (not listening unless `listen`) and resolves once it is ready, its projector's group joined. */
export async function startTestStorage(settings = testSettings(), options: StorageOptions & { listen?: boolean } = {}): Promise<TestStorage> {
  const { listen = false, ...storageOptions } = options;
  const service = await storageService({ awaitProjectorJoin: true, ...storageOptions }).start({ config: settings, logger: testLogger(), listen });
  const { kafka, mongo } = await service.ready.catch(async (err: unknown) => {
    await service.stop();
    throw err;
  });
  const producer = await createProducer(kafka.client);
  return {
    app: service.http,
    url: service.url,
    kafka: kafka.client,
    mongo: mongo.client,
    settings,
    producer,
    token: (userId) => signToken(userId, settings.JWT_SECRET),
    async produceListingEvent(event) {
      const { envelope, key, value } = listingsTopic.encode(event);
      await producer.send(settings.LISTINGS_TOPIC, [{ key, value }]);
      return envelope.id;
    },
    async produceMatchEvent(event) {
      const { envelope, key, value } = matchesTopic.encode(event);
      await producer.send(settings.MATCHES_TOPIC, [{ key, value }]);
      return envelope.id;
    },
    async produceUserEvent(event) {
      const { envelope, key, value } = usersTopic.encode(event);
      await producer.send(settings.USERS_TOPIC, [{ key, value }]);
      return envelope.id;
    },
    async stop(stopOptions = {}) {
      await producer.disconnect();
      if (!stopOptions.keepDatabase) await mongo.client.db(settings.MONGO_DB).dropDatabase().catch(() => {});
      await service.stop();
    },
  };
}

/**
 * Storage on stand-ins for Mongo and Kafka, ready, not listening (unit tests of the API:
 * input rules, auth, errors, without servers). `env` as the environment would give it.
 */
export async function startOnStandIns(standIns: { pointer: CollectionPointer; producer: Producer }, env: Record<string, string>) {
  const service = storageService({
    projector: false,
    dependencies: () => ({
      mongo: { connect: async () => ({ client: {} as MongoClient, db: {} as Db, pointer: standIns.pointer, guardByRead: false }) },
      kafka: { connect: async () => ({ client: {} as Kafka, producer: standIns.producer, admin: {} as KafkaAdmin, ping: async () => {}, close: async () => {} }) },
    }),
  });
  const running = await service.start({ config: loadConfig(storageConfigSpec, env), logger: testLogger(), listen: false });
  await running.ready;
  return running;
}

/** A valid POST /listings body. */
export function listingBody(change: Partial<Omit<Listing, 'id' | 'ownerId' | 'status' | 'version'>> = {}) {
  return {
    kind: 'offer' as Listing['kind'],
    title: 'Kinderfahrrad',
    tags: ['blau'],
    location: { type: 'Point' as const, coordinates: [13.405, 52.52] as [number, number] },
    radiusM: 1_000,
    ...change,
  };
}
