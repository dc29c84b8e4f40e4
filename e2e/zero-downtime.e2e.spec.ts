// Issue 17: a deploy drops nothing. The tracker and storage run as processes behind the compose
// file's nginx.conf (a real nginx, over HTTPS), under steady load; each is rolled as Kubernetes rolls
// it: a new instance starts and joins the upstream; the old one gets SIGTERM and drains (STOP_DRAIN_MS
// as compose sets it: unready, still answering, closing its connections); once its /readyz says so, and
// a while later (the endpoints' propagation), the load balancer drops it — here nginx is reloaded
// without it —, and it exits at the end of its drain. Every request must succeed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@pushtech/auth';
import { connectMongo } from '@pushtech/mongo';
import { freePort, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { h2Client, startLocalNginx, type H2Client, type LocalNginx } from '../docker-compose/local-nginx.ts';
import { listingBody, testSettings } from '../services/storage/src/test-storage.ts';
import { startService, type RunningService } from './services.ts';

const DRAIN_MS = '5000'; // docker-compose.yml's STOP_DRAIN_MS
/** How long after a pod turns unready Kubernetes' endpoints (and the ingress) drop it: about a second or two. */
const ENDPOINTS_DELAY_MS = 2_000;
const { kafkaBrokers, redisUrl, mongoUrl } = stackAddresses();
const storageSettings = testSettings();
const storageEnv = {
  KAFKA_BROKERS: kafkaBrokers.join(','), MONGO_URL: mongoUrl, MONGO_DB: storageSettings.MONGO_DB, JWT_SECRET: storageSettings.JWT_SECRET,
  LISTINGS_TOPIC: storageSettings.LISTINGS_TOPIC, MATCHES_TOPIC: storageSettings.MATCHES_TOPIC, USERS_TOPIC: storageSettings.USERS_TOPIC,
  PROJECTOR_GROUP: storageSettings.PROJECTOR_GROUP, STOP_DRAIN_MS: DRAIN_MS,
};
const trackerEnv = { REDIS_URL: redisUrl, REDIS_STREAM: uniqueName('e2e:roll:'), TRACKER_ID: 'roll', TRUST_PROXY: '1', STOP_DRAIN_MS: DRAIN_MS };

const start = {
  tracker: async () => startService('services/tracker/src/index.ts', { ...trackerEnv, PORT: String(await freePort()) }),
  storage: async () => startService('services/storage/src/index.ts', { ...storageEnv, PORT: String(await freePort()) }),
};
const portOf = (service: RunningService) => Number(new URL(service.url).port);

interface Failure { what: string; answer: string }

/** Sends requests in `loops` concurrent loops until stopped; keeps every answer that is not the expected one. */
function steadyLoad(loops: { what: string; every: number; send: () => Promise<{ status: number; body: string }>; expect: number[] }[]) {
  let running = true;
  const failures: Failure[] = [];
  const counts = new Map<string, number>();
  const answers: { what: string; body: string }[] = [];
  const done = Promise.all(loops.map(async ({ what, every, send, expect: statuses }) => {
    while (running) {
      const started = Date.now();
      const answer = await send().then((a) => {
        answers.push({ what, body: a.body });
        return statuses.includes(a.status) ? undefined : `${a.status} ${a.body.slice(0, 200)}`;
      }, (err: Error) => `error ${err.message}`);
      counts.set(what, (counts.get(what) ?? 0) + 1);
      if (answer !== undefined) failures.push({ what, answer });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, every - (Date.now() - started))));
    }
  }));
  return { failures, counts, answers, stop: async () => { running = false; await done; } };
}

describe('rolling the tracker and storage behind nginx under steady load', () => {
  let nginx: LocalNginx;
  let client: H2Client;
  const services: { tracker: RunningService[]; storage: RunningService[] } = { tracker: [], storage: [] };
  const upstreams = () => ({ tracker: services.tracker.map(portOf), storage: services.storage.map(portOf) });

  beforeAll(async () => {
    const [tracker, storage] = await Promise.all([start.tracker(), start.storage()]);
    services.tracker.push(tracker);
    services.storage.push(storage);
    nginx = await startLocalNginx(upstreams());
    client = h2Client(nginx.https, nginx.ca);
  });

  afterAll(async () => {
    client?.close();
    await nginx?.stop();
    await Promise.all([...services.tracker, ...services.storage].map((s) => s.stop()));
    const mongo = await connectMongo(mongoUrl, { appName: 'e2e-roll' });
    await mongo.db(storageSettings.MONGO_DB).dropDatabase().catch(() => {});
    await mongo.close();
  });

  /** Starts a new instance, adds it to the upstream, stops the old one (SIGTERM, drain) and removes it. */
  const timings: string[] = [];
  async function roll(name: 'tracker' | 'storage') {
    const began = Date.now();
    services[name].push(await start[name]());
    timings.push(`${name} new instance ready after ${Date.now() - began} ms`);
    await nginx.reload(upstreams());
    const old = services[name].shift()!;
    const exited = old.stop();
    // Unready, or gone (an instance that does not drain).
    await waitFor(async () => ((await fetch(`${old.url}/readyz`).catch(() => undefined))?.status ?? 503) === 503 || undefined, `the old ${name} unready`, 5_000, 50);
    // Meanwhile nginx still sends it requests: the drain answers them.
    await new Promise((resolve) => setTimeout(resolve, ENDPOINTS_DELAY_MS));
    await nginx.reload(upstreams());
    await exited;
    timings.push(`${name} rolled in ${Date.now() - began} ms`);
  }

  it('answers every request while each is rolled: 0 failed', async () => {
    const token = await signToken('roller', storageSettings.JWT_SECRET);
    const json = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const created = await client.request('/listings', { method: 'POST', headers: json, body: JSON.stringify(listingBody()) });
    expect(created.status, created.body).toBe(201);
    const listingId = (JSON.parse(created.body) as { id: string }).id;
    const event = () => client.request('/t/location', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lng: 13.4, lat: 52.5 }) });
    const load = steadyLoad([
      ...Array.from({ length: 3 }, () => ({ what: 'tracker POST /t/location', every: 10, send: event, expect: [204] })),
      { what: 'tracker GET beacon', every: 10, send: () => client.request('/t/page.view?path=%2F'), expect: [204] },
      ...Array.from({ length: 2 }, () => ({ what: 'storage GET /listings/:id', every: 20, send: () => client.request(`/listings/${listingId}`), expect: [200] })),
      // Under nginx's 5 writes a second per address. A 202 is a write recorded in Kafka that the
      // projection had not shown within READ_YOUR_WRITES_TIMEOUT_MS (the projector's group rebalances
      // when an instance leaves or joins): accepted, and checked below to arrive.
      { what: 'storage POST /listings', every: 400, send: () => client.request('/listings', { method: 'POST', headers: json, body: JSON.stringify(listingBody()) }), expect: [201, 202] },
    ]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await roll('tracker');
      await roll('storage');
    } finally {
      await load.stop();
    }
    const counts = Object.fromEntries(load.counts);
    expect(counts['tracker POST /t/location']).toBeGreaterThan(300);
    expect(counts['storage POST /listings']).toBeGreaterThan(10);
    const failed = load.failures.map((f) => `${f.what}: ${f.answer}`);
    expect(failed, `${JSON.stringify(counts)} ${timings.join('; ')}`).toEqual([]);
    const written = load.answers.filter((a) => a.what === 'storage POST /listings').map((a) => (JSON.parse(a.body) as { id: string }).id);
    await waitFor(async () => {
      const missing = (await Promise.all(written.map(async (id) => ((await client.request(`/listings/${id}`)).status === 200 ? undefined : id)))).filter(Boolean);
      return missing.length === 0 || undefined;
    }, 'every accepted write readable', 20_000, 250);
  }, 300_000);
});
