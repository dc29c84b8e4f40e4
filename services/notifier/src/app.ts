/**
 * The notifier as a service (`index.ts` runs it; the tests start the same). MongoDB (the retry
 * store's index) and Kafka (the requests topic, the producer of responses) are its dependencies,
 * connected with back-off while it already listens; then it loads the retry store, starts
 * sending, and joins the requests topic's group — retried with the same back-off until it has.
 * It is ready once consuming. Stop: HTTP first (the runtime), then `stopNotifying`'s order, then
 * Kafka and MongoDB.
 */
import { notifyResultsTopic, topics } from '@pushtech/contracts';
import { connectKafka, ensureTopics, type Kafka, type KafkaConnection } from '@pushtech/kafka';
import { connectMongo, ensureIndexes, pingMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { defineService, retry, type BackoffPolicy, type Dependencies, type ServiceContext } from '@pushtech/service';
import { checkNotifierConfig, configSpec, webPushEnabled, type NotifierConfig } from './config.ts';
import { startIntake, type Intake } from './intake.ts';
import { createNotifierMetrics } from './metrics.ts';
import { createNotifier, type Notifier, type NotifierEvent } from './notifier.ts';
import { createSender } from './onesignal.ts';
import { createKafkaResponder, type Responder } from './responder.ts';
import { createMongoRetryStore, createMongoVersionStore, notifierIndexes } from './retry-store.ts';
import { projectionWebDevices } from './web-devices.ts';
import { createWebPushSender } from './web-push.ts';

/** Every step of starting is tried again after 100 ms, doubling to 5 s, until it succeeds. */
const STARTUP_RETRY: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

export interface NotifierMongo {
  client: MongoClient;
  db: Db;
}

/** What runs once started: the core, the consumer feeding it, the producer of responses. */
export interface StartedNotifier {
  core: Notifier;
  intake: Intake;
  responder: Responder;
}

/** For tests and the benchmark. */
export interface Tuning {
  onEvent?: (event: NotifierEvent) => void;
  random?: () => number;
  commitIntervalMs?: number;
}

async function connectStore(config: NotifierConfig): Promise<NotifierMongo> {
  const client = await connectMongo(config.MONGO_URL, { appName: 'notifier' });
  const db = client.db(config.MONGO_DB);
  await ensureIndexes(db, notifierIndexes).catch(async (err: unknown) => {
    await client.close();
    throw err;
  });
  return { client, db };
}

/** Response topics are created on their first response. */
function responseTopics(kafka: Kafka): (topic: string) => Promise<void> {
  const known = new Set<string>();
  return async (topic) => {
    if (known.has(topic)) return;
    await ensureTopics(kafka, [notifyResultsTopic.specFor(topic)]);
    known.add(topic);
  };
}

function startNotifying(ctx: ServiceContext<NotifierConfig>, mongo: NotifierMongo, kafka: KafkaConnection, tuning: Tuning): Promise<StartedNotifier> {
  const { config, logger } = ctx;
  const metrics = createNotifierMetrics(ctx.registry);
  const sender = createSender(config.ONESIGNAL_CLIENT, {
    apiRoot: config.ONESIGNAL_API_ROOT,
    appId: config.ONESIGNAL_APP_ID,
    apiKey: config.ONESIGNAL_API_KEY,
    authScheme: config.ONESIGNAL_AUTH_SCHEME,
    timeoutMs: config.ONESIGNAL_TIMEOUT_MS,
  });
  const web = webPushEnabled(config) ? {
    sender: createWebPushSender({
      vapid: { publicKey: config.VAPID_PUBLIC_KEY, privateKey: config.VAPID_PRIVATE_KEY, subject: config.VAPID_SUBJECT },
      ttlS: config.WEB_PUSH_TTL_S,
      urgency: config.WEB_PUSH_URGENCY,
      timeoutMs: config.WEB_PUSH_TIMEOUT_MS,
    }),
    devices: projectionWebDevices(mongo.db, kafka.producer, config.USERS_TOPIC),
  } : undefined;
  const responder = createKafkaResponder({ producer: kafka.producer, ensureTopic: responseTopics(kafka.client), logger, onFailure: () => metrics.responseFailures.inc() });

  async function attempt(): Promise<StartedNotifier> {
    const core = createNotifier({
      sender,
      web,
      retries: createMongoRetryStore(mongo.db),
      versions: createMongoVersionStore(mongo.db),
      responder,
      logger,
      metrics,
      policy: { baseMs: config.RETRY_BASE_MS, maxMs: config.RETRY_MAX_MS, maxAttempts: config.RETRY_MAX_ATTEMPTS, maxAgeMs: config.RETRY_MAX_AGE_MS },
      rateLimitPerS: config.RATE_LIMIT_PER_S,
      concurrency: config.SEND_CONCURRENCY,
      queueMax: config.QUEUE_MAX,
      random: tuning.random,
      onEvent: tuning.onEvent,
    });
    try {
      await core.start();
      const intake = await startIntake({
        kafka: kafka.client,
        groupId: config.NOTIFIER_GROUP,
        topic: config.REQUESTS_TOPIC,
        logger,
        notifier: core,
        intakePaused: metrics.intakePaused,
        commitIntervalMs: tuning.commitIntervalMs,
      });
      return { core, intake, responder };
    } catch (err) {
      // A core that started may hold requests loaded from the retry store: parked again before the next attempt.
      await core.stop();
      throw err;
    }
  }

  return retry(attempt, {
    policy: STARTUP_RETRY,
    signal: ctx.signal,
    onFailure: (err, failures, retryInMs) => {
      logger.warn({ err: err instanceof Error ? err.message : String(err), attempt: failures, retryInMs }, 'starting failed: retrying');
    },
  }).then((started) => {
    logger.info({
      topic: config.REQUESTS_TOPIC, group: config.NOTIFIER_GROUP, onesignal: config.ONESIGNAL_API_ROOT, client: sender.name, rateLimitPerS: config.RATE_LIMIT_PER_S,
      webPush: web !== undefined,
    }, 'consuming requests');
    return started;
  });
}

/**
 * Stops taking requests, gives the responses their grace while the core finishes the calls under
 * way and parks what waits in the retry store, then commits and leaves the group.
 */
async function stopNotifying({ core, intake, responder }: StartedNotifier): Promise<void> {
  intake.stopTaking();
  // Closing the responder first gives responses a grace period (10 s) to reach Kafka; after it,
  // the ones Kafka does not take fail, and their requests stay for a redelivery after the restart.
  const responderClosed = responder.close();
  await core.stop();
  await responderClosed;
  await intake.close();
}

function notifierDependencies({ config, logger }: ServiceContext<NotifierConfig>): Dependencies<{ mongo: NotifierMongo; kafka: KafkaConnection }> {
  // kafkajs' own lines off and few retries of its own: each attempt is retried and logged once by
  // the runtime, and closing never waits long for kafkajs.
  const kafka = { clientId: 'notifier', brokers: config.KAFKA_BROKERS, logger, logLevel: 'none', retries: 3 } as const;
  return {
    mongo: { connect: () => connectStore(config), check: (mongo) => pingMongo(mongo.db), close: (mongo) => mongo.client.close() },
    kafka: {
      connect: () => connectKafka({
        ...kafka,
        // With Web Push, `users` too (the notifier writes device.removed), declared as storage declares it.
        topics: [{ ...topics.notifyRequests, name: config.REQUESTS_TOPIC }, ...(webPushEnabled(config) ? [{ ...topics.users, name: config.USERS_TOPIC }] : [])],
      }),
      check: (connection) => connection.ping(),
      close: (connection) => connection.close(),
    },
  };
}

export function notifierService(tuning: Tuning = {}) {
  return defineService({
    name: 'notifier',
    config: configSpec,
    checkConfig: checkNotifierConfig,
    retry: STARTUP_RETRY,
    dependencies: notifierDependencies,
    start: (ctx, { mongo, kafka }) => startNotifying(ctx, mongo, kafka, tuning),
    stop: stopNotifying,
  });
}

export const notifier = notifierService();
