// Storage started while Kafka is unreachable listens at once: alive (/healthz 200), unready
// (/readyz 503 naming Kafka), requests answer 503; once Kafka is reachable it becomes ready
// and takes writes. Kafka is "away" behind a TCP proxy that resets connections, then forwards
// them to the shared broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@pushtech/auth';
import { probesWhileAway, startTcpProxy, untilReady, type TcpProxy } from '@pushtech/testing';
import { storageService } from './storage.ts';
import { listingBody, TEST_SECRET, testLogger, testSettings } from './test-storage.ts';

describe('storage started while Kafka is unreachable', () => {
  const service = storageService({ awaitProjectorJoin: true });
  let proxy: TcpProxy;
  let storage: Awaited<ReturnType<typeof service.start>>;
  let url: string;
  const settings = testSettings();
  let dropDatabase: (() => Promise<unknown>) | undefined;
  beforeAll(async () => {
    proxy = await startTcpProxy(settings.KAFKA_BROKERS[0]!);
    storage = await service.start({ config: { ...settings, KAFKA_BROKERS: [proxy.address] }, logger: testLogger() });
    url = storage.url!;
    storage.ready.then((started) => { dropDatabase = () => started.mongo.client.db(settings.MONGO_DB).dropDatabase(); }, () => {});
  });
  afterAll(async () => {
    await dropDatabase?.();
    await storage?.stop();
    await proxy?.close();
  });

  const create = async (title: string) => fetch(`${url}/listings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await signToken('alice', TEST_SECRET)}`, 'content-type': 'application/json' },
    body: JSON.stringify(listingBody({ title })),
  });

  it('listens, alive and unready naming Kafka, answers 503; ready once Kafka is reachable, then takes writes', async () => {
    // The marker: Mongo is connected (it comes first) and Kafka has been tried and refused.
    const { healthz, readyz } = await probesWhileAway(url, proxy);
    expect(healthz.body).toEqual({ status: 'ok' });
    expect(readyz.status).toBe(503);
    expect(readyz.body).toEqual({
      status: 'unready',
      checks: { mongo: 'ok', started: expect.stringMatching(/^error: connecting to kafka/), kafka: expect.stringMatching(/^error: connecting to kafka/) },
    });
    const refused = await create('lamp');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: 'unavailable' });

    proxy.forward();
    expect(await untilReady(url)).toEqual({ status: 'ready', checks: { mongo: 'ok', started: 'ok', kafka: 'ok' } });

    const created = await create('sofa');
    expect(created.status).toBe(201);
    const { id } = await created.json() as { id: string };
    expect(await (await fetch(`${url}/listings/${id}`)).json()).toMatchObject({ id, title: 'sofa', ownerId: 'alice' });
  }, 120_000);
});
