// The matcher started while Kafka is unreachable listens at once: alive (/healthz 200), unready
// (/readyz 503 naming Kafka); once Kafka is reachable it loads, catches up, joins its group and
// decides. Kafka is "away" behind a TCP proxy that resets connections, then forwards them to the
// shared broker. (Before, a start without Kafka exited the process.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '@pushtech/kafka';
import { probesWhileAway, readTopic, startTcpProxy, untilReady, waitFor, type TcpProxy, type TopicReader } from '@pushtech/testing';
import { matcher } from './app.ts';
import { at, createTestTopics, decisions, listing, listingRecord, testKafka, testLogger, testSettings } from './test-matcher.ts';

describe('matcher started while Kafka is unreachable', () => {
  const settings = testSettings();
  const kafka = testKafka(settings);
  let proxy: TcpProxy;
  let service: Awaited<ReturnType<typeof matcher.start>>;
  let producer: Producer;
  let matches: TopicReader;
  beforeAll(async () => {
    await createTestTopics(kafka, settings);
    producer = await createProducer(kafka);
    matches = await readTopic(kafka, settings.MATCHES_TOPIC, testLogger);
    proxy = await startTcpProxy(settings.KAFKA_BROKERS[0]!);
    service = await matcher.start({ config: { ...settings, KAFKA_BROKERS: [proxy.address] }, logger: testLogger });
  });
  afterAll(async () => {
    await service?.stop();
    await proxy?.close();
    await matches?.stop();
    await producer?.disconnect();
  });

  it('listens, alive and unready naming Kafka; ready once Kafka is reachable, then decides', async () => {
    // The marker: Mongo is connected (it comes first) and Kafka has been tried and refused.
    const { healthz, readyz } = await probesWhileAway(service.url!, proxy);
    expect(healthz.body).toEqual({ status: 'ok' });
    expect(readyz.status).toBe(503);
    expect(readyz.body).toEqual({
      status: 'unready',
      checks: {
        mongo: 'ok',
        kafka: expect.stringMatching(/^error: connecting to kafka/),
        started: expect.stringMatching(/^error: connecting to kafka/),
        index: 'error: waiting for mongo and kafka',
      },
    });

    proxy.forward();
    expect(await untilReady(service.url!)).toEqual({ status: 'ready', checks: { mongo: 'ok', kafka: 'ok', started: 'ok', index: 'ok' } });

    const running = await service.ready;
    await waitFor(() => (running.owned().size === 6 ? true : undefined), 'the matcher to own every shard', 30_000);
    await producer.send(settings.LISTINGS_TOPIC, [
      listingRecord({ type: 'listing.created', data: listing({ id: 's1', kind: 'search', ownerId: 'alice' }) }),
      listingRecord({ type: 'listing.created', data: listing({ id: 'o1', kind: 'offer', ownerId: 'bob', location: at(300) }) }),
    ]);
    await running.settled();
    await matches.caughtUp(); // settled: its decisions are on Kafka; now the reader has all of them
    expect(decisions(matches.messages.map((m) => m.value))).toEqual(['match.found s1|o1']);
  }, 120_000);
});
