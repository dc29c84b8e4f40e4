/**
 * Wiring of the notify bridge: HTTP first (/healthz answers, /readyz says what
 * is missing), then — retried with back-off until both answer — MongoDB (the
 * throttle's indexes), the device owners (storage's projection, then the
 * `users` log until caught up) and Kafka (topics, producer, the consumer of
 * `matches` and of the response topic, group BRIDGE_GROUP), and a timer that
 * deletes old throttle state. SIGTERM: the consumer finishes its batch and commits,
 * then everything closes.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { topics, usersTopic } from '@pushtech/contracts';
import { createMetricsRegistry, healthPlugin } from '@pushtech/http';
import { createKafka, createProducer, ensureTopics, runConsumer, type Kafka, type Producer, type RunningConsumer } from '@pushtech/kafka';
import { followProjection, watermarks, type Admin, type LogFeed } from '@pushtech/listing-log';
import type { Logger } from '@pushtech/logging';
import { connectMongo, pingMongo, type MongoClient } from '@pushtech/mongo';
import { matchHandler, type BatchResult } from './bridge.ts';
import type { BridgeConfig } from './config.ts';
import { createDeviceOwners, deviceDirectory, type DeviceOwners } from './device-owners.ts';
import { createBridgeMetrics, type BridgeMetrics } from './metrics.ts';
import { storageProjection, type StorageProjection } from './projection.ts';
import { responseHandler } from './responses.ts';
import { createThrottle, type Throttle } from './throttle.ts';

export type BridgeSettings = Omit<BridgeConfig, 'LOG_LEVEL'>;

export interface BridgeOptions {
  /** The clock (tests). */
  now?: () => number;
  /** Told what each batch of `matches` led to (tests). */
  onBatch?: (result: BatchResult) => void;
  titleRetryMs?: number;
  cleanupEveryMs?: number;
}

export interface Bridge {
  http: FastifyInstance;
  url: string;
  /** Resolves once Mongo and Kafka were reached and the consumer is in its group. */
  ready: Promise<void>;
  /** Stops taking records (the batch in hand finishes and is committed), then closes everything. */
  close(): Promise<void>;
}

const CLEANUP_EVERY_MS = 10 * 60_000;

export async function startBridge(settings: BridgeSettings, logger: Logger, options: BridgeOptions = {}): Promise<Bridge> {
  const now = options.now ?? Date.now;
  const versionUtcSeconds = now() / 1_000;
  const registry = createMetricsRegistry('notify-bridge');
  const metrics = createBridgeMetrics(registry);
  const kafka = createKafka({ clientId: 'notify-bridge', brokers: settings.KAFKA_BROKERS, logger, retries: 2 });
  const admin = kafka.admin();
  const closing = new AbortController();
  let mongo: MongoClient | undefined;
  let producer: Producer | undefined;
  let consumer: RunningConsumer | undefined;
  let deviceFeed: LogFeed | undefined;
  let throttle: Throttle | undefined;
  let cleanupTimer: NodeJS.Timeout | undefined;
  let startError: string | undefined = 'not started yet';

  const http = Fastify({ logger: false });
  await http.register(healthPlugin, {
    registry,
    checks: {
      mongo: async () => {
        if (mongo === undefined) throw new Error(startError ?? 'not connected yet');
        await pingMongo(mongo.db(settings.MONGO_DB));
      },
      kafka: async () => {
        if (consumer === undefined) throw new Error(startError ?? 'not consuming yet');
        await admin.connect();
        await admin.describeCluster();
      },
    },
  });
  const url = await http.listen({ host: settings.HOST, port: settings.PORT });
  logger.info({ url }, 'listening');

  async function cleanup(): Promise<void> {
    try {
      const deleted = await throttle!.cleanup(now());
      if (deleted.pairs + deleted.hours > 0) logger.info(deleted, 'old throttle state deleted');
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'deleting old throttle state failed');
    }
  }

  async function start(): Promise<void> {
    mongo ??= await connectMongo(settings.MONGO_URL, { appName: 'notify-bridge' });
    const db = mongo.db(settings.MONGO_DB);
    throttle = await createThrottle(db, { pairWindowS: settings.PAIR_WINDOW_S, userMaxPerHour: settings.USER_MAX_PER_HOUR });
    await ensureTopics(kafka, [
      { ...topics.users, name: settings.USERS_TOPIC },
      { ...topics.matches, name: settings.MATCHES_TOPIC },
      { ...topics.notifyRequests, name: settings.REQUESTS_TOPIC },
      { ...topics.notifyResults, name: settings.RESPONSE_TOPIC },
    ]);
    producer ??= await createProducer(kafka);
    const projection = storageProjection(db, now);
    const owners = createDeviceOwners();
    await deviceFeed?.stop(); // a start that failed after it
    await admin.connect();
    deviceFeed = await followDeviceOwners(settings, { kafka, admin, projection, owners, logger, metrics });
    const feed = deviceFeed;
    const handleMatches = matchHandler({
      projection,
      devices: deviceDirectory(owners, async () => feed.reach((await watermarks(admin, settings.USERS_TOPIC)).high)),
      throttle,
      producer,
      requestsTopic: settings.REQUESTS_TOPIC,
      responseTopic: settings.RESPONSE_TOPIC,
      versionUtcSeconds,
      matchMaxAgeS: settings.MATCH_MAX_AGE_S,
      metrics,
      logger,
      now,
      titleRetryMs: options.titleRetryMs,
    });
    const handleResponses = responseHandler({ metrics, logger });
    consumer = await runConsumer({
      kafka,
      groupId: settings.BRIDGE_GROUP,
      topics: [settings.MATCHES_TOPIC, settings.RESPONSE_TOPIC],
      logger,
      // A new group reads what is there: decisions older than MATCH_MAX_AGE_S are skipped as stale.
      fromBeginning: true,
      awaitJoin: true,
      // The throttle is safe for concurrent batches; a batch mostly waits on Mongo.
      partitionsConcurrently: 4,
      eachBatch: async (messages) => {
        if (messages[0]!.topic === settings.RESPONSE_TOPIC) return handleResponses(messages);
        const result = await handleMatches(messages);
        options.onBatch?.(result);
      },
    });
    await cleanup();
    cleanupTimer = setInterval(() => void cleanup(), options.cleanupEveryMs ?? CLEANUP_EVERY_MS);
    logger.info({ group: settings.BRIDGE_GROUP, matches: settings.MATCHES_TOPIC, requests: settings.REQUESTS_TOPIC, responses: settings.RESPONSE_TOPIC }, 'notify bridge running');
  }

  const ready = (async () => {
    for (let delay = 500; !closing.signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      try {
        await start();
        startError = undefined;
        return;
      } catch (err) {
        startError = err instanceof Error ? err.message : String(err);
        logger.warn({ err: startError, retryInMs: delay }, 'starting failed (Mongo or Kafka): retrying');
        await sleep(delay, undefined, { signal: closing.signal }).catch(() => {});
      }
    }
  })();

  let closed: Promise<void> | undefined;
  return {
    http,
    url,
    ready,
    close() {
      closed ??= (async () => {
        closing.abort();
        await ready;
        clearInterval(cleanupTimer);
        await consumer?.stop();
        await deviceFeed?.stop();
        await http.close();
        await producer?.disconnect();
        await admin.disconnect();
        await mongo?.close();
      })();
      return closed;
    },
  };
}

/** Loads the devices of storage's projection, then follows the `users` log from the projector's offsets until caught up. */
async function followDeviceOwners(
  settings: BridgeSettings,
  context: { kafka: Kafka; admin: Admin; projection: StorageProjection; owners: DeviceOwners; logger: Logger; metrics: BridgeMetrics },
): Promise<LogFeed> {
  const { kafka, admin, projection, owners, logger, metrics } = context;
  const feed = await followProjection({
    kafka,
    admin,
    topic: settings.USERS_TOPIC,
    projectorGroup: settings.PROJECTOR_GROUP,
    groupId: `${settings.BRIDGE_GROUP}.devices.${hostname()}.${randomUUID()}`,
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
