// Kafka goes away while storage runs: reads go on from Mongo, writes answer 503 (nothing
// changed), /readyz stays 200 and names Kafka (so a Kafka outage does not take every storage
// pod out of the Service, reads included), and writes work again once Kafka is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateKafka, waitFor, type PrivateServer } from '@pushtech/testing';
import { startTestStorage, testSettings, type TestStorage } from './test-storage.ts';

describe('when Kafka is unreachable', () => {
  let kafka: PrivateServer;
  let storage: TestStorage;
  beforeAll(async () => {
    kafka = await startPrivateKafka();
    storage = await startTestStorage(testSettings({ KAFKA_BROKERS: [kafka.address], READ_YOUR_WRITES_TIMEOUT_MS: 3_000 }));
  }, 180_000);
  afterAll(async () => {
    await storage?.stop();
    await kafka?.close();
  }, 60_000);

  const listing = (title: string) => ({ kind: 'offer', title, tags: [], location: { type: 'Point', coordinates: [13.405, 52.52] }, radiusM: 1000, follow: false });
  const create = async (title: string) =>
    storage.app.inject({ method: 'POST', url: '/listings', headers: { authorization: `Bearer ${await storage.token('alice')}` }, payload: listing(title) });

  it('reads go on, writes answer 503, /readyz stays 200 (degraded) naming Kafka; once Kafka is back, writes are taken and projected again', async () => {
    const before = await create('lamp');
    expect(before.statusCode).toBe(201);
    expect((await storage.app.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { mongo: 'ok', started: 'ok', kafka: 'ok' } });

    await kafka.stop();
    const readyz = await storage.app.inject('/readyz');
    expect(readyz.statusCode).toBe(200);
    expect(readyz.json()).toEqual({ status: 'degraded', checks: { mongo: 'ok', started: 'ok', kafka: expect.stringMatching(/^error: /) } });
    const read = await storage.app.inject(`/listings/${before.json().id}`);
    expect([read.statusCode, read.json().title]).toEqual([200, 'lamp']);
    const refused = await create('sofa');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ error: 'unavailable' });

    await kafka.start();
    // Accepted (on Kafka) is 201 once the projection has it, 202 while the projector catches up.
    const after = await waitFor(async () => {
      const response = await create('guitar');
      return response.statusCode === 201 || response.statusCode === 202 ? response : undefined;
    }, 'a write accepted again', 90_000, 500);
    // The projector resumes too (its group rejoins the restarted broker: ~30 s here).
    const projected = await waitFor(async () => {
      const response = await storage.app.inject(`/listings/${after.json().id}`);
      return response.statusCode === 200 ? response : undefined;
    }, 'the write projected', 90_000, 200);
    expect(projected.json().title).toBe('guitar');
    expect((await storage.app.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { mongo: 'ok', started: 'ok', kafka: 'ok' } });
  }, 240_000);
});
