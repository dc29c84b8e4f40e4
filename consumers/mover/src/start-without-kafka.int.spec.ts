// The mover started while Kafka is unreachable listens at once: alive (/healthz 200), unready
// (/readyz 503 naming Kafka); once Kafka is reachable it loads the following listings, joins
// its group, becomes ready and moves listings. Kafka is "away" behind a TCP proxy that resets
// connections, then forwards them to the shared broker.
import { describe, expect, it, onTestFinished } from 'vitest';
import { topics, type EnrichedEvent } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { createKafka, createProducer, ensureTopics } from '@pushtech/kafka';
import { point } from '@pushtech/listings';
import { createLogger } from '@pushtech/logging';
import { connectMongo } from '@pushtech/mongo';
import { probesWhileAway, readTopic, stackAddresses, startTcpProxy, uniqueName, untilReady, waitFor } from '@pushtech/testing';
import type { MoverConfig } from './config.ts';
import { mover } from './mover.ts';

const logger = createLogger('mover-test', 'silent');
const { kafkaBrokers, mongoUrl } = stackAddresses();
const kafka = createKafka({ clientId: 'mover-test', brokers: kafkaBrokers, logger });
const names = { db: uniqueName('mover'), events: uniqueName('events'), listings: uniqueName('listings') };

describe('mover started while Kafka is unreachable', () => {
  it('listens, alive and unready naming Kafka; once Kafka is reachable: ready, and moves listings', async () => {
    const at = point(13.405, 52.52);
    const mongo = await connectMongo(mongoUrl, { appName: 'mover-test' });
    onTestFinished(async () => {
      await mongo.db(names.db).dropDatabase();
      await mongo.close();
    });
    await mongo.db(names.db).collection('listings').insertOne({
      _id: 'f-follows', id: 'f-follows', kind: 'search', ownerId: 'frank', title: 'bike', tags: [], location: at, radiusM: 500, follow: true, status: 'active',
      imageIds: [], version: 1, terms: ['bike'], eventIds: [], updatedAt: new Date().toISOString(),
    } as never);
    const proxy = await startTcpProxy(kafkaBrokers[0]!);
    onTestFinished(() => proxy.close());
    const config: MoverConfig = {
      HOST: '127.0.0.1', PORT: 0, LOG_LEVEL: 'silent', KAFKA_BROKERS: [proxy.address], MONGO_URL: mongoUrl, MONGO_DB: names.db,
      EVENTS_TOPIC: names.events, LISTINGS_TOPIC: names.listings, MOVER_GROUP: uniqueName('mover'), PROJECTOR_GROUP: uniqueName('projector'), MIN_MOVE_M: 25, MIN_INTERVAL_MS: 0,
    };
    const service = await mover.start({ config, logger });
    onTestFinished(() => service.stop());
    const url = service.url!;
    const { healthz, readyz } = await probesWhileAway(url, proxy);
    expect(healthz).toEqual({ status: 200, body: { status: 'ok' } });
    expect(readyz).toMatchObject({ status: 503, body: { status: 'unready', checks: { kafka: expect.stringMatching(/^error: connecting to kafka/) } } });

    proxy.forward();
    expect(await untilReady(url)).toEqual({ status: 'ready', checks: { kafka: 'ok', mongo: 'ok', started: 'ok', consumer: 'ok' } });

    await ensureTopics(kafka, [{ ...topics.listings, name: names.listings }]);
    const moves = await readTopic(kafka, names.listings, logger);
    onTestFinished(() => moves.stop());
    const producer = await createProducer(kafka);
    onTestFinished(() => producer.disconnect());
    const event: EnrichedEvent = createEnvelope({
      source: 'tracker/test', type: 'location', subject: 'frank',
      data: { lng: 13.41, lat: 52.52, context: { ip: '127.0.0.1', userId: 'frank', geo: null, device: {}, os: {}, browser: {} } },
    });
    await producer.send(names.events, [{ key: 'frank', value: JSON.stringify(event) }]);
    await waitFor(() => moves.messages.find((m) => m.key === 'f-follows'), 'frank\'s listing moved', 30_000);
  }, 120_000);
});
