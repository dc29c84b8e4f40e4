/**
 * The kafkastore as a @pushtech/service: Redis and Kafka are its dependencies, the loop
 * (kafkastore.ts) is what it starts, and its HTTP server has only /healthz, /readyz, /metrics.
 * Kafka is retried at start until the topics exist and the producer is connected; Redis is
 * not waited for (ioredis reconnects on its own and the loop retries its commands).
 */
import { topics } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, pingKafka, type Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { createRedis, pingRedis, type Redis } from '@pushtech/redis';
import { defineService, type Dependency } from '@pushtech/service';
import { configSpec, type KafkastoreConfig } from './config.ts';
import { RETRY_POLICY, startKafkastore } from './kafkastore.ts';
import { createKafkastoreMetrics } from './metrics.ts';

function redisDependency(config: KafkastoreConfig): Dependency<Redis> {
  return {
    async connect() {
      const redis = createRedis(config.REDIS_URL, { connectionName: `kafkastore:${config.CONSUMER_NAME}` });
      redis.on('error', () => {}); // reported by the loop and /readyz; ioredis reconnects on its own
      return redis;
    },
    check: (redis) => pingRedis(redis),
    close: (redis) => redis.quit().catch(() => redis.disconnect()),
  };
}

/** Kafka, as the producer of the loop: connected once the topics exist. */
function kafkaDependency(config: KafkastoreConfig, logger: Logger): Dependency<Producer> {
  // Few client-side retries and kafkajs' own log lines off: the runtime and the loop retry with
  // back-off and log each failure once (kafkajs logs ~10 lines per failed send).
  const kafka = createKafka({
    clientId: `kafkastore-${config.CONSUMER_NAME}`,
    brokers: config.KAFKA_BROKERS,
    logger: logger.child({}, { level: 'fatal' }),
    retries: 2,
  });
  const admin = kafka.admin();
  return {
    async connect() {
      await ensureTopics(kafka, [
        { ...topics.events, name: config.EVENTS_TOPIC },
        { ...topics.eventsDlq, name: config.DLQ_TOPIC },
      ]);
      return createProducer(kafka);
    },
    check: () => pingKafka(admin),
    async close(producer) {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

/** `tuning` is for tests (gauges refreshed more often). */
export function kafkastoreService(tuning: { gaugeRefreshMs?: number } = {}) {
  return defineService({
    name: 'kafkastore',
    config: configSpec,
    retry: RETRY_POLICY,
    dependencies: ({ config, logger }) => ({ redis: redisDependency(config), kafka: kafkaDependency(config, logger) }),
    start: ({ config, logger, registry }, { redis, kafka }) => startKafkastore({
      redis,
      producer: kafka,
      logger,
      metrics: createKafkastoreMetrics(registry),
      stream: config.REDIS_STREAM,
      group: config.CONSUMER_GROUP,
      consumer: config.CONSUMER_NAME,
      eventsTopic: config.EVENTS_TOPIC,
      dlqTopic: config.DLQ_TOPIC,
      batchMaxEvents: config.BATCH_MAX_EVENTS,
      batchMaxWaitMs: config.BATCH_MAX_WAIT_MS,
      claimIdleMs: config.CLAIM_IDLE_MS,
      gaugeRefreshMs: tuning.gaugeRefreshMs,
    }),
    // Kafka answering is not enough: the loop's last produce must have gone through.
    checks: (_ctx, running) => ({
      produce: async () => {
        const failing = running().status().kafkaError;
        if (failing !== undefined) throw new Error(failing);
      },
    }),
    // Moves what the stream still holds, within its grace period (after HTTP, before the connections close).
    stop: (store) => store.stop(),
  });
}

export const kafkastore = kafkastoreService();
