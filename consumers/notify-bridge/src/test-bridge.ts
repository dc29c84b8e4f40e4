/** For integration tests: a notify bridge on the local stack with its own topics, group and database, and a clock the test moves. */
import { matchesTopic, topics, usersTopic, type DeviceEvent, type MatchEvent } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, type Kafka, type Producer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { connectMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { readTopic, stackAddresses, uniqueName, waitFor, type TopicReader } from '@pushtech/testing';
import { bridgeService } from './app.ts';
import type { BatchResult } from './bridge.ts';
import type { BridgeConfig } from './config.ts';
import type { BridgePushRequest } from './notify-request.ts';

export const testLogger = () => createLogger('notify-bridge-test', (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent');

export function testSettings(change: Partial<BridgeConfig> = {}): BridgeConfig {
  const { kafkaBrokers, mongoUrl } = stackAddresses();
  return {
    HOST: '127.0.0.1',
    PORT: 0, // any free port
    LOG_LEVEL: 'silent',
    KAFKA_BROKERS: kafkaBrokers,
    MONGO_URL: mongoUrl,
    MONGO_DB: uniqueName('bridge'),
    MATCHES_TOPIC: uniqueName('matches'),
    USERS_TOPIC: uniqueName('users'),
    PROJECTOR_GROUP: uniqueName('projector'), // commits nothing: the devices log is read from its beginning
    REQUESTS_TOPIC: uniqueName('requests'),
    RESPONSE_TOPIC: uniqueName('responses'),
    BRIDGE_GROUP: uniqueName('bridge'),
    PAIR_WINDOW_S: 3_600,
    USER_MAX_PER_HOUR: 20,
    MATCH_MAX_AGE_S: 600,
    ...change,
  };
}

/** A clock that stands still unless the test moves it. */
export function testClock(start = Date.now()) {
  let at = start;
  return { now: () => at, advance: (ms: number) => { at += ms; } };
}

export interface TestBridge {
  /** The running service, listening on `url`. */
  bridge: { url: string; stop(): Promise<void> };
  settings: BridgeConfig;
  kafka: Kafka;
  mongo: MongoClient;
  db: Db;
  producer: Producer;
  /** Everything the bridge wrote to the requests topic. */
  requests: TopicReader;
  /** What each batch of `matches` led to, in order. */
  batches: BatchResult[];
  /** Storage's record of a device registered (or removed) on the users topic. */
  produceDevice(type: 'device.registered' | 'device.removed', userId: string, subscriptionId: string): Promise<void>;
  /** A matcher's record; decided at `time`, by default the test clock's now. */
  produceMatch(event: MatchEvent, time?: Date): Promise<string>;
  /** Waits until the batches skipped `count` notifications in all (of any reason), returns them. */
  waitForSkipped(count: number): Promise<BatchResult['skipped']>;
  /** Waits until the requests topic has `count` requests in all, returns them. */
  waitForRequests(count: number): Promise<BridgePushRequest[]>;
  metric(name: string, labels?: string): Promise<number>;
  stop(options?: { keepDatabase?: boolean }): Promise<void>;
}

/** `beforeStart`: writes the database as storage's projection would have it when the bridge starts. */
export async function startTestBridge(settings = testSettings(), clock = testClock(), beforeStart?: (db: Db) => Promise<void>): Promise<TestBridge> {
  const logger = testLogger();
  const kafka = createKafka({ clientId: 'notify-bridge-test', brokers: settings.KAFKA_BROKERS, logger });
  await ensureTopics(kafka, [
    { ...topics.matches, name: settings.MATCHES_TOPIC, partitions: 3 },
    { ...topics.notifyRequests, name: settings.REQUESTS_TOPIC },
  ]);
  const mongo = await connectMongo(settings.MONGO_URL, { appName: 'notify-bridge-test' });
  await beforeStart?.(mongo.db(settings.MONGO_DB));
  const batches: BatchResult[] = [];
  const service = await bridgeService({ now: clock.now, onBatch: (result) => batches.push(result), titleRetryMs: 200 }).start({ config: settings, logger });
  await service.ready.catch(async (err: unknown) => {
    await service.stop();
    throw err;
  });
  const bridge = { url: service.url!, stop: () => service.stop() };
  const producer = await createProducer(kafka);
  const requests = await readTopic(kafka, settings.REQUESTS_TOPIC, logger);
  const skipped = () => batches.flatMap((b) => b.skipped);
  return {
    bridge,
    settings,
    kafka,
    mongo,
    db: mongo.db(settings.MONGO_DB),
    producer,
    requests,
    batches,
    async produceDevice(type, userId, subscriptionId) {
      const event: DeviceEvent = type === 'device.registered'
        ? { type, data: { userId, subscriptionId, platform: 'ios' } }
        : { type, data: { userId, subscriptionId } };
      const { key, value } = usersTopic.encode(event);
      await producer.send(settings.USERS_TOPIC, [{ key, value }]);
    },
    async produceMatch(event, time = new Date(clock.now())) {
      const { envelope, key, value } = matchesTopic.encode(event, { time });
      await producer.send(settings.MATCHES_TOPIC, [{ key, value }]);
      return envelope.id;
    },
    waitForSkipped: (count) => waitFor(() => (skipped().length >= count ? skipped() : undefined), `${count} skipped notifications`, 30_000),
    async waitForRequests(count) {
      await requests.waitForCount(count, 30_000);
      return requests.values<BridgePushRequest>();
    },
    async metric(name, labels = '') {
      const text = await (await fetch(`${bridge.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((label) => l.includes(label)));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    },
    async stop(options = {}) {
      await requests.stop();
      await bridge.stop();
      await producer.disconnect();
      if (!options.keepDatabase) await mongo.db(settings.MONGO_DB).dropDatabase().catch(() => {});
      await mongo.close();
    },
  };
}
