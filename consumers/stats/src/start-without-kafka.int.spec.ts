// The stats consumer started while Kafka is unreachable listens at once: alive (/healthz 200),
// unready (/readyz 503 naming Kafka), /stats 503 `unavailable`; once Kafka is reachable it
// becomes ready and counts. Kafka is "away" behind a TCP proxy that resets connections, then
// forwards them to the shared broker.
import { afterAll, describe, expect, it } from 'vitest';
import { createEnvelope } from '@pushtech/events';
import { createKafka, createProducer, type Producer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { stackAddresses, startTcpProxy, uniqueName, waitFor, type TcpProxy } from '@pushtech/testing';
import type { StatsConfig } from './config.ts';
import { stats } from './stats.ts';

const { kafkaBrokers } = stackAddresses();
const logger = createLogger('stats-test', 'silent');
const topic = uniqueName('statsevents');

let proxy: TcpProxy | undefined;
let service: Awaited<ReturnType<typeof stats.start>> | undefined;
let producer: Producer | undefined;

afterAll(async () => {
  await service?.stop();
  await proxy?.close();
  await producer?.disconnect();
});

describe('stats started while Kafka is unreachable', () => {
  it('listens, alive and unready naming Kafka, /stats 503; ready once Kafka is reachable, then counts', async () => {
    proxy = await startTcpProxy(kafkaBrokers[0]!);
    const config: StatsConfig = {
      PORT: 0, HOST: '127.0.0.1', KAFKA_BROKERS: [proxy.address], EVENTS_TOPIC: topic, CONSUMER_GROUP: uniqueName('stats'), RETENTION_HOURS: 1, LOG_LEVEL: 'silent',
    };
    service = await stats.start({ config, logger });
    const url = service.url!;
    // The marker: Kafka has been tried and refused.
    const tried = proxy;
    await waitFor(() => (tried.refused > 0 ? true : undefined), 'stats to try Kafka', 30_000);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const unready = await fetch(`${url}/readyz`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toEqual({
      status: 'unready',
      checks: { kafka: expect.stringMatching(/^error: connecting to kafka/), started: expect.stringMatching(/^error: connecting to kafka/) },
    });
    const refused = await fetch(`${url}/stats`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: 'unavailable' });

    proxy.forward();
    await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 'stats to be ready', 60_000, 100);
    const event = createEnvelope({ source: 'tracker/test', type: 'location', data: { context: { ip: '127.0.0.1', geo: null, device: {}, os: {}, browser: {} } } });
    producer = await createProducer(createKafka({ clientId: 'stats-test', brokers: kafkaBrokers, logger }));
    await producer.send(topic, [{ key: event.id, value: JSON.stringify(event) }]);
    await waitFor(async () => {
      const body = await (await fetch(`${url}/stats`)).json() as { minutes: { total: number }[] };
      return body.minutes.reduce((sum, m) => sum + m.total, 0) === 1 ? true : undefined;
    }, 'the event counted', 30_000, 100);
  }, 120_000);
});
