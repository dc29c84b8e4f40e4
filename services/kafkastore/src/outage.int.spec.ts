// Kafka or Redis goes away while the kafkastore runs: entries wait in Redis,
// /readyz says which dependency is missing, and everything arrives once it is
// back. Each test runs its own private server, so the shared stack is untouched.
import { afterEach, describe, expect, it } from 'vitest';
import type { EnrichedEvent } from '@pushtech/contracts';
import { createKafka } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import type { RunningService } from '@pushtech/service';
import { stackAddresses, startPrivateKafka, startPrivateRedis, startTcpProxy, uniqueName, waitFor, type PrivateServer } from '@pushtech/testing';
import { kafkastoreService } from './app.ts';
import { configSpec, type KafkastoreConfig } from './config.ts';
import type { Kafkastore } from './kafkastore.ts';
import { loadConfig } from '@pushtech/config';
import { readTopic, type TopicReader } from '@pushtech/testing';
import { trackedEvents, xaddEvents } from './fixtures/traffic.ts';

const logger = createLogger('kafkastore-outage-test', 'silent');
type App = RunningService<KafkastoreConfig, Kafkastore>;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function configFor(servers: { kafkaBrokers: string[]; redisUrl: string }): KafkastoreConfig {
  return loadConfig(configSpec, {
    KAFKA_BROKERS: servers.kafkaBrokers.join(','),
    REDIS_URL: servers.redisUrl,
    REDIS_STREAM: uniqueName('kafkastore:outage:'),
    CONSUMER_NAME: 'outage-test',
    EVENTS_TOPIC: uniqueName('events-'),
    DLQ_TOPIC: uniqueName('events.dlq-'),
    BATCH_MAX_EVENTS: '100',
    PORT: '0',
  });
}

async function started(config: KafkastoreConfig): Promise<{ app: App; redis: Redis; events: () => Promise<TopicReader> }> {
  const app = await kafkastoreService({ gaugeRefreshMs: 100 }).start({ config, logger, listen: false });
  cleanups.push(() => app.stop());
  await app.ready;
  const redis = createRedis(config.REDIS_URL, { connectionName: 'outage-test', maxRetriesPerRequest: null });
  redis.on('error', () => {});
  cleanups.push(() => redis.disconnect());
  const kafka = createKafka({ clientId: 'outage-test', brokers: config.KAFKA_BROKERS, logger });
  return {
    app,
    redis,
    async events() {
      const reader = await readTopic(kafka, config.EVENTS_TOPIC, logger);
      cleanups.push(() => reader.stop());
      return reader;
    },
  };
}

async function readyz(app: App): Promise<{ status: string; checks: Record<string, string> }> {
  return (await app.http.inject('/readyz')).json();
}

const sortedIds = (events: { id: string }[]) => [...new Set(events.map((e) => e.id))].sort();

describe('when Kafka is unreachable', () => {
  it('keeps the entries in Redis, reports it on /readyz, and delivers everything once Kafka is back', async () => {
    const kafkaServer: PrivateServer = await startPrivateKafka();
    cleanups.push(() => kafkaServer.close());
    const config = configFor({ kafkaBrokers: [kafkaServer.address], redisUrl: stackAddresses().redisUrl });
    const { app, redis, events } = await started(config);
    expect(await readyz(app)).toEqual({ status: 'ready', checks: { redis: 'ok', kafka: 'ok', started: 'ok', produce: 'ok' } });

    const before = trackedEvents(100, 11);
    await xaddEvents(redis, config.REDIS_STREAM, before);
    await waitFor(async () => ((await redis.xlen(config.REDIS_STREAM)) === 0 ? true : undefined), 'the first events delivered');

    await kafkaServer.stop();
    const during = trackedEvents(300, 12);
    await xaddEvents(redis, config.REDIS_STREAM, during);
    const store = await app.ready;
    await waitFor(() => store.status().kafkaError, 'a failed produce', 30_000);
    const unready = await readyz(app);
    expect(unready).toEqual({ status: 'unready', checks: { redis: 'ok', kafka: expect.stringMatching(/^error: /), started: 'ok', produce: expect.stringMatching(/^error: /) } });
    // Nothing was acknowledged while Kafka was down.
    expect(await redis.xlen(config.REDIS_STREAM)).toBe(300);
    const metrics = (await app.http.inject('/metrics')).body;
    expect(metrics).toMatch(/kafkastore_produce_failures_total\{service="kafkastore"\} [1-9]/);

    await kafkaServer.start();
    await waitFor(async () => ((await redis.xlen(config.REDIS_STREAM)) === 0 ? true : undefined), 'the held events delivered', 60_000);
    const reader = await events();
    await reader.waitForCount(400);
    expect(sortedIds(reader.values<EnrichedEvent>())).toEqual(sortedIds([...before, ...during]));
    await waitFor(async () => ((await readyz(app)).status === 'ready' ? true : undefined), '/readyz ready again');
  }, 180_000);
});

describe('when Redis restarts', () => {
  it('reports it on /readyz and carries on with the same stream and group', async () => {
    const redisServer = await startPrivateRedis();
    cleanups.push(() => redisServer.close());
    const config = configFor({ kafkaBrokers: stackAddresses().kafkaBrokers, redisUrl: redisServer.address });
    const { app, redis, events } = await started(config);

    const before = trackedEvents(100, 21);
    await xaddEvents(redis, config.REDIS_STREAM, before);
    await waitFor(async () => ((await redis.xlen(config.REDIS_STREAM)) === 0 ? true : undefined), 'the first events delivered');

    await redisServer.stop();
    await waitFor(async () => ((await readyz(app)).checks.redis !== 'ok' ? true : undefined), '/readyz to report redis');
    await redisServer.start();

    const after = trackedEvents(100, 22);
    await xaddEvents(redis, config.REDIS_STREAM, after);
    const reader = await events();
    await reader.waitForCount(200);
    expect(sortedIds(reader.values<EnrichedEvent>())).toEqual(sortedIds([...before, ...after]));
    await waitFor(async () => ((await readyz(app)).status === 'ready' ? true : undefined), '/readyz ready again');
    const metrics = (await app.http.inject('/metrics')).body;
    expect(metrics).toContain('kafkastore_events_out_total{service="kafkastore"} 200');
    // The gauges are refreshed every 100 ms here.
    await waitFor(async () => (await app.http.inject('/metrics')).body.includes('kafkastore_stream_length{service="kafkastore"} 0') || undefined, 'the stream length gauge at 0');
  }, 120_000);
});

describe('when Kafka is away at start', () => {
  it('listens at once, is unready while it waits for Kafka, then becomes ready by itself and moves the stream', async () => {
    // Kafka "away": a proxy in front of the shared broker resets every connection until forward().
    const proxy = await startTcpProxy(stackAddresses().kafkaBrokers[0]!);
    cleanups.push(() => proxy.close());
    const config = { ...configFor({ kafkaBrokers: [proxy.address], redisUrl: stackAddresses().redisUrl }), HOST: '127.0.0.1' };
    const redis = createRedis(config.REDIS_URL, { connectionName: 'outage-test' });
    cleanups.push(() => redis.disconnect());
    const sent = trackedEvents(50, 31);
    await xaddEvents(redis, config.REDIS_STREAM, sent);

    const app = await kafkastoreService().start({ config, logger });
    cleanups.push(() => app.stop());
    await waitFor(() => (proxy.refused > 0 ? true : undefined), 'a refused attempt to reach Kafka');
    const unready = await fetch(`${app.url}/readyz`);
    expect(unready.status).toBe(503);
    expect(((await unready.json()) as { checks: Record<string, string> }).checks).toMatchObject({
      redis: 'ok',
      kafka: expect.stringMatching(/^error: connecting to kafka/),
      started: expect.stringMatching(/^error: connecting to kafka/),
    });

    proxy.forward();
    await waitFor(async () => ((await fetch(`${app.url}/readyz`)).ok ? true : undefined), '/readyz ready once Kafka is there', 60_000);
    const reader = await readTopic(createKafka({ clientId: 'outage-test', brokers: stackAddresses().kafkaBrokers, logger }), config.EVENTS_TOPIC, logger);
    cleanups.push(() => reader.stop());
    await reader.waitForCount(50);
    expect(sortedIds(reader.values<EnrichedEvent>())).toEqual(sortedIds(sent));
  }, 120_000);
});
