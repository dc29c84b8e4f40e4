// The stats consumer started while Kafka is unreachable listens at once: alive (/healthz 200),
// unready (/readyz 503 naming Kafka), /stats 503 `unavailable`; once Kafka is reachable it
// becomes ready and counts. Kafka is "away" behind a TCP proxy that resets connections, then
// forwards them to the shared broker.
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEnvelope } from '@pushtech/events';
import { createKafka, createProducer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { probesWhileAway, stackAddresses, startTcpProxy, uniqueName, untilReady, waitFor } from '@pushtech/testing';
import type { StatsConfig } from './config.ts';
import { stats } from './stats.ts';

const { kafkaBrokers } = stackAddresses();
const logger = createLogger('stats-test', 'silent');
const topic = uniqueName('statsevents');

describe('stats started while Kafka is unreachable', () => {
  it('listens, alive and unready naming Kafka, /stats 503; ready once Kafka is reachable, then counts', async () => {
    const proxy = await startTcpProxy(kafkaBrokers[0]!);
    onTestFinished(() => proxy.close());
    const config: StatsConfig = {
      PORT: 0, HOST: '127.0.0.1', KAFKA_BROKERS: [proxy.address], EVENTS_TOPIC: topic, CONSUMER_GROUP: uniqueName('stats'), RETENTION_HOURS: 1, LOG_LEVEL: 'silent',
    };
    const service = await stats.start({ config, logger });
    onTestFinished(() => service.stop());
    const url = service.url!;
    const { healthz, readyz } = await probesWhileAway(url, proxy);
    expect(healthz).toEqual({ status: 200, body: { status: 'ok' } });
    expect(readyz).toEqual({
      status: 503,
      body: { status: 'unready', checks: { kafka: expect.stringMatching(/^error: connecting to kafka/), started: expect.stringMatching(/^error: connecting to kafka/) } },
    });
    const refused = await fetch(`${url}/stats`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: 'unavailable' });

    proxy.forward();
    await untilReady(url);
    const producer = await createProducer(createKafka({ clientId: 'stats-test', brokers: kafkaBrokers, logger }));
    onTestFinished(() => producer.disconnect());
    const event = createEnvelope({ source: 'tracker/test', type: 'location', data: { context: { ip: '127.0.0.1', geo: null, device: {}, os: {}, browser: {} } } });
    await producer.send(topic, [{ key: event.id, value: JSON.stringify(event) }]);
    await waitFor(async () => {
      const body = await (await fetch(`${url}/stats`)).json() as { minutes: { total: number }[] };
      return body.minutes.reduce((sum, m) => sum + m.total, 0) === 1 ? true : undefined;
    }, 'the event counted', 30_000, 100);
  }, 120_000);
});
