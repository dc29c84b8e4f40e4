/**
 * The notify bridge as a service (`index.ts` runs it; the tests start the same). MongoDB (the
 * throttle's indexes) and Kafka (topics, producer) are its dependencies, connected with back-off
 * while it already listens (/healthz answers, /readyz says what is missing). Then it loads the
 * device owners (storage's projection, then the `users` log until caught up) and joins its group
 * on `matches` and the response topic — retried the same way until it has — and deletes old
 * throttle state, at once and on a timer. Stop: HTTP first (the runtime), then the consumer
 * finishes its batch and commits, the device feed stops; Kafka and MongoDB close after.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { topics, usersTopic } from '@pushtech/contracts';
import { connectKafka, runConsumer, type Kafka, type KafkaAdmin, type KafkaConnection, type RunningConsumer } from '@pushtech/kafka';
import { followProjection, watermarks, type LogFeed } from '@pushtech/listing-log';
import type { Logger } from '@pushtech/logging';
import { connectMongo, pingMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { defineService, retry, type BackoffPolicy, type Dependencies, type ServiceContext } from '@pushtech/service';
import { matchHandler, type BatchResult } from './bridge.ts';
import { bridgeConfigSpec, type BridgeConfig } from './config.ts';
import { createDeviceOwners, deviceDirectory, type DeviceOwners } from './device-owners.ts';
import { createBridgeMetrics, type BridgeMetrics } from './metrics.ts';
import { storageProjection, type StorageProjection } from './projection.ts';
import { responseHandler } from './responses.ts';
import { createThrottle, type Throttle } from './throttle.ts';

/** Every step of starting is tried again after 0.5 s, doubling to 30 s, until it succeeds. */
const STARTUP_RETRY: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };
const CLEANUP_EVERY_MS = 10 * 60_000;

export interface BridgeOptions {
  /** The clock (tests). */
  now?: () => number;
  /** Told what each batch of `matches` led to (tests). */
  onBatch?: (result: BatchResult) => void;
  titleRetryMs?: number;
  cleanupEveryMs?: number;
}

export interface BridgeMongo {
  client: MongoClient;
  db: Db;
  throttle: Throttle;
}

/** What runs once started: the consumer of `matches` and responses, the devices' feed, the cleanup timer. */
export interface StartedBridge {
  consumer: RunningConsumer;
  deviceFeed: LogFeed;
  cleanupTimer: NodeJS.Timeout;
}

async function connectStore(config: BridgeConfig): Promise<BridgeMongo> {
  const client = await connectMongo(config.MONGO_URL, { appName: 'notify-bridge' });
  const db = client.db(config.MONGO_DB);
  const throttle = await createThrottle(db, { pairWindowS: config.PAIR_WINDOW_S, userMaxPerHour: config.USER_MAX_PER_HOUR }).catch(async (err: unknown) => {
    await client.close();
    throw err;
  });
  return { client, db, throttle };
}

function bridgeDependencies({ config, logger }: ServiceContext<BridgeConfig>): Dependencies<{ mongo: BridgeMongo; kafka: KafkaConnection }> {
  const topicsUsed = [
    { ...topics.users, name: config.USERS_TOPIC },
    { ...topics.matches, name: config.MATCHES_TOPIC },
    { ...topics.notifyRequests, name: config.REQUESTS_TOPIC },
    { ...topics.notifyResults, name: config.RESPONSE_TOPIC },
  ];
  return {
    mongo: { connect: () => connectStore(config), check: (mongo) => pingMongo(mongo.db), close: (mongo) => mongo.client.close() },
    kafka: {
      connect: () => connectKafka({ clientId: 'notify-bridge', brokers: config.KAFKA_BROKERS, logger, retries: 2, topics: topicsUsed }),
      check: (connection) => connection.ping(),
      close: (connection) => connection.close(),
    },
  };
}

async function startBridging(ctx: ServiceContext<BridgeConfig>, mongo: BridgeMongo, kafka: KafkaConnection, options: BridgeOptions): Promise<StartedBridge> {
  const { config, logger } = ctx;
  const now = options.now ?? Date.now;
  const versionUtcSeconds = now() / 1_000;
  const metrics = createBridgeMetrics(ctx.registry);
  const projection = storageProjection(mongo.db, now);
  const handleResponses = responseHandler({ metrics, logger });

  async function attempt(): Promise<Omit<StartedBridge, 'cleanupTimer'>> {
    await kafka.admin.connect();
    const owners = createDeviceOwners();
    const deviceFeed = await followDeviceOwners(config, { kafka: kafka.client, admin: kafka.admin, projection, owners, logger, metrics });
    const handleMatches = matchHandler({
      projection,
      devices: deviceDirectory(owners, async () => deviceFeed.reach((await watermarks(kafka.admin, config.USERS_TOPIC)).high)),
      throttle: mongo.throttle,
      producer: kafka.producer,
      requestsTopic: config.REQUESTS_TOPIC,
      responseTopic: config.RESPONSE_TOPIC,
      versionUtcSeconds,
      matchMaxAgeS: config.MATCH_MAX_AGE_S,
      metrics,
      logger,
      now,
      titleRetryMs: options.titleRetryMs,
    });
    try {
      const consumer = await runConsumer({
        kafka: kafka.client,
        groupId: config.BRIDGE_GROUP,
        topics: [config.MATCHES_TOPIC, config.RESPONSE_TOPIC],
        logger,
        // A new group reads what is there: decisions older than MATCH_MAX_AGE_S are skipped as stale.
        fromBeginning: true,
        awaitJoin: true,
        // The throttle is safe for concurrent batches; a batch mostly waits on Mongo.
        partitionsConcurrently: 4,
        eachBatch: async (messages) => {
          if (messages[0]!.topic === config.RESPONSE_TOPIC) return handleResponses(messages);
          const result = await handleMatches(messages);
          options.onBatch?.(result);
        },
      });
      return { consumer, deviceFeed };
    } catch (err) {
      await deviceFeed.stop();
      throw err;
    }
  }

  const started = await retry(attempt, {
    policy: STARTUP_RETRY,
    signal: ctx.signal,
    onFailure: (err, failures, retryInMs) => {
      logger.warn({ err: err instanceof Error ? err.message : String(err), attempt: failures, retryInMs }, 'starting failed: retrying');
    },
  });
  async function cleanup(): Promise<void> {
    try {
      const deleted = await mongo.throttle.cleanup(now());
      if (deleted.pairs + deleted.hours > 0) logger.info(deleted, 'old throttle state deleted');
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'deleting old throttle state failed');
    }
  }
  await cleanup();
  const cleanupTimer = setInterval(() => void cleanup(), options.cleanupEveryMs ?? CLEANUP_EVERY_MS);
  logger.info({ group: config.BRIDGE_GROUP, matches: config.MATCHES_TOPIC, requests: config.REQUESTS_TOPIC, responses: config.RESPONSE_TOPIC }, 'notify bridge running');
  return { ...started, cleanupTimer };
}

/** Loads the devices of storage's projection, then follows the `users` log from the projector's offsets until caught up. */
async function followDeviceOwners(
  config: BridgeConfig,
  context: { kafka: Kafka; admin: KafkaAdmin; projection: StorageProjection; owners: DeviceOwners; logger: Logger; metrics: BridgeMetrics },
): Promise<LogFeed> {
  const { kafka, admin, projection, owners, logger, metrics } = context;
  const feed = await followProjection({
    kafka,
    admin,
    topic: config.USERS_TOPIC,
    projectorGroup: config.PROJECTOR_GROUP,
    groupId: `${config.BRIDGE_GROUP}.devices.${hostname()}.${randomUUID()}`,
    logger,
    async load() {
      for await (const doc of projection.devices()) owners.load(doc);
    },
    parse: usersTopic.decode,
    apply: owners.apply,
    onInvalid: () => metrics.invalidUserRecords.inc(),
  });
  logger.info({ subscriptions: owners.size() }, 'devices loaded and caught up with the log');
  return feed;
}

export function bridgeService(options: BridgeOptions = {}) {
  return defineService({
    name: 'notify-bridge',
    config: bridgeConfigSpec,
    retry: STARTUP_RETRY,
    dependencies: bridgeDependencies,
    start: (ctx, { mongo, kafka }) => startBridging(ctx, mongo, kafka, options),
    // The consumer finishes its batch (requests sent, claims settled) and commits.
    async stop({ consumer, deviceFeed, cleanupTimer }) {
      clearInterval(cleanupTimer);
      await consumer.stop();
      await deviceFeed.stop();
    },
  });
}

export const notifyBridge = bridgeService();
