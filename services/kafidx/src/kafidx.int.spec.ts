// kafidx against the local Kafka: the WebSocket protocol (subscribe, filters, last N,
// pause), a viewer that does not read (its drops are counted, nobody else waits), and access.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics, type OutgoingMessage, type Producer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { kafidxService } from './kafidx.ts';
import { openViewer, refusedUpgrade, type Frame, type ViewerClient } from './fixtures/viewer-client.ts';

const { kafkaBrokers } = stackAddresses();
const logger = createLogger('kafidx-test', 'silent');
const kafka = createKafka({ clientId: 'kafidx-test', brokers: kafkaBrokers, logger });
const TOKEN = 'kafidx-test-token-0123456789';
// Each round of the slow-viewer test (200 messages) fits in a healthy viewer's queue, so that
// one never depends on how fast this busy machine lets it drain.
const MAX_QUEUE = 500;

let app: Awaited<ReturnType<ReturnType<typeof kafidxService>['start']>>;
let url: string;
let producer: Producer;
let stats: Server;
let statsUrl: string;
const clients: ViewerClient[] = [];

const wsUrl = (query = `?token=${TOKEN}`) => `${url.replace('http', 'ws')}/ws${query}`;
const auth = { authorization: `Bearer ${TOKEN}` };

async function viewer(): Promise<ViewerClient> {
  const client = await openViewer(wsUrl());
  clients.push(client);
  return client;
}

async function newTopic(partitions = 3): Promise<string> {
  const name = uniqueName('kafidx');
  await ensureTopics(kafka, [{ name, partitions, retentionMs: 3_600_000 }]);
  return name;
}

function event(type: string, userId: string | undefined, extra: Record<string, unknown> = {}, subject = userId): OutgoingMessage {
  const id = uniqueName('ev');
  const value = { specversion: '1.0', id, source: 'test', type, time: new Date().toISOString(), ...(subject ? { subject } : {}), data: { ...extra, context: { ip: '127.0.0.1', ...(userId ? { userId } : {}) } } };
  return { key: userId ?? id, value: JSON.stringify(value) };
}

const ids = (client: ViewerClient) => client.messages().map((m) => (m.value as { id: string }).id);
const idOf = (m: OutgoingMessage) => (JSON.parse(String(m.value)) as { id: string }).id;

beforeAll(async () => {
  stats = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ minutes: [], askedFor: request.url }));
  });
  stats.listen(0, '127.0.0.1');
  await once(stats, 'listening');
  statsUrl = `http://127.0.0.1:${(stats.address() as { port: number }).port}`;
  app = await kafidxService({ maxBufferedBytes: 256 * 1024, statsIntervalMs: 200 }).start({
    config: { PORT: 0, HOST: '127.0.0.1', KAFKA_BROKERS: kafkaBrokers, KAFIDX_TOKEN: TOKEN, STATS_URL: statsUrl, MAX_QUEUE_PER_CLIENT: MAX_QUEUE, LOG_LEVEL: 'silent' },
    logger,
  });
  await app.ready;
  url = app.url!;
  producer = await createProducer(kafka);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await app?.stop();
  await producer?.disconnect();
  stats?.close();
});

describe('subscribe', () => {
  it('from now: every message produced after `subscribed`, none from before, with topic, partition, offset, timestamp, key, value', async () => {
    const topic = await newTopic();
    const before = [event('page.view', 'alice'), event('page.view', 'bob')];
    await producer.send(topic, before);
    const client = await viewer();
    await client.subscribe({ topics: [topic] });
    const sentAt = Date.now() - 1_234; // the records' own timestamp, which kafidx passes on
    const after = Array.from({ length: 6 }, (_, i) => ({ ...event('location', `user-${i}`, { lat: 52 + i / 10 }), timestamp: String(sentAt) }));
    await producer.send(topic, after);

    const messages = await client.waitForMessages(6);
    expect(new Set(ids(client))).toEqual(new Set(after.map(idOf)));
    const first = messages.find((m) => (m.value as { id: string }).id === idOf(after[0]!))!;
    expect(first).toMatchObject({ kind: 'message', topic, key: 'user-0', value: JSON.parse(String(after[0]!.value)) });
    expect(first.partition).toBeGreaterThanOrEqual(0);
    expect(first.offset).toMatch(/^\d+$/);
    expect(first.timestamp).toBe(sentAt);
  });

  it('last N: the newest N of the topic across its partitions, oldest first, then live ones', async () => {
    const topic = await newTopic(3);
    const t0 = Date.now() - 60_000;
    // Keys spread the messages over the 3 partitions: the newest 5 come from several of them,
    // and kafkajs hands partitions over one after the other; kafidx merges them by timestamp.
    const history = Array.from({ length: 12 }, (_, i) => ({ ...event('search', `user-${i}`), timestamp: String(t0 + i * 1000) }));
    await producer.send(topic, history);
    const client = await viewer();
    await client.subscribe({ topics: [topic], last: 5 });
    await client.waitForMessages(5);
    const live = event('search', 'late');
    await producer.send(topic, [live]);
    await client.waitForMessages(6);

    expect(ids(client)).toEqual([...history.slice(7).map(idOf), idOf(live)]);
    expect(client.messages().slice(0, 5).map((m) => m.timestamp)).toEqual(history.slice(7).map((m) => Number(m.timestamp)));
  });

  it('an unknown topic, or a bad frame, gets {kind:error, field, rule}; the connection stays usable', async () => {
    const client = await viewer();
    client.send('not json');
    client.send({ op: 'subscribe', topics: [uniqueName('missing')] });
    client.send({ op: 'explode' });
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const errors = await waitFor(() => {
      const found = client.frames.filter((f) => f.kind === 'error');
      return found.length >= 4 ? found : undefined;
    }, 'four errors');
    expect(errors).toEqual(expect.arrayContaining([
      { kind: 'error', field: '(root)', rule: 'must be valid JSON' },
      { kind: 'error', field: 'topics.0', rule: expect.stringContaining('must be an existing topic') },
      { kind: 'error', field: 'op', rule: 'must be one of subscribe, pause, resume, filter' },
      { kind: 'error', field: '(root)', rule: 'must be a text frame holding JSON' },
    ]));
    const topic = await newTopic(1);
    await client.subscribe({ topics: [topic] });
    await producer.send(topic, [event('ok', 'u')]);
    await client.waitForMessages(1);
  });
});

describe('filters', () => {
  it('by type, by user id (subject or data.context.userId), by text; `filter` changes what comes next', async () => {
    const topic = await newTopic();
    const [byType, byUser, byText, changing] = await Promise.all([viewer(), viewer(), viewer(), viewer()]);
    await Promise.all([
      byType.subscribe({ topics: [topic], filter: { type: 'location' } }),
      byUser.subscribe({ topics: [topic], filter: { userId: 'alice' } }),
      byText.subscribe({ topics: [topic], filter: { text: 'KREUZBERG' } }),
      changing.subscribe({ topics: [topic], filter: { type: 'nothing-matches' } }),
    ]);
    const location = event('location', 'bob', { lat: 52.5 });
    const aliceSubject = event('page.view', 'alice');
    const aliceContextOnly = event('search', 'alice', { q: 'bike' }, 'someone-else');
    const kreuzberg = event('page.view', 'carol', { path: '/kreuzberg/bikes' });
    await producer.send(topic, [location, aliceSubject, aliceContextOnly, kreuzberg]);

    await Promise.all([byType.waitForMessages(1), byUser.waitForMessages(2), byText.waitForMessages(1)]);
    // A marker after the mix: once it arrived, everything before it was decided.
    const from = changing.frames.length;
    changing.send({ op: 'filter', userId: 'carol' });
    await changing.next((f) => f.kind === 'filtered', 'filtered', { from });
    const marker = event('marker', 'zed', { path: 'kreuzberg-marker' });
    const carolAgain = event('page.view', 'carol');
    await producer.send(topic, [marker, carolAgain]);
    await Promise.all([byText.waitForMessages(2), changing.waitForMessages(1)]);

    expect(ids(byType)).toEqual([idOf(location)]);
    expect(new Set(ids(byUser))).toEqual(new Set([idOf(aliceSubject), idOf(aliceContextOnly)]));
    expect(ids(byText)).toEqual([idOf(kreuzberg), idOf(marker)]);
    expect(ids(changing)).toEqual([idOf(carolAgain)]);
  });
});

describe('pause and resume', () => {
  it('while paused messages wait in the queue; resume sends them', async () => {
    const topic = await newTopic(1);
    const client = await viewer();
    await client.subscribe({ topics: [topic] });
    let from = client.frames.length;
    client.send({ op: 'pause' });
    await client.next((f) => f.kind === 'paused', 'paused', { from });
    const batch = [event('a', 'u1'), event('b', 'u2'), event('c', 'u3')];
    await producer.send(topic, batch);
    from = client.frames.length;
    await client.next((f) => f.kind === 'stats' && f.queued === 3, 'three messages queued', { from });
    expect(client.messages()).toHaveLength(0);
    client.send({ op: 'resume' });
    await client.waitForMessages(3);
    expect(ids(client)).toEqual(batch.map(idOf));
  });
});

describe('a viewer that does not read', () => {
  it('never slows the others: its queue drops the oldest and counts them (stats and metrics)', async () => {
    const topic = await newTopic(2);
    const [normal, stuck] = await Promise.all([viewer(), viewer()]);
    await Promise.all([normal.subscribe({ topics: [topic] }), stuck.subscribe({ topics: [topic] })]);
    // Stop reading at the TCP level (ws' pause() pauses the socket): the kernel buffers fill,
    // then kafidx's socket buffer, then its queue.
    stuck.ws.pause();

    const droppedSoFar = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(/kafidx_messages_dropped_total\{reason="slow_client",service="kafidx"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const padding = 'x'.repeat(4096);
    const produced: OutgoingMessage[] = [];
    // Produce until kafidx reports drops (how much the kernel buffers varies), at most ~40 MB.
    for (let round = 0; round < 50 && (await droppedSoFar()) === 0; round++) {
      const batch = Array.from({ length: 200 }, (_, i) => event('bulk', `u${i % 7}`, { round, i, padding }));
      produced.push(...batch);
      await producer.send(topic, batch);
      // The normal viewer keeps up all along.
      await normal.waitForMessages(produced.length, 60_000);
    }
    expect(await droppedSoFar()).toBeGreaterThan(0);
    expect(ids(normal)).toEqual(expect.arrayContaining(produced.map(idOf)));
    expect(normal.messages()).toHaveLength(produced.length);

    // Reading again, the stuck viewer learns how many it missed, and it has the newest message.
    const last = event('bulk', 'last');
    await producer.send(topic, [last]);
    stuck.ws.resume();
    const report = await stuck.next((f: Frame) => f.kind === 'stats' && (f.dropped as number) > 0 && f.queued === 0, 'stats with drops', { timeoutMs: 60_000 }) as Frame & { dropped: number };
    await waitFor(() => (ids(stuck).includes(idOf(last)) ? true : undefined), 'the newest message on the stuck viewer', 30_000);
    expect(report.dropped).toBeGreaterThan(0);
    expect(stuck.messages().length + report.dropped).toBeLessThanOrEqual(produced.length + 1);
    expect(normal.frames.filter((f) => f.kind === 'stats').every((f) => f.dropped === 0)).toBe(true);
  }, 180_000);
});

describe('access', () => {
  it('HTTP: 401 JSON without the token or with a wrong one, on the page and the API', async () => {
    for (const path of ['/', '/kafidx.js', '/api/topics', '/api/stats']) {
      const none = await fetch(`${url}${path}`);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ error: 'unauthorized', errors: [{ field: 'token' }] });
      const wrong = await fetch(`${url}${path}?token=wrong-token-wrong-token`);
      expect(wrong.status).toBe(401);
      expect((await fetch(`${url}${path}`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('HTTP: the Bearer token works; ?token= on the page sets a cookie and drops the token from the address', async () => {
    expect((await fetch(`${url}/`, { headers: auth })).status).toBe(200);
    const link = await fetch(`${url}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(link.status).toBe(303);
    expect(link.headers.get('location')).toBe('/');
    const cookie = link.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    const page = await fetch(`${url}/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('kafidx');
  });

  it('HTTP: an unknown path is a 404 naming kafidx\'s routes; a known path under another method a 405 with Allow', async () => {
    const unknown = await fetch(`${url}/nowhere`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not_found', errors: [{ field: 'path', rule: expect.stringMatching(/^no route GET \/nowhere; the routes are .*GET \/api\/topics/) }] });
    const post = await fetch(`${url}/api/topics`, { method: 'POST', headers: auth });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('WebSocket: the upgrade is refused with 401 without the token or with a wrong one', async () => {
    for (const [query, headers] of [['', {}], ['?token=wrong-token-wrong-token', {}], ['', { authorization: 'Bearer wrong-token-wrong-token' }]] as const) {
      const refused = await refusedUpgrade(wsUrl(query), headers);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'unauthorized', errors: [{ field: 'token' }] });
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/kafidx_unauthorized_total\{kind="websocket",service="kafidx"\} [1-9]/);
  });

  it('WebSocket: the Bearer header works; the cookie alone only from kafidx\'s own origin', async () => {
    const withHeader = await openViewer(wsUrl(''), { headers: auth });
    clients.push(withHeader);
    const host = new URL(url).host;
    const cookie = `kafidx_token=${TOKEN}`;
    const ownPage = await openViewer(wsUrl(''), { headers: { cookie, origin: `http://${host}` } });
    clients.push(ownPage);
    const foreign = await refusedUpgrade(wsUrl(''), { cookie, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
  });
});

describe('the page\'s API', () => {
  it('GET /api/topics lists topics with their partitions', async () => {
    const topic = await newTopic(3);
    const body = await (await fetch(`${url}/api/topics`, { headers: auth })).json() as { topics: { name: string; partitions: number }[] };
    expect(body.topics).toContainEqual({ name: topic, partitions: 3 });
    expect(body.topics.some((t) => t.name.startsWith('__'))).toBe(false);
  });

  it('GET /api/stats proxies the stats consumer, and answers 503 `unavailable` when it is down', async () => {
    const answer = await fetch(`${url}/api/stats?since=2026-01-01T00:00:00Z`, { headers: auth });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ minutes: [], askedFor: '/stats?since=2026-01-01T00%3A00%3A00Z' });
    stats.close();
    await once(stats, 'close');
    const down = await fetch(`${url}/api/stats`, { headers: auth });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(await down.json()).toEqual({ error: 'unavailable', message: `the stats consumer at ${statsUrl} did not answer` });
  });
});
