/** For integration tests: a storage service on the local stack with its own topics and database. */
import { signToken } from '@pushtech/auth';
import { listingsTopic, matchesTopic, usersTopic, type DeviceEvent, type MatchEvent } from '@pushtech/contracts';
import { createProducer, type Producer } from '@pushtech/kafka';
import type { Listing, ListingEvent } from '@pushtech/listings';
import { createLogger } from '@pushtech/logging';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { startStorage, type StartOptions, type Storage, type StorageSettings } from './storage.ts';

export const TEST_SECRET = 'integration-test-secret-0123456789abcdef';

export interface TestStorage extends Storage {
  settings: StorageSettings;
  token(userId: string): Promise<string>;
  /** A producer for writing records straight to the test's topics. */
  producer: Producer;
  produceListingEvent(event: ListingEvent): Promise<string>;
  produceMatchEvent(event: MatchEvent): Promise<string>;
  produceUserEvent(event: DeviceEvent): Promise<string>;
  /** Stops everything; drops the database unless `keepDatabase`. */
  stop(options?: { keepDatabase?: boolean }): Promise<void>;
}

export function testSettings(change: Partial<StorageSettings> = {}): StorageSettings {
  const { kafkaBrokers, mongoUrl } = stackAddresses();
  return {
    KAFKA_BROKERS: kafkaBrokers,
    MONGO_URL: mongoUrl,
    MONGO_DB: uniqueName('storage'),
    JWT_SECRET: TEST_SECRET,
    LISTINGS_TOPIC: uniqueName('listings'),
    MATCHES_TOPIC: uniqueName('matches'),
    USERS_TOPIC: uniqueName('users'),
    PROJECTOR_GROUP: uniqueName('projector'),
    READ_YOUR_WRITES_TIMEOUT_MS: 15_000,
    ...change,
  };
}

export async function startTestStorage(settings = testSettings(), options: StartOptions = {}): Promise<TestStorage> {
  const logger = createLogger('storage-test', (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent');
  const storage = await startStorage(settings, logger, { awaitProjectorJoin: true, ...options });
  const producer = await createProducer(storage.kafka);
  return {
    ...storage,
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
      if (!stopOptions.keepDatabase) await storage.mongo.db(settings.MONGO_DB).dropDatabase().catch(() => {});
      await storage.close();
    },
  };
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
