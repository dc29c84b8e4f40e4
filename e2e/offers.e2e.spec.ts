// Imported offers end to end on the real stack, every service a child process except the
// feed's HTTP server and the OneSignal stand-in (in process: the test serves the one and reads
// the other): offer server, storage, matcher, notify bridge, notifier.
// A user registers a device and a search "Kinderfahrrad" 300 m from where a neighbourhood
// feed's bike is; an operator registers the feed; the offer server imports it, the matcher
// matches the imported offer with the search, and the user gets a push.
//
// feed (RSS + georss) → offer server → `listings` → matcher → `matches` → notify bridge
//   → `notify.requests` → notifier → OneSignal stand-in;  `listings` → storage projector → Mongo
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@pushtech/auth';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { freePort, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { startMatchingPipeline, startService, type RunningService } from './services.ts';

const { kafkaBrokers, mongoUrl } = stackAddresses();
const JWT_SECRET = 'e2e-offers-secret-0123456789abcdefghijklm';
const ONESIGNAL_APP_ID = '3a4c5b1e-8a9d-4e6f-b3c2-1d0e9f8a7b6c';
const ONESIGNAL_API_KEY = 'e2e-standin-key';
const names = {
  listings: uniqueName('listings'),
  matches: uniqueName('matches'),
  users: uniqueName('users'),
  requests: uniqueName('requests'),
  responses: uniqueName('responses'),
  db: uniqueName('e2eoffers'),
  projector: uniqueName('projector'),
  matcher: uniqueName('matcher'),
  bridge: uniqueName('bridge'),
  notifier: uniqueName('notifier'),
};
const feedXml = readFileSync(new URL('../services/offerserver/src/fixtures/rss-georss.xml', import.meta.url), 'utf8');

let feed: Server;
let feedUrl: string;
let standin: Standin;
let storage: RunningService;
let offerserver: RunningService;
const others: RunningService[] = [];

beforeAll(async () => {
  feed = createServer((request, response) => {
    if (request.url === '/kiez.rss') response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feedXml);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
  feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/kiez.rss`;
  standin = await startStandin({ appId: ONESIGNAL_APP_ID, apiKey: ONESIGNAL_API_KEY, host: '127.0.0.1' });
  const kafka = { KAFKA_BROKERS: kafkaBrokers.join(',') };
  const mongo = { MONGO_URL: mongoUrl, MONGO_DB: names.db };
  const pipeline = await startMatchingPipeline({
    kafkaBrokers, mongoUrl, names, jwtSecret: JWT_SECRET, onesignal: { apiRoot: standin.apiRoot, appId: ONESIGNAL_APP_ID, apiKey: ONESIGNAL_API_KEY },
  });
  storage = pipeline.storage;
  others.push(pipeline.bridge, pipeline.notifier, pipeline.matcher);
  offerserver = await startService('services/offerserver/src/index.ts', {
    ...kafka, ...mongo, PORT: String(await freePort()), JWT_SECRET, LISTINGS_TOPIC: names.listings,
    FETCH_ALLOW_PRIVATE: 'true', IMPORT_POLL_MS: '200',
  });
}, 240_000);

afterAll(async () => {
  await offerserver?.stop();
  await Promise.all(others.map((service) => service.stop()));
  await storage?.stop();
  await standin?.close();
  await new Promise((resolve) => feed?.close(resolve));
});

async function call(base: string, userId: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${await signToken(userId, JWT_SECRET)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

describe('imported offers', () => {
  const parent = uniqueName('parent');

  it('a registered feed becomes offers that match a nearby search, and the searcher gets a push', async () => {
    expect((await call(storage.url, parent, 'POST', '/me/devices', { subscriptionId: 'c0b1c2d3-0000-4000-8000-00000000000c', platform: 'android' })).status).toBe(201);
    // 300 m south of the bike's georss point (52.5005 N, 13.4190 E)
    const search = await call(storage.url, parent, 'POST', '/listings', { kind: 'search', title: 'Kinderfahrrad', location: { type: 'Point', coordinates: [13.419, 52.4978] }, radiusM: 1_000 });
    expect(search.status).toBe(201);

    const source = await call(offerserver.url, 'admin', 'POST', '/sources', {
      kind: 'feed', url: feedUrl, defaultLocation: { type: 'Point', coordinates: [13.405, 52.52] }, radiusM: 2_000, tags: ['verschenken'],
    });
    expect(source.status).toBe(201);

    const imported = await waitFor(async () => {
      const page = await (await fetch(`${storage.url}/listings?ownerId=${encodeURIComponent(`source:${source.json.id}`)}`)).json() as { items: Array<{ id: string; title: string }> };
      return page.items.length === 3 ? page.items : undefined;
    }, 'the three items as listings', 60_000, 250);
    const bike = imported.find((listing) => listing.title === 'Kinderfahrrad 20 Zoll, blau')!;
    expect(bike).toBeDefined();

    const matches = await waitFor(async () => {
      const page = await (await fetch(`${storage.url}/listings/${search.json.id}/matches`)).json() as { items: Array<{ listingId: string }> };
      return page.items.length > 0 ? page.items : undefined;
    }, 'the search matched', 60_000, 250);
    expect(matches.map((m) => m.listingId)).toEqual([bike.id]);

    const push = await waitFor(() => standin.notifications().find((n) => (n.body as { include_aliases?: { external_id?: string[] } }).include_aliases?.external_id?.[0] === parent), 'a push for the searcher', 60_000, 250);
    expect(push.body).toMatchObject({ app_id: ONESIGNAL_APP_ID, data: { searchId: search.json.id, offerId: bike.id } });

    const state = (await call(offerserver.url, 'admin', 'GET', `/sources/${source.json.id}`)).json.state;
    expect(state).toMatchObject({ itemsCreated: 3, consecutiveErrors: 0, lastStatus: 200 });
  }, 180_000);
});
