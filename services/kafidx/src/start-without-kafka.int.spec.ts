// kafidx started while Kafka is unreachable listens at once: the page and WebSocket upgrades
// work, /readyz is 503 naming Kafka and the API 503 `unavailable`; once Kafka is reachable it is
// ready, lists topics and streams. Its stop closes the viewers still open (1001) and completes.
// Kafka is "away" behind a TCP proxy that resets connections, then forwards them to the shared broker.
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics, type Producer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { stackAddresses, startTcpProxy, uniqueName, waitFor, type TcpProxy } from '@pushtech/testing';
import { openViewer, type ViewerClient } from './fixtures/viewer-client.ts';
import { kafidx } from './kafidx.ts';

const { kafkaBrokers } = stackAddresses();
const logger = createLogger('kafidx-test', 'silent');
const kafka = createKafka({ clientId: 'kafidx-test', brokers: kafkaBrokers, logger });
const TOKEN = 'kafidx-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const topic = uniqueName('kafidx');

let proxy: TcpProxy | undefined;
let service: Awaited<ReturnType<typeof kafidx.start>> | undefined;
let viewer: ViewerClient | undefined;
let producer: Producer | undefined;

afterAll(async () => {
  await viewer?.close();
  await service?.stop();
  await proxy?.close();
  await producer?.disconnect();
});

describe('kafidx started while Kafka is unreachable', () => {
  it('serves the page and WebSockets at once, unready and the API 503 until Kafka is there; then lists topics and streams', async () => {
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    proxy = await startTcpProxy(kafkaBrokers[0]!);
    service = await kafidx.start({
      config: { PORT: 0, HOST: '127.0.0.1', KAFKA_BROKERS: [proxy.address], KAFIDX_TOKEN: TOKEN, STATS_URL: 'http://127.0.0.1:9', MAX_QUEUE_PER_CLIENT: 100, LOG_LEVEL: 'silent' },
      logger,
    });
    const url = service.url!;
    // The marker: Kafka has been tried and refused.
    const tried = proxy;
    await waitFor(() => (tried.refused > 0 ? true : undefined), 'kafidx to try Kafka', 30_000);
    const page = await fetch(`${url}/`, { headers: auth });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('kafidx');
    const unready = await fetch(`${url}/readyz`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toMatchObject({ status: 'unready', checks: { kafka: expect.stringMatching(/^error: connecting to kafka/) } });
    const topics = await fetch(`${url}/api/topics`, { headers: auth });
    expect(topics.status).toBe(503);
    expect(topics.headers.get('retry-after')).toBe('1');
    expect(await topics.json()).toMatchObject({ error: 'unavailable' });

    viewer = await openViewer(`${url.replace('http', 'ws')}/ws?token=${TOKEN}`);
    const client = viewer;
    await expect(client.subscribe({ topics: [topic] })).rejects.toThrow(/not available/);

    proxy.forward();
    await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 'kafidx to be ready', 60_000, 100);
    const listed = await (await fetch(`${url}/api/topics`, { headers: auth })).json() as { topics: { name: string; partitions: number }[] };
    expect(listed.topics).toContainEqual({ name: topic, partitions: 1 });
    await client.subscribe({ topics: [topic] });
    producer = await createProducer(kafka);
    await producer.send(topic, [{ key: 'k', value: JSON.stringify({ type: 'marker' }) }]);
    expect((await client.waitForMessages(1))[0]).toMatchObject({ topic, key: 'k', value: { type: 'marker' } });
  }, 120_000);

  it('a stop closes the viewers still open (1001, kafidx is stopping), and completes', async () => {
    const closed = once(viewer!.ws, 'close');
    await service!.stop();
    const [code, reason] = await closed as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1001, 'kafidx is stopping']);
  });
});
