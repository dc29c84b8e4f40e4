// Issue 3, end to end on the real stack: events sent to the tracker over HTTP
// arrive in Kafka, enriched by the kafkastore, under the ids the tracker gave them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedEvent } from '@pushtech/contracts';
import { createKafka } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { freePort, readTopic, stackAddresses, uniqueName } from '@pushtech/testing';
import { startService, type RunningService } from './services.ts';

const { kafkaBrokers, redisUrl } = stackAddresses();
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const GERMAN_IP = '81.169.145.105';

const topic = uniqueName('events');
const stream = uniqueName('e2e:stream:');
let tracker: RunningService;
let kafkastore: RunningService;

beforeAll(async () => {
  const env = { KAFKA_BROKERS: kafkaBrokers.join(','), REDIS_URL: redisUrl, REDIS_STREAM: stream };
  [tracker, kafkastore] = await Promise.all([
    startService('services/tracker/src/index.ts', { ...env, PORT: String(await freePort()), TRUST_PROXY: 'true', TRACKER_ID: 'e2e' }),
    startService('services/kafkastore/src/index.ts', { ...env, PORT: String(await freePort()), EVENTS_TOPIC: topic, DLQ_TOPIC: `${topic}.dlq`, CONSUMER_NAME: 'e2e' }),
  ]);
});
afterAll(async () => {
  await Promise.all([tracker?.stop(), kafkastore?.stop()]);
});

describe('tracker → Redis → kafkastore → Kafka', () => {
  it('every accepted event arrives in `events` enriched, with the id the tracker gave it', async () => {
    const headers = { 'x-forwarded-for': GERMAN_IP, 'user-agent': IPHONE };
    const ids: string[] = [];

    const beacon = await fetch(`${tracker.url}/t/page.view?userId=alice&path=%2Fbikes`, { headers });
    expect(beacon.status).toBe(204);
    ids.push(beacon.headers.get('x-event-id')!);

    const single = await fetch(`${tracker.url}/t/location?userId=alice`, {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ lng: 13.405, lat: 52.52 }),
    });
    expect(single.status).toBe(204);
    ids.push(single.headers.get('x-event-id')!);

    const batch = await fetch(`${tracker.url}/t/batch`, {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify([
        { type: 'location', data: { lng: 13.41, lat: 52.53 }, anonymousId: 'anon-7' },
        { type: 'BAD TYPE', data: {} },
        { type: 'search', data: { q: 'bike' }, userId: 'bob' },
      ]),
    });
    expect(batch.status).toBe(200);
    const answer = await batch.json() as { accepted: number; ids: string[]; rejected: { index: number }[] };
    expect(answer.accepted).toBe(2);
    expect(answer.rejected.map((r) => r.index)).toEqual([1]);
    ids.push(...answer.ids);
    expect(ids).toHaveLength(4);

    const reader = await readTopic(createKafka({ clientId: 'e2e', brokers: kafkaBrokers, logger: createLogger('e2e', 'silent') }), topic, createLogger('e2e', 'silent'));
    try {
      await reader.waitForCount(4, 60_000);
      const events = reader.values<EnrichedEvent>();
      expect(events.map((e) => e.id).sort()).toEqual([...ids].sort());
      const byId = new Map(events.map((e) => [e.id, e]));

      const location = byId.get(ids[1]!)!;
      expect(location).toMatchObject({ specversion: '1.0', type: 'location', source: 'tracker/e2e', subject: 'alice', data: { lng: 13.405, lat: 52.52 } });
      expect(location.data.context).toMatchObject({
        ip: GERMAN_IP,
        userId: 'alice',
        geo: { country: 'DE' },
        device: { type: 'mobile', vendor: 'Apple' },
        os: { name: 'iOS' },
      });
      expect(byId.get(ids[0]!)!.data).toMatchObject({ path: '/bikes' });
      expect(byId.get(ids[2]!)!.subject).toBe('anon-7');
      // Kafka key: the user id, else the anonymous id.
      const keys = new Map(reader.messages.map((m) => [JSON.parse(m.value!.toString()).id as string, m.key]));
      expect([keys.get(ids[1]!), keys.get(ids[2]!), keys.get(ids[3]!)]).toEqual(['alice', 'anon-7', 'bob']);
    } finally {
      await reader.stop();
    }
  }, 90_000);
});
