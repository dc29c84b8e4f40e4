// The stats consumer against the local Kafka: events with known times and contexts on a
// topic of its own; GET /stats counts them; a restart rebuilds the same counts from the
// retention window (not zero, not doubled); events outside the window are left out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics, type EnrichedEvent } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { createKafka, createProducer, ensureTopics, type Producer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import type { StatsConfig } from './config.ts';
import type { MinuteStats } from './minute-counts.ts';
import { stats as statsService } from './stats.ts';

const { kafkaBrokers } = stackAddresses();
const logger = createLogger('stats-test', 'silent');
const kafka = createKafka({ clientId: 'stats-test', brokers: kafkaBrokers, logger });
const topic = uniqueName('statsevents');
const config: StatsConfig = {
  PORT: 0, HOST: '127.0.0.1', KAFKA_BROKERS: kafkaBrokers, EVENTS_TOPIC: topic, CONSUMER_GROUP: uniqueName('stats'), RETENTION_HOURS: 2, LOG_LEVEL: 'silent',
};

// Whole minutes a little in the past, so that every event is inside the 2 h window.
const base = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
const minute = (n: number) => new Date(base + n * 60_000).toISOString().replace('.000Z', 'Z');

function enriched(type: string, at: number, context: { country?: string; device?: string; os?: string }): EnrichedEvent {
  return createEnvelope({
    source: 'tracker/test',
    type,
    time: new Date(at),
    data: {
      context: {
        ip: '81.169.145.105',
        geo: context.country ? { country: context.country, region: '', city: '', lat: 0, lon: 0, timezone: 'UTC' } : null,
        device: context.device ? { type: context.device } : {},
        os: context.os ? { name: context.os } : {},
        browser: { name: 'Chrome' },
      },
    },
  }) as EnrichedEvent;
}

const events = [
  enriched('location', base + 0, { country: 'DE', device: 'mobile', os: 'iOS' }),
  enriched('location', base + 59_999, { country: 'DE', device: 'mobile', os: 'Android' }),
  enriched('page.view', base + 60_000, { country: 'FR', os: 'Windows' }),
  enriched('search', base + 61_000, { device: 'tablet', os: 'iOS' }),
];
// Older than the 2 h window: read, not counted.
const tooOld = enriched('location', base - 3 * 3_600_000, { country: 'DE' });

let producer: Producer;
let app: Awaited<ReturnType<typeof statsService.start>> | undefined;

/** Starts the service and waits until it reads; answers its URL. */
async function start(): Promise<string> {
  app = await statsService.start({ config, logger });
  await app.ready;
  return app.url!;
}

async function stats(url: string): Promise<MinuteStats[]> {
  const answer = await fetch(`${url}/stats?since=${encodeURIComponent(minute(0))}`);
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { minutes: MinuteStats[] }).minutes;
}

async function countsOnce(url: string, total: number): Promise<MinuteStats[]> {
  return waitFor(async () => {
    const minutes = await stats(url);
    return minutes.reduce((sum, m) => sum + m.total, 0) >= total ? minutes : undefined;
  }, `${total} events counted`, 30_000, 200);
}

beforeAll(async () => {
  await ensureTopics(kafka, [{ ...topics.events, name: topic, partitions: 3 }]);
  producer = await createProducer(kafka);
  await producer.send(topic, [...events, tooOld, ...events.slice(0, 1)].map((e) => ({ key: e.id, value: JSON.stringify(e) })));
});

afterAll(async () => {
  await app?.stop();
  await producer?.disconnect();
});

const expected = [
  {
    minute: minute(0), total: 2,
    byType: [{ type: 'location', count: 2 }],
    byCountry: [{ country: 'DE', count: 2 }],
    byDevice: [{ device: 'mobile', count: 2 }],
    byOs: [{ os: 'Android', count: 1 }, { os: 'iOS', count: 1 }],
  },
  {
    minute: minute(1), total: 2,
    byType: [{ type: 'page.view', count: 1 }, { type: 'search', count: 1 }],
    byCountry: [{ country: 'FR', count: 1 }, { country: 'unknown', count: 1 }],
    byDevice: [{ device: 'desktop', count: 1 }, { device: 'tablet', count: 1 }],
    byOs: [{ os: 'Windows', count: 1 }, { os: 'iOS', count: 1 }],
  },
];

describe('stats consumer', () => {
  it('counts events per minute of their `time` (59.999 s vs 60.000 s), without the duplicate and the too old one', async () => {
    const url = await start();
    expect(await countsOnce(url, 4)).toEqual(expected);
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text.includes('stats_events_total{result="outside_window",service="stats"} 1') ? text : undefined;
    }, 'the too old event in the metrics');
    expect(metrics).toContain('stats_events_total{result="duplicate",service="stats"} 1');
    expect(metrics).toContain('stats_events_total{result="counted",service="stats"} 4');
    expect(await stats(url)).toEqual(expected);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('a restart rebuilds the same counts from the retention window, though the group had committed', async () => {
    await app!.stop();
    const url = await start();
    const later = enriched('location', base + 60_500, { country: 'DE', device: 'mobile', os: 'iOS' });
    await producer.send(topic, [{ key: later.id, value: JSON.stringify(later) }]);
    const minutes = await countsOnce(url, 5);
    expect(minutes[0]).toEqual(expected[0]);
    expect(minutes[1]).toMatchObject({ minute: minute(1), total: 3, byType: [{ type: 'location', count: 1 }, { type: 'page.view', count: 1 }, { type: 'search', count: 1 }] });
  });
});
