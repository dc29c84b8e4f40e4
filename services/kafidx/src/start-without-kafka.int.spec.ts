// kafidx started while Kafka is unreachable listens at once: the page and WebSocket upgrades
// work, /readyz is 503 naming Kafka and the API 503 `unavailable`; once Kafka is reachable it is
// ready, lists topics and streams. Its stop closes the viewers still open (1001) and completes.
// Kafka is "away" behind a TCP proxy that resets connections, then forwards them to the shared broker.
import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { probesWhileAway, stackAddresses, startTcpProxy, uniqueName, untilReady } from '@pushtech/testing';
import { openViewer } from './fixtures/viewer-client.ts';
import { kafidx } from './kafidx.ts';

const { kafkaBrokers } = stackAddresses();
const logger = createLogger('kafidx-test', 'silent');
const kafka = createKafka({ clientId: 'kafidx-test', brokers: kafkaBrokers, logger });
const TOKEN = 'kafidx-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const topic = uniqueName('kafidx');

describe('kafidx started while Kafka is unreachable', () => {
  it('serves the page and WebSockets at once, unready and the API 503 until Kafka is there; then lists topics and streams; a stop closes the open viewers', async () => {
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    const proxy = await startTcpProxy(kafkaBrokers[0]!);
    onTestFinished(() => proxy.close());
    const service = await kafidx.start({
      config: { PORT: 0, HOST: '127.0.0.1', KAFKA_BROKERS: [proxy.address], KAFIDX_TOKEN: TOKEN, STATS_URL: 'http://127.0.0.1:9', MAX_QUEUE_PER_CLIENT: 100, LOG_LEVEL: 'silent' },
      logger,
    });
    onTestFinished(() => service.stop());
    const url = service.url!;
    const { readyz } = await probesWhileAway(url, proxy);
    expect(readyz).toMatchObject({ status: 503, body: { status: 'unready', checks: { kafka: expect.stringMatching(/^error: connecting to kafka/) } } });
    const page = await fetch(`${url}/`, { headers: auth });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('kafidx');
    const topics = await fetch(`${url}/api/topics`, { headers: auth });
    expect(topics.status).toBe(503);
    expect(topics.headers.get('retry-after')).toBe('1');
    expect(await topics.json()).toMatchObject({ error: 'unavailable' });
    const viewer = await openViewer(`${url.replace('http', 'ws')}/ws?token=${TOKEN}`);
    onTestFinished(() => viewer.close());
    await expect(viewer.subscribe({ topics: [topic] })).rejects.toThrow(/not available/);

    proxy.forward();
    await untilReady(url);
    const listed = await (await fetch(`${url}/api/topics`, { headers: auth })).json() as { topics: { name: string; partitions: number }[] };
    expect(listed.topics).toContainEqual({ name: topic, partitions: 1 });
    await viewer.subscribe({ topics: [topic] });
    const producer = await createProducer(kafka);
    onTestFinished(() => producer.disconnect());
    await producer.send(topic, [{ key: 'k', value: JSON.stringify({ type: 'marker' }) }]);
    expect((await viewer.waitForMessages(1))[0]).toMatchObject({ topic, key: 'k', value: { type: 'marker' } });

    // An open WebSocket would keep the HTTP server from closing: the stop closes the viewers first.
    const closed = once(viewer.ws, 'close');
    await service.stop();
    const [code, reason] = await closed as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1001, 'kafidx is stopping']);
  }, 120_000);
});
