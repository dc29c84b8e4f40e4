// The mover started while Kafka is unreachable listens at once: alive (/healthz 200), unready
// (/readyz 503 naming Kafka); once Kafka is reachable it loads the following listings, joins
// its group, becomes ready and moves listings. Kafka is "away" behind a TCP proxy that resets
// connections, then forwards them to the shared broker.
import { afterAll, describe, expect, it } from 'vitest';
import { topics, type EnrichedEvent } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { createKafka, createProducer, ensureTopics, type Producer } from '@pushtech/kafka';
import { cellsFor, point } from '@pushtech/listings';
import { createLogger } from '@pushtech/logging';
import { connectMongo, type MongoClient } from '@pushtech/mongo';
import { readTopic, stackAddresses, startTcpProxy, uniqueName, waitFor, type TcpProxy, type TopicReader } from '@pushtech/testing';
import type { MoverConfig } from './config.ts';
import { mover } from './mover.ts';

const logger = createLogger('mover-test', 'silent');
const { kafkaBrokers, mongoUrl } = stackAddresses();
const kafka = createKafka({ clientId: 'mover-test', brokers: kafkaBrokers, logger });
const names = { db: uniqueName('mover'), events: uniqueName('events'), listings: uniqueName('listings') };

let proxy: TcpProxy | undefined;
let service: Awaited<ReturnType<typeof mover.start>> | undefined;
let mongo: MongoClient | undefined;
let producer: Producer | undefined;
let moves: TopicReader | undefined;

afterAll(async () => {
  await service?.stop();
  await proxy?.close();
  await moves?.stop();
  await producer?.disconnect();
  await mongo?.db(names.db).dropDatabase().catch(() => {});
  await mongo?.close();
});

describe('mover started while Kafka is unreachable', () => {
  it('listens, alive and unready naming Kafka; once Kafka is reachable: ready, and moves listings', async () => {
    const at = point(13.405, 52.52);
    mongo = await connectMongo(mongoUrl, { appName: 'mover-test' });
    await mongo.db(names.db).collection('listings').insertOne({
      _id: 'f-follows', id: 'f-follows', kind: 'search', ownerId: 'frank', title: 'bike', tags: [], location: at, radiusM: 500, follow: true, status: 'active',
      imageIds: [], version: 1, cells: cellsFor(at), terms: ['bike'], eventIds: [], updatedAt: new Date().toISOString(),
    } as never);
    proxy = await startTcpProxy(kafkaBrokers[0]!);
    const config: MoverConfig = {
      HOST: '127.0.0.1', PORT: 0, LOG_LEVEL: 'silent', KAFKA_BROKERS: [proxy.address], MONGO_URL: mongoUrl, MONGO_DB: names.db,
      EVENTS_TOPIC: names.events, LISTINGS_TOPIC: names.listings, MOVER_GROUP: uniqueName('mover'), PROJECTOR_GROUP: uniqueName('projector'), MIN_MOVE_M: 25, MIN_INTERVAL_MS: 0,
    };
    service = await mover.start({ config, logger });
    const url = service.url!;
    // The marker: Kafka has been tried and refused.
    const tried = proxy;
    await waitFor(() => (tried.refused > 0 ? true : undefined), 'the mover to try Kafka', 30_000);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const unready = await fetch(`${url}/readyz`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toMatchObject({ status: 'unready', checks: { kafka: expect.stringMatching(/^error: connecting to kafka/) } });

    proxy.forward();
    const ready = await waitFor(async () => {
      const answer = await fetch(`${url}/readyz`);
      return answer.status === 200 ? answer.json() : undefined;
    }, 'the mover to be ready', 60_000, 100);
    expect(ready).toEqual({ status: 'ready', checks: { kafka: 'ok', mongo: 'ok', started: 'ok', consumer: 'ok' } });

    await ensureTopics(kafka, [{ ...topics.listings, name: names.listings }]);
    moves = await readTopic(kafka, names.listings, logger);
    producer = await createProducer(kafka);
    const event: EnrichedEvent = createEnvelope({
      source: 'tracker/test', type: 'location', subject: 'frank',
      data: { lng: 13.41, lat: 52.52, context: { ip: '127.0.0.1', userId: 'frank', geo: null, device: {}, os: {}, browser: {} } },
    });
    await producer.send(names.events, [{ key: 'frank', value: JSON.stringify(event) }]);
    const reader = moves;
    await waitFor(() => reader.messages.find((m) => m.key === 'f-follows'), 'frank\'s listing moved', 30_000);
  }, 120_000);
});
