import Fastify, { type FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { notifyResultsTopic, topics } from '@pushtech/contracts';
import { createMetricsRegistry, healthPlugin } from '@pushtech/http';
import { createKafka, createProducer, ensureTopics, type Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { connectMongo, ensureIndexes, pingMongo, type MongoClient } from '@pushtech/mongo';
import type { NotifierConfig } from './config.ts';
import { startIntake, type Intake } from './intake.ts';
import { createNotifierMetrics } from './metrics.ts';
import { createNotifier, type Notifier, type NotifierEvent } from './notifier.ts';
import { createSender } from './onesignal.ts';
import { createKafkaResponder, type Responder } from './responder.ts';
import { createMongoRetryStore, createMongoVersionStore, notifierIndexes } from './retry-store.ts';

export interface App {
  /** The HTTP server: /healthz, /readyz (mongo, kafka), /metrics. */
  http: FastifyInstance;
  url: string;
  /** Resolves once MongoDB and Kafka were reached, the retry store loaded, and consumption started. */
  ready: Promise<void>;
  notifier(): Notifier | undefined;
  intake(): Intake | undefined;
  /** Stops taking requests, finishes the calls under way, parks what waits, commits, closes every connection. */
  close(): Promise<void>;
}

export interface Tuning {
  onEvent?: (event: NotifierEvent) => void;
  random?: () => number;
  commitIntervalMs?: number;
}

/**
 * Wiring: the HTTP server first (so /readyz can say what is missing), then
 * MongoDB and Kafka — retried with back-off until reachable — then the retry
 * store is loaded and consumption starts.
 */
export async function startApp(config: NotifierConfig, logger: Logger, tuning: Tuning = {}): Promise<App> {
  const registry = createMetricsRegistry('notifier');
  const metrics = createNotifierMetrics(registry);
  // kafkajs' own log lines off: connection failures are logged once per attempt here.
  // Few client-side retries: starting is retried here with back-off, and closing never waits long for kafkajs.
  const kafka = createKafka({ clientId: 'notifier', brokers: config.KAFKA_BROKERS, logger: logger.child({}, { level: 'fatal' }), retries: 3 });
  const admin = kafka.admin();
  const sender = createSender(config.ONESIGNAL_CLIENT, {
    apiRoot: config.ONESIGNAL_API_ROOT,
    appId: config.ONESIGNAL_APP_ID,
    apiKey: config.ONESIGNAL_API_KEY,
    authScheme: config.ONESIGNAL_AUTH_SCHEME,
    timeoutMs: config.ONESIGNAL_TIMEOUT_MS,
  });

  let mongo: MongoClient | undefined;
  let producer: Producer | undefined;
  let responder: Responder | undefined;
  let notifier: Notifier | undefined;
  let intake: Intake | undefined;
  let connectError: string | undefined = 'not connected yet';
  const closing = new AbortController();

  const http = Fastify({ logger: false });
  await http.register(healthPlugin, {
    registry,
    checks: {
      mongo: async () => {
        if (!mongo) throw new Error(connectError ?? 'not connected yet');
        await pingMongo(mongo.db(config.MONGO_DB));
      },
      kafka: async () => {
        if (!intake) throw new Error(connectError ?? 'not connected yet');
        await admin.connect();
        await admin.describeCluster();
      },
    },
  });
  const url = await http.listen({ host: '0.0.0.0', port: config.PORT });
  logger.info({ url, onesignal: config.ONESIGNAL_API_ROOT, client: sender.name, rateLimitPerS: config.RATE_LIMIT_PER_S }, 'listening');

  const knownTopics = new Set<string>();
  async function ensureResponseTopic(topic: string): Promise<void> {
    if (knownTopics.has(topic)) return;
    await ensureTopics(kafka, [notifyResultsTopic.specFor(topic)]);
    knownTopics.add(topic);
  }

  const ready = (async () => {
    for (let failures = 0; !closing.signal.aborted; failures++) {
      try {
        mongo ??= await connectMongo(config.MONGO_URL, { appName: 'notifier' });
        const db = mongo.db(config.MONGO_DB);
        await ensureIndexes(db, notifierIndexes);
        await ensureTopics(kafka, [{ ...topics.notifyRequests, name: config.REQUESTS_TOPIC }]);
        producer ??= await createProducer(kafka);
        responder ??= createKafkaResponder({ producer, ensureTopic: ensureResponseTopic, logger, onFailure: () => metrics.responseFailures.inc() });
        notifier ??= createNotifier({
          sender,
          retries: createMongoRetryStore(db),
          versions: createMongoVersionStore(db),
          responder,
          logger,
          metrics,
          policy: {
            baseMs: config.RETRY_BASE_MS,
            maxMs: config.RETRY_MAX_MS,
            maxAttempts: config.RETRY_MAX_ATTEMPTS,
            maxAgeMs: config.RETRY_MAX_AGE_MS,
          },
          rateLimitPerS: config.RATE_LIMIT_PER_S,
          concurrency: config.SEND_CONCURRENCY,
          queueMax: config.QUEUE_MAX,
          random: tuning.random,
          onEvent: tuning.onEvent,
        });
        await notifier.start();
        intake = await startIntake({
          kafka,
          groupId: config.NOTIFIER_GROUP,
          topic: config.REQUESTS_TOPIC,
          logger,
          notifier,
          intakePaused: metrics.intakePaused,
          commitIntervalMs: tuning.commitIntervalMs,
        });
        connectError = undefined;
        logger.info({ topic: config.REQUESTS_TOPIC, group: config.NOTIFIER_GROUP }, 'consuming requests');
        return;
      } catch (err) {
        connectError = err instanceof Error ? err.message : String(err);
        const delay = Math.min(100 * 2 ** Math.min(failures, 20), 5_000);
        logger.warn({ err: connectError, attempt: failures + 1, retryInMs: delay }, 'starting failed: mongo or kafka not reachable');
        // A notifier that started may hold loaded requests: stop it before trying again.
        if (notifier && !intake) {
          await notifier.stop();
          notifier = undefined;
        }
        await sleep(delay, undefined, { signal: closing.signal }).catch(() => {});
      }
    }
  })();

  let closed: Promise<void> | undefined;
  return {
    http,
    url,
    ready,
    notifier: () => notifier,
    intake: () => intake,
    close() {
      closed ??= (async () => {
        closing.abort();
        await ready;
        intake?.stopTaking();
        // Closing the responder first gives responses a grace period (10 s) to reach Kafka; after it,
        // the ones Kafka does not take fail, and their requests stay for a redelivery after the restart.
        const responderClosed = responder?.close();
        await notifier?.stop();
        await responderClosed;
        await intake?.close();
        await http.close();
        await producer?.disconnect();
        await admin.disconnect();
        await mongo?.close();
      })();
      return closed;
    },
  };
}
