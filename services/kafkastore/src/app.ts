import Fastify, { type FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { topics } from '@pushtech/contracts';
import { createMetricsRegistry, healthPlugin } from '@pushtech/http';
import { createKafka, createProducer, ensureTopics, type Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { createRedis, pingRedis } from '@pushtech/redis';
import { createBackoff } from './backoff.ts';
import type { KafkastoreConfig } from './config.ts';
import { startKafkastore, type Kafkastore } from './kafkastore.ts';
import { createKafkastoreMetrics } from './metrics.ts';

export interface App {
  /** The HTTP server: /healthz, /readyz (redis, kafka), /metrics. */
  http: FastifyInstance;
  url: string;
  /** Resolves once Kafka was reached (topics exist, producer connected) and the loop runs. */
  ready: Promise<void>;
  kafkastore(): Kafkastore | undefined;
  /** Finishes the batch in hand, then closes the HTTP server and every connection. */
  close(): Promise<void>;
}

/**
 * Wiring: clients from config, the HTTP server first (so /readyz can say what
 * is missing), then Kafka — retried with back-off until reachable — then the loop.
 */
export async function startApp(config: KafkastoreConfig, logger: Logger, tuning: { gaugeRefreshMs?: number } = {}): Promise<App> {
  const registry = createMetricsRegistry('kafkastore');
  const metrics = createKafkastoreMetrics(registry);
  const redis = createRedis(config.REDIS_URL, { connectionName: `kafkastore:${config.CONSUMER_NAME}` });
  redis.on('error', () => {}); // reported by the loop and /readyz; ioredis reconnects on its own
  // Few client-side retries and kafkajs' own log lines off: the loop retries with its own back-off
  // and logs each failure once, with kafkajs' error message (kafkajs logs ~10 lines per failed send).
  const kafka = createKafka({
    clientId: `kafkastore-${config.CONSUMER_NAME}`,
    brokers: config.KAFKA_BROKERS,
    logger: logger.child({}, { level: 'fatal' }),
    retries: 2,
  });
  const admin = kafka.admin();

  let store: Kafkastore | undefined;
  let producer: Producer | undefined;
  let connectError: string | undefined = 'not connected yet';
  const closing = new AbortController();

  const http = Fastify({ logger: false });
  await http.register(healthPlugin, {
    registry,
    checks: {
      redis: () => pingRedis(redis),
      kafka: async () => {
        const failing = connectError ?? store?.status().kafkaError;
        if (failing !== undefined) throw new Error(failing);
        await admin.connect();
        await admin.describeCluster();
      },
    },
  });
  const url = await http.listen({ host: '0.0.0.0', port: config.PORT });
  logger.info({ url }, 'listening');

  const ready = (async () => {
    const backoff = createBackoff();
    while (!closing.signal.aborted) {
      try {
        await ensureTopics(kafka, [
          { ...topics.events, name: config.EVENTS_TOPIC },
          { ...topics.eventsDlq, name: config.DLQ_TOPIC },
        ]);
        producer = await createProducer(kafka);
        break;
      } catch (err) {
        connectError = err instanceof Error ? err.message : String(err);
        const delay = backoff.next();
        logger.warn({ err: connectError, attempt: backoff.failures, retryInMs: delay }, 'kafka: connecting failed');
        await sleep(delay, undefined, { signal: closing.signal }).catch(() => {});
      }
    }
    if (closing.signal.aborted) return;
    connectError = undefined;
    store = startKafkastore({
      redis,
      producer: producer!,
      logger,
      metrics,
      stream: config.REDIS_STREAM,
      group: config.CONSUMER_GROUP,
      consumer: config.CONSUMER_NAME,
      eventsTopic: config.EVENTS_TOPIC,
      dlqTopic: config.DLQ_TOPIC,
      batchMaxEvents: config.BATCH_MAX_EVENTS,
      batchMaxWaitMs: config.BATCH_MAX_WAIT_MS,
      claimIdleMs: config.CLAIM_IDLE_MS,
      gaugeRefreshMs: tuning.gaugeRefreshMs,
    });
  })();

  let closed: Promise<void> | undefined;
  return {
    http,
    url,
    ready,
    kafkastore: () => store,
    close() {
      closed ??= (async () => {
        closing.abort();
        await ready;
        await store?.stop();
        await http.close();
        await producer?.disconnect();
        await admin.disconnect();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closed;
    },
  };
}
