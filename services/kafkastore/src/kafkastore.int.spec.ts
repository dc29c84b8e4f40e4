import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventKey, STREAM_FIELD, topics, type DlqRecord, type EnrichedEvent } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { createKafka, createProducer, ensureTopics, type Producer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import { stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { readTopic, type TopicReader } from '@pushtech/testing';
import { trackedEvents, xaddEvents } from './fixtures/traffic.ts';
import { startKafkastore, type Kafkastore, type KafkastoreOptions } from './kafkastore.ts';
import { createKafkastoreMetrics } from './metrics.ts';

const { kafkaBrokers, redisUrl } = stackAddresses();
const logger = createLogger('kafkastore-test', 'silent');
const kafka = createKafka({ clientId: 'kafkastore-test', brokers: kafkaBrokers, logger });
let redis: Redis;
let producer: Producer;
const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  redis = createRedis(redisUrl, { connectionName: 'kafkastore-test' });
  producer = await createProducer(kafka);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});
afterAll(async () => {
  await producer.disconnect();
  redis.disconnect();
});

/** A fresh stream and fresh topics; the kafkastore is started by `start`. */
async function given(overrides: Partial<KafkastoreOptions> = {}) {
  const options: KafkastoreOptions = {
    redis, producer, logger,
    metrics: createKafkastoreMetrics(new Registry()),
    stream: uniqueName('kafkastore:test:'),
    group: 'kafkastore',
    consumer: 'test-a',
    eventsTopic: uniqueName('events-'),
    dlqTopic: uniqueName('events.dlq-'),
    batchMaxEvents: 100,
    batchMaxWaitMs: 20,
    claimIdleMs: 30_000,
    ...overrides,
  };
  await ensureTopics(kafka, [{ ...topics.events, name: options.eventsTopic }, { ...topics.eventsDlq, name: options.dlqTopic }]);
  const events = await readTopic(kafka, options.eventsTopic, logger);
  const dlq = await readTopic(kafka, options.dlqTopic, logger);
  running.push(events, dlq);
  return {
    options,
    events,
    dlq,
    start(): Kafkastore {
      const store = startKafkastore(options);
      running.unshift(store);
      return store;
    },
  };
}

async function streamDrained(stream: string): Promise<void> {
  await waitFor(async () => {
    const [length, pending] = await Promise.all([redis.xlen(stream), redis.xpending(stream, 'kafkastore') as Promise<[number]>]);
    return length === 0 && pending[0] === 0 ? true : undefined;
  }, `stream ${stream} empty with nothing pending`);
}

/** Event ids on a topic, sorted: the topic has several partitions, so only per-key order is kept. */
const idsOf = (reader: TopicReader) => reader.values<EnrichedEvent>().map((e) => e.id).sort();
const sortedIds = (events: { id: string }[]) => events.map((e) => e.id).sort();

describe('kafkastore', () => {
  it('produces stream entries to the events topic enriched, with their ids and keys, then acknowledges and deletes them', async () => {
    const { options, events, start } = await given();
    const sent = trackedEvents(500);
    sent[0]!.data.context.ip = '127.0.0.1';
    await xaddEvents(redis, options.stream, sent);
    start();

    await events.waitForCount(500);
    await streamDrained(options.stream);
    const received = events.values<EnrichedEvent>();
    expect(idsOf(events)).toEqual(sortedIds(sent));
    expect(events.messages.every((m, i) => m.key === eventKey(received[i]!))).toBe(true);

    const byId = new Map(received.map((e) => [e.id, e]));
    const loopback = byId.get(sent[0]!.id)!;
    expect(loopback.data.context.geo).toBeNull();
    const iphone = received.find((e) => e.data.context.userAgent?.includes('iPhone OS') && e.data.context.geo !== null)!;
    expect(iphone.data.context).toMatchObject({
      geo: { country: expect.stringMatching(/^[A-Z]{2}$/), lat: expect.any(Number), lon: expect.any(Number) },
      device: { type: 'mobile', vendor: 'Apple' },
      os: { name: 'iOS' },
      browser: { name: 'Mobile Safari' },
    });
    // Everything but the context is as the tracker wrote it.
    const original = sent.find((e) => e.id === iphone.id)!;
    expect({ ...iphone, data: { ...iphone.data, context: original.data.context } }).toEqual(original);

    // One user's events stay in order (same key → same partition, produced in stream order).
    const perKey = new Map<string, string[]>();
    for (const e of received) perKey.set(eventKey(e), [...(perKey.get(eventKey(e)) ?? []), e.id]);
    for (const ids of perKey.values()) expect(ids).toEqual([...ids].sort());

    expect((await options.metrics.eventsOut.get()).values[0]!.value).toBe(500);
  });

  it('skips an entry whose event id it produced recently (a client sent the batch again), in the same batch or a later one', async () => {
    const { options, events, start } = await given({ recentIds: 3 });
    const [a, b, c, d, e] = trackedEvents(5, 3);
    await xaddEvents(redis, options.stream, [a!, b!, a!]);
    start();
    await events.waitForCount(2);
    await streamDrained(options.stream);
    await xaddEvents(redis, options.stream, [b!, c!, d!, e!]);
    await events.waitForCount(5);
    await streamDrained(options.stream);
    await xaddEvents(redis, options.stream, [a!]); // forgotten: the window holds the last 3 ids, c, d, e
    await events.waitForCount(6);
    await streamDrained(options.stream);
    await events.caughtUp();
    expect(idsOf(events)).toEqual(sortedIds([a!, b!, c!, d!, e!, a!]));
    expect((await options.metrics.duplicates.get()).values[0]!.value).toBe(2);
  });

  it('sends a malformed entry to the DLQ with its reason, and the entries after it still arrive', async () => {
    const { options, events, dlq, start } = await given();
    const [before, after] = trackedEvents(2);
    const ids = [
      await redis.xadd(options.stream, '*', STREAM_FIELD, JSON.stringify(before)),
      await redis.xadd(options.stream, '*', STREAM_FIELD, '{"specversion":"1.0",'),
      await redis.xadd(options.stream, '*', 'event', JSON.stringify(before)),
      await redis.xadd(options.stream, '*', STREAM_FIELD, JSON.stringify(createEnvelope({ source: 'tracker/test', type: 'page.view', data: { path: '/' } }))),
      await redis.xadd(options.stream, '*', STREAM_FIELD, JSON.stringify(after)),
    ];
    start();

    await events.waitForCount(2);
    await dlq.waitForCount(3);
    await streamDrained(options.stream);
    expect(idsOf(events)).toEqual(sortedIds([before!, after!]));
    const rejected = dlq.values<DlqRecord>();
    expect(rejected).toEqual([
      { streamId: ids[1], stream: options.stream, reason: expect.stringMatching(/^bad JSON: /), raw: '{"specversion":"1.0",', time: expect.any(String) },
      { streamId: ids[2], stream: options.stream, reason: 'missing field "e"', raw: JSON.stringify({ event: JSON.stringify(before) }), time: expect.any(String) },
      { streamId: ids[3], stream: options.stream, reason: 'invalid envelope: data.context is missing', raw: expect.stringContaining('"type":"page.view"'), time: expect.any(String) },
    ]);
    expect(dlq.messages.map((m) => m.key)).toEqual(ids.slice(1, 4));
    expect((await options.metrics.dlq.get()).values[0]!.value).toBe(3);
  });

  it('first drains its own pending list (entries it read before a crash), then reads new entries', async () => {
    const { options, events, start } = await given({ consumer: 'restarted' });
    const old = trackedEvents(30, 2);
    await xaddEvents(redis, options.stream, old);
    // A previous life of the same consumer read them and died before acknowledging.
    await redis.xgroup('CREATE', options.stream, options.group, '0');
    await redis.xreadgroup('GROUP', options.group, 'restarted', 'COUNT', 100, 'STREAMS', options.stream, '>');
    const fresh = trackedEvents(20, 3);
    await xaddEvents(redis, options.stream, fresh);
    start();

    await events.waitForCount(50);
    await streamDrained(options.stream);
    expect(idsOf(events)).toEqual(sortedIds([...old, ...fresh]));
  });

  it('claims the entries a dead consumer left pending once they are idle for CLAIM_IDLE_MS', async () => {
    const { options, events, start } = await given({ consumer: 'survivor', claimIdleMs: 300 });
    const orphaned = trackedEvents(40, 4);
    await xaddEvents(redis, options.stream, orphaned);
    await redis.xgroup('CREATE', options.stream, options.group, '0');
    await redis.xreadgroup('GROUP', options.group, 'dead', 'COUNT', 100, 'STREAMS', options.stream, '>');
    start();

    await events.waitForCount(40);
    await streamDrained(options.stream);
    expect(idsOf(events)).toEqual(sortedIds(orphaned));
    expect((await options.metrics.claimed.get()).values[0]!.value).toBe(40);
  });

  it('splits a batch of large events into produce requests Kafka accepts (its limit is 1 MiB per partition batch)', async () => {
    const { options, events, start } = await given();
    const sent = trackedEvents(60, 6);
    for (const event of sent) event.data.blob = 'x'.repeat(200_000);
    await xaddEvents(redis, options.stream, sent);
    start();

    await events.waitForCount(60, 30_000);
    await streamDrained(options.stream);
    expect(idsOf(events)).toEqual(sortedIds(sent));
    expect((await options.metrics.produceFailures.get()).values[0]!.value).toBe(0);
  });

  it('stop() moves what the stream still holds before it returns: nothing left behind, every entry in Kafka once', async () => {
    const { options, events, start } = await given({ batchMaxEvents: 50 });
    const sent = trackedEvents(3000, 5);
    await xaddEvents(redis, options.stream, sent);
    const store = start();
    await waitFor(async () => ((await redis.xlen(options.stream)) < 2500 ? true : undefined), 'some batches done');
    await store.stop();

    expect(await redis.xlen(options.stream)).toBe(0);
    expect(((await redis.xpending(options.stream, options.group)) as [number])[0]).toBe(0);
    await events.waitForCount(3000);
    expect(idsOf(events)).toEqual(sortedIds(sent));
  });

  it('stop() returns after its grace period while the stream keeps growing; what it deleted is in Kafka, nothing stays pending', async () => {
    const { options, events, start } = await given({ batchMaxEvents: 10, stopGraceMs: 500 });
    const sent = trackedEvents(20_000, 5);
    const store = start();
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing && written < sent.length) {
        await xaddEvents(redis, options.stream, sent.slice(written, written + 100));
        written += 100;
      }
    })();
    await waitFor(async () => ((await redis.xlen(options.stream)) > 0 ? true : undefined), 'the writer going');
    const stopping = performance.now();
    await store.stop();
    const stopMs = performance.now() - stopping;
    writing = false;
    await writer;

    expect(stopMs).toBeGreaterThanOrEqual(490); // the deadline is on Date.now(): whole milliseconds
    expect(((await redis.xpending(options.stream, options.group)) as [number])[0]).toBe(0);
    const left = await redis.xlen(options.stream);
    expect(left).toBeGreaterThan(0);
    // Read in stream order and deleted only once in Kafka: what left the stream is the first of what was written.
    await events.waitForCount(written - left);
    expect(idsOf(events)).toEqual(sortedIds(sent.slice(0, written - left)));
  });
});
