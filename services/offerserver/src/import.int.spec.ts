/**
 * The import path on the local stack: fixture feeds on local HTTP servers → the scheduler →
 * listing events on the test's `listings` topic; the sources' state through the API.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Listing } from '@pushtech/listings';
import { dropDatabase, readListings, serve, startFixtureServer, startTestOfferserver, testClock, testSettings, type FixtureServer, type TestOfferserver } from './test-offerserver.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const HOUR = 3_600_000;
const berlin = { type: 'Point', coordinates: [13.405, 52.52] };

let server: FixtureServer;
let offers: TestOfferserver;
let listings: Awaited<ReturnType<typeof readListings>>;

beforeAll(async () => {
  server = await startFixtureServer();
  offers = await startTestOfferserver();
  listings = await readListings(offers.settings.LISTINGS_TOPIC);
}, 60_000);

afterAll(async () => {
  await listings?.stop();
  await offers?.stop();
  if (offers !== undefined) await dropDatabase(offers.settings);
  await server?.close();
});

afterEach(() => {
  server.routes.clear();
});

/** The events of one source's listings written so far. */
async function eventsOf(sourceId: string) {
  await listings.caughtUp();
  const all = listings.events();
  const ids = new Set(all.filter((e) => e.type === 'listing.created' && (e.data as Listing).ownerId === `source:${sourceId}`).map((e) => e.data.id));
  return all.filter((e) => ids.has(e.data.id));
}

describe('importing feeds', { timeout: 120_000 }, () => {
  it('RSS with georss: each item becomes an offer at its point; an unchanged feed (ETag 304) writes nothing', async () => {
    server.routes.set('/rss', serve(fixture('rss-georss.xml'), 'application/rss+xml', { etag: '"v1"', lastModified: 'Fri, 04 Dec 2026 10:00:00 GMT' }));
    const source = await offers.addSource({ kind: 'feed', url: `${server.url}/rss`, defaultLocation: berlin, radiusM: 3_000, tags: ['verschenken'], refreshSeconds: 600 });
    expect(await offers.runOnce()).toBe(1);

    // One listing's events are in order; different listings' are on different partitions.
    const events = await eventsOf(source.id);
    expect(events.map((e) => e.type)).toEqual(['listing.created', 'listing.created', 'listing.created']);
    const byTitle = (title: string) => events.find((e) => (e.data as Listing).title === title)!.data as Listing;
    const bike = byTitle('Kinderfahrrad 20 Zoll, blau');
    expect(bike).toMatchObject({ kind: 'offer', title: 'Kinderfahrrad 20 Zoll, blau', location: { type: 'Point', coordinates: [13.419, 52.5005] }, radiusM: 3_000, tags: ['verschenken'], status: 'active', version: 1 });
    expect(byTitle('Sofa, grau, 3-Sitzer').location.coordinates).toEqual([13.4034, 52.4987]);
    expect(byTitle('Bücherkiste Krimis').location).toEqual(berlin);

    const state = (await offers.getSource(source.id)).state;
    expect(state).toMatchObject({ itemsSeen: 3, itemsCreated: 3, consecutiveErrors: 0, lastStatus: 200, gone: false });
    expect(Date.parse(state.nextDueAt as string)).toBe(offers.clock.ms + 600_000);

    offers.clock.advance(600_000);
    expect(await offers.runOnce()).toBe(1);
    expect(server.requests.at(-1)!.headers).toMatchObject({ 'if-none-match': '"v1"', 'if-modified-since': 'Fri, 04 Dec 2026 10:00:00 GMT' });
    expect(server.requests.at(-1)!.headers['user-agent']).toBe(offers.settings.FETCH_USER_AGENT);
    expect((await offers.getSource(source.id)).state).toMatchObject({ lastStatus: 304, itemsCreated: 3 });
    expect(await eventsOf(source.id)).toHaveLength(3);
  });

  it('Atom, JSON Feed, a Lemmy community and mapped JSON each become offers', async () => {
    server.routes.set('/atom', serve(fixture('atom.xml'), 'application/atom+xml'));
    server.routes.set('/feed.json', serve(fixture('jsonfeed.json'), 'application/feed+json'));
    server.routes.set('/api/v3/post/list', serve(fixture('lemmy.json'), 'application/json'));
    server.routes.set('/export', serve(fixture('mapped.json'), 'application/json'));
    const sources = [
      await offers.addSource({ kind: 'feed', url: `${server.url}/atom`, defaultLocation: berlin }),
      await offers.addSource({ kind: 'feed', url: `${server.url}/feed.json`, defaultLocation: berlin }),
      await offers.addSource({ kind: 'lemmy', url: `${server.url}/c/berlin_giveaway`, defaultLocation: berlin }),
      await offers.addSource({
        kind: 'json', url: `${server.url}/export`,
        mapping: { items: '$.data.results[*]', id: 'ref', title: 'headline', description: 'text', price: 'cost.amount', lat: 'position.latitude', lng: 'position.longitude', url: 'link' },
      }),
    ];
    expect(await offers.runOnce()).toBe(4);
    const titles = await Promise.all(sources.map(async (s) => (await eventsOf(s.id)).map((e) => (e.data as Listing).title).sort()));
    expect(titles).toEqual([
      ['Nähmaschine Singer, läuft', 'Toaster, 2 Scheiben'],
      ['Kaffeemaschine', 'Winterjacke Gr. 128'],
      ['[Offer] Free moving boxes, about 20', '[Offer] Monstera cuttings'],
      ['Bohrmaschine leihen', 'Leiter 3 m'],
    ]);
    expect(server.requests.some((r) => r.path === '/api/v3/post/list?community_name=berlin_giveaway&sort=New&limit=50')).toBe(true);
    const drill = (await eventsOf(sources[3]!.id)).map((e) => e.data as Listing).find((l) => l.title === 'Bohrmaschine leihen')!;
    expect(drill.description).toContain('Price: 5');
    expect(drill.location.coordinates).toEqual([13.3777, 52.5163]);
  });

  it('a changed item updates its listing; GUIDs that change while URLs do not make no new listing; an item gone past its TTL is closed', async () => {
    const feed = (items: Array<{ guid: string; url: string; title: string }>) =>
      `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>${
        items.map((i) => `<item><title>${i.title}</title><link>${i.url}</link><guid>${i.guid}</guid></item>`).join('')}</channel></rss>`;
    let body = feed([{ guid: 'a1', url: 'https://x.example/a', title: 'Lamp' }, { guid: 'b1', url: 'https://x.example/b', title: 'Chair' }]);
    server.routes.set('/changing', serve(() => body));
    const source = await offers.addSource({ kind: 'feed', url: `${server.url}/changing`, defaultLocation: berlin, refreshSeconds: 3_600, ttlHours: 2 });
    await offers.runOnce();
    const created = (await eventsOf(source.id)).map((e) => e.data as Listing);
    const lamp = created.find((l) => l.title === 'Lamp');
    const chair = created.find((l) => l.title === 'Chair');

    body = feed([{ guid: 'a2', url: 'https://x.example/a', title: 'Lamp, brass' }, { guid: 'b2', url: 'https://x.example/b', title: 'Chair' }]);
    offers.clock.advance(HOUR);
    await offers.runOnce();
    let events = await eventsOf(source.id);
    expect(events.slice(2)).toEqual([{ type: 'listing.updated', data: expect.objectContaining({ id: lamp!.id, title: 'Lamp, brass', version: 2 }) }]);

    body = feed([{ guid: 'a2', url: 'https://x.example/a', title: 'Lamp, brass' }]);
    offers.clock.advance(HOUR);
    await offers.runOnce(); // chair missing for 0 h
    offers.clock.advance(HOUR);
    await offers.runOnce(); // 1 h
    expect(await eventsOf(source.id)).toHaveLength(3);
    offers.clock.advance(HOUR + 1);
    await offers.runOnce(); // over 2 h
    events = await eventsOf(source.id);
    expect(events.slice(3)).toEqual([{ type: 'listing.closed', data: { id: chair!.id, version: 2 } }]);
    expect((await offers.getSource(source.id)).state).toMatchObject({ itemsCreated: 2, itemsUpdated: 1, itemsClosed: 1 });
  });
});

describe('failures', { timeout: 120_000 }, () => {
  it('malformed XML: an error with back-off, counted, the source still enabled', async () => {
    server.routes.set('/broken', serve('<rss><channel><item><title>x</title></channel>'));
    const source = await offers.addSource({ kind: 'feed', url: `${server.url}/broken`, defaultLocation: berlin });
    await offers.runOnce();
    const view = await offers.getSource(source.id);
    expect(view.enabled).toBe(true);
    expect(view.state).toMatchObject({ consecutiveErrors: 1, lastError: expect.stringMatching(/^parse_error: not a feed/) });
    const delay = Date.parse(view.state.nextDueAt as string) - offers.clock.ms;
    expect(delay).toBeGreaterThanOrEqual(30_000); // IMPORT_BACKOFF_INITIAL_MS 60 s, equal jitter
    expect(delay).toBeLessThanOrEqual(60_000);
    await offers.runOnce();
    expect(server.hits('/broken')).toBe(1); // not due again before the back-off
  });

  it('a 10 MB body and a redirect loop are errors, not crashes', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    server.routes.set('/big', serve(big));
    server.routes.set('/loop', (_req, res) => res.writeHead(302, { location: '/loop' }).end());
    const big1 = await offers.addSource({ kind: 'feed', url: `${server.url}/big`, defaultLocation: berlin });
    const loop = await offers.addSource({ kind: 'feed', url: `${server.url}/loop`, defaultLocation: berlin });
    await offers.runOnce();
    expect((await offers.getSource(big1.id)).state.lastError).toMatch(/^too_large/);
    expect((await offers.getSource(loop.id)).state.lastError).toMatch(/^too_many_redirects/);
  });

  it('429 with Retry-After holds the whole host: its other sources wait too', async () => {
    let limited = true; // the host says "wait 10 minutes" once
    const host = await startFixtureServer({
      '/a': (req, res) => (limited ? res.writeHead(429, { 'retry-after': '600' }).end() : serve(fixture('atom.xml'))(req, res)),
      '/b': serve(fixture('atom.xml')),
    });
    try {
      const a = await offers.addSource({ kind: 'feed', url: `${host.url}/a`, defaultLocation: berlin });
      await offers.runOnce();
      expect((await offers.getSource(a.id)).state).toMatchObject({ lastStatus: 429, consecutiveErrors: 1 });
      limited = false;
      const b = await offers.addSource({ kind: 'feed', url: `${host.url}/b`, defaultLocation: berlin });
      await offers.runOnce();
      expect(host.hits('/b')).toBe(0);
      const bView = await offers.getSource(b.id);
      expect(Date.parse(bView.state.nextDueAt as string)).toBeGreaterThanOrEqual(offers.clock.ms + 599_000);
      expect(bView.state.consecutiveErrors).toBe(0); // waiting for the host is not the source's fault
      offers.clock.advance(601_000);
      await offers.runOnce();
      expect(host.hits('/b')).toBe(1);
    } finally {
      await host.close();
    }
  });

  it('robots.txt is honoured', async () => {
    const host = await startFixtureServer({ '/robots.txt': serve('User-agent: PushtechOfferServer\nDisallow: /private\n', 'text/plain'), '/private/feed': serve(fixture('atom.xml')) });
    try {
      const source = await offers.addSource({ kind: 'feed', url: `${host.url}/private/feed`, defaultLocation: berlin });
      await offers.runOnce();
      expect(host.hits('/private/feed')).toBe(0);
      expect((await offers.getSource(source.id)).state.lastError).toMatch(/^robots_disallowed/);
    } finally {
      await host.close();
    }
  });

  it('a source answering 404 three times is marked gone, its listings closed, and not fetched again; enabling it again retries', async () => {
    server.routes.set('/nothing-here', serve(fixture('atom.xml')));
    const source = await offers.addSource({ kind: 'feed', url: `${server.url}/nothing-here`, defaultLocation: berlin, ttlHours: 1_000 });
    await offers.runOnce();
    server.routes.delete('/nothing-here');
    offers.clock.advance(HOUR);
    for (let i = 0; i < 5; i += 1) {
      await offers.runOnce();
      offers.clock.advance(10 * HOUR);
    }
    expect(server.hits('/nothing-here')).toBe(4);
    const view = await offers.getSource(source.id);
    expect(view.state).toMatchObject({ gone: true, goneCount: 3, nextDueAt: null, lastStatus: 404, itemsCreated: 2, itemsClosed: 2 });
    expect((await eventsOf(source.id)).filter((e) => e.type === 'listing.closed')).toHaveLength(2);
    const patched = await offers.app.inject({ method: 'PATCH', url: `/sources/${source.id}`, headers: { authorization: `Bearer ${offers.adminToken}` }, payload: { enabled: true } });
    expect(patched.json().state).toMatchObject({ gone: false, goneCount: 0 });
    await offers.runOnce();
    expect(server.hits('/nothing-here')).toBe(5);
  });
});

describe('deleting a source', { timeout: 120_000 }, () => {
  it('while its fetch is in flight: the listings that fetch creates are closed too, and nothing of the source is left', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let asked!: () => void;
    const requested = new Promise<void>((resolve) => { asked = resolve; });
    server.routes.set('/slow', (req, res) => {
      asked();
      void released.then(() => serve(fixture('rss-georss.xml'), 'application/rss+xml')(req, res));
    });
    const source = await offers.addSource({ kind: 'feed', url: `${server.url}/slow`, defaultLocation: berlin });
    const run = offers.runOnce();
    await requested;
    const deleted = await offers.app.inject({ method: 'DELETE', url: `/sources/${source.id}`, headers: { authorization: `Bearer ${offers.adminToken}` } });
    expect(deleted.json()).toEqual({ id: source.id, deleted: true, closedListings: 0 });
    release();
    expect(await run).toBe(1);

    const events = await eventsOf(source.id);
    expect(events.filter((e) => e.type === 'listing.created')).toHaveLength(3);
    expect(new Set(events.filter((e) => e.type === 'listing.closed').map((e) => e.data.id)).size).toBe(3);
    expect(await offers.running.deps.items.get(source.id)).toEqual([]);
    expect((await offers.app.inject({ url: `/sources/${source.id}`, headers: { authorization: `Bearer ${offers.adminToken}` } })).statusCode).toBe(404);
    offers.clock.advance(10 * HOUR);
    await offers.runOnce();
    expect(server.hits('/slow')).toBe(1);
  });
});

describe('two instances', { timeout: 120_000 }, () => {
  it('share the work: each source fetched once, each item one listing', async () => {
    const settings = testSettings();
    const clock = testClock();
    const first = await startTestOfferserver(settings, { clock });
    const second = await startTestOfferserver(settings, { clock });
    const reader = await readListings(settings.LISTINGS_TOPIC);
    const host = await startFixtureServer();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        host.routes.set(`/f${i}`, (_req, res) => setTimeout(() => serve(fixture('rss-georss.xml'))(_req, res), 50));
        ids.push((await first.addSource({ kind: 'feed', url: `${host.url}/f${i}`, defaultLocation: berlin })).id);
      }
      const claimed = await Promise.all([first.runOnce(), second.runOnce()]);
      expect(claimed[0] + claimed[1]).toBe(12);
      for (let i = 0; i < 12; i += 1) expect(host.hits(`/f${i}`)).toBe(1);
      await reader.caughtUp();
      const created = reader.events().filter((e) => e.type === 'listing.created');
      expect(created).toHaveLength(36);
      expect(new Set(created.map((e) => e.data.id)).size).toBe(36);
    } finally {
      await reader.stop();
      await first.stop();
      await second.stop();
      await dropDatabase(settings);
      await host.close();
    }
  });
});
