/**
 * Kafkastore drain benchmark: events/s moved from a pre-filled Redis stream
 * into Kafka (read, parse, geoIP + user-agent enrichment, produce with
 * acks=all, XACK + XDEL), next to a plain producer sending the same records,
 * already enriched, in the same batch sizes to a topic with the same settings.
 * Both produce through `createProducer` with the same client (`KAFKA_PRODUCER`:
 * @platformatic/kafka by default, kafkajs when set so), so the ratio is the price
 * of everything the kafkastore does besides producing.
 *
 *   node bench/ingest-kafkastore.ts [--events 100000] [--batch 1000]
 *
 * Needs the local Kafka and Redis (KAFKA_BROKERS, REDIS_URL; default the stack's).
 * The kafkastore runs in this process, as `src/index.ts` wires it, on fresh
 * topics and a fresh stream, all deleted at the end.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { eventsTopic, topics, type TrackedEvent } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, type Kafka, type OutgoingMessage } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { createEnricher } from '../services/kafkastore/src/enrich.ts';
import { trackedEvents, xaddEvents } from '../services/kafkastore/src/fixtures/traffic.ts';
import { startKafkastore } from '../services/kafkastore/src/kafkastore.ts';
import { createKafkastoreMetrics } from '../services/kafkastore/src/metrics.ts';

export interface KafkastoreBenchOptions {
  /** Events in the pre-filled stream (default 100,000). */
  events?: number;
  /** BATCH_MAX_EVENTS of the kafkastore, and the raw producer's batch size (default 1000). */
  batch?: number;
  kafkaBrokers?: string[];
  redisUrl?: string;
  /** Progress lines; the figures are returned, not printed. */
  log?: (line: string) => void;
}

/** Figure name → value. */
export type Figures = Record<string, number>;

const logger = createLogger('bench-kafkastore', 'error');

async function freshTopics(kafka: Kafka): Promise<{ events: string; dlq: string }> {
  const names = { events: uniqueName('bench-events-'), dlq: uniqueName('bench-events.dlq-') };
  await ensureTopics(kafka, [{ ...topics.events, name: names.events }, { ...topics.eventsDlq, name: names.dlq }]);
  return names;
}

/** Seconds for the kafkastore to empty a stream of `events`. */
async function drain(kafka: Kafka, redis: Redis, events: TrackedEvent[], batch: number, created: string[]): Promise<{ seconds: number; batches: number }> {
  const names = await freshTopics(kafka);
  created.push(names.events, names.dlq);
  const stream = uniqueName('bench:kafkastore:');
  await xaddEvents(redis, stream, events);
  const producer = await createProducer(kafka);
  const metrics = createKafkastoreMetrics(new Registry());
  try {
    const started = performance.now();
    const store = startKafkastore({
      redis, producer, logger, metrics, stream,
      group: 'kafkastore', consumer: 'bench',
      eventsTopic: names.events, dlqTopic: names.dlq,
      batchMaxEvents: batch, batchMaxWaitMs: 50, claimIdleMs: 30_000,
    });
    while ((await redis.xlen(stream)) > 0) await sleep(2);
    const seconds = (performance.now() - started) / 1000;
    await store.stop();
    const out = (await metrics.eventsOut.get()).values[0]!.value;
    if (out !== events.length) throw new Error(`kafkastore produced ${out} of ${events.length} events`);
    const batches = (await metrics.batchSize.get()).values.find((v) => v.metricName === 'kafkastore_batch_size_count')!.value;
    return { seconds, batches };
  } finally {
    await producer.disconnect();
    await redis.del(stream);
  }
}

/** Seconds for a plain producer to send `records` in chunks of `batch`, each awaited (acks=all), like the kafkastore. */
async function produceRaw(kafka: Kafka, records: OutgoingMessage[], batch: number, created: string[]): Promise<{ seconds: number; client: string }> {
  const names = await freshTopics(kafka);
  created.push(names.events, names.dlq);
  const producer = await createProducer(kafka);
  try {
    const started = performance.now();
    for (let i = 0; i < records.length; i += batch) await producer.send(names.events, records.slice(i, i + batch));
    return { seconds: (performance.now() - started) / 1000, client: kafka.producerClient };
  } finally {
    await producer.disconnect();
  }
}

export async function benchKafkastore(options: KafkastoreBenchOptions = {}): Promise<Figures> {
  const count = options.events ?? 100_000;
  const batch = options.batch ?? 1000;
  const log = options.log ?? (() => {});
  const stack = stackAddresses();
  const kafka = createKafka({ clientId: 'bench-kafkastore', brokers: options.kafkaBrokers ?? stack.kafkaBrokers, logger });
  const redis = createRedis(options.redisUrl ?? stack.redisUrl, { connectionName: 'bench-kafkastore' });
  const created: string[] = [];
  const figures: Figures = {};
  try {
    const events = trackedEvents(count, 42);
    const enrich = createEnricher();
    let started = performance.now();
    const records = events.map((e) => eventsTopic.encode(enrich(e)));
    figures.enrich_only_events_per_s = Math.round(count / ((performance.now() - started) / 1000));
    log(`enrich only (parse excluded)   ${figures.enrich_only_events_per_s} events/s`);

    // Warm-up: JIT, connections, geoIP pages.
    const warm = Math.min(5000, count);
    await drain(kafka, redis, events.slice(0, warm), batch, created);
    await produceRaw(kafka, records.slice(0, warm), batch, created);

    const stream = uniqueName('bench:prefill:');
    started = performance.now();
    await xaddEvents(redis, stream, events);
    figures.prefill_xadd_events_per_s = Math.round(count / ((performance.now() - started) / 1000));
    await redis.del(stream);

    const drained = await drain(kafka, redis, events, batch, created);
    figures.kafkastore_events_per_s = Math.round(count / drained.seconds);
    figures.kafkastore_avg_batch_size = Math.round(count / drained.batches);
    log(`kafkastore (redis → kafka)     ${figures.kafkastore_events_per_s} events/s, ${drained.seconds.toFixed(2)} s for ${count}`);

    const raw = await produceRaw(kafka, records, batch, created);
    figures.raw_producer_events_per_s = Math.round(count / raw.seconds);
    log(`raw producer (same records)    ${figures.raw_producer_events_per_s} events/s, ${raw.seconds.toFixed(2)} s for ${count} (both on ${raw.client})`);

    figures.kafkastore_vs_raw_producer_ratio = Number((figures.kafkastore_events_per_s / figures.raw_producer_events_per_s).toFixed(2));
    figures.kafkastore_events = count;
    figures.kafkastore_batch_max_events = batch;
    return figures;
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: created }).catch(() => {});
    await admin.disconnect();
    redis.disconnect();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { events: { type: 'string' }, batch: { type: 'string' } } });
  const figures = await benchKafkastore({
    events: values.events ? Number(values.events) : undefined,
    batch: values.batch ? Number(values.batch) : undefined,
    log: (line) => console.log(line),
  });
  for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
}
