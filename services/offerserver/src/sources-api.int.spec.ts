/** The sources API on the local stack: auth, the input rules, the state shown, delete closing the listings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@pushtech/auth';
import { dropDatabase, readListings, serve, startFixtureServer, startTestOfferserver, TEST_SECRET, type FixtureServer, type TestOfferserver } from './test-offerserver.ts';

let offers: TestOfferserver;
let server: FixtureServer;
let auth: { authorization: string };
const berlin = { type: 'Point', coordinates: [13.405, 52.52] };

beforeAll(async () => {
  offers = await startTestOfferserver();
  server = await startFixtureServer();
  auth = { authorization: `Bearer ${offers.adminToken}` };
}, 60_000);

afterAll(async () => {
  await offers?.stop();
  if (offers !== undefined) await dropDatabase(offers.settings);
  await server?.close();
});

const post = (payload: unknown, headers = auth) => offers.app.inject({ method: 'POST', url: '/sources', headers, payload: payload as object });

describe('auth', { timeout: 120_000 }, () => {
  it('401 without a token, 403 for a user who is not an operator', async () => {
    const none = await offers.app.inject({ method: 'GET', url: '/sources' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: 'unauthorized', errors: [{ field: 'authorization', rule: 'is required: Bearer <token>' }] });
    const user = await offers.app.inject({ method: 'GET', url: '/sources', headers: { authorization: `Bearer ${await signToken('someone', TEST_SECRET)}` } });
    expect(user.statusCode).toBe(403);
    expect(user.json().errors[0].field).toBe('authorization');
  });
});

describe('input rules', { timeout: 120_000 }, () => {
  it.each([
    [{ url: 'https://x.example/rss' }, 'kind', 'is required'],
    [{ kind: 'gopher', url: 'https://x.example/rss' }, 'kind', 'must be one of feed, lemmy, json'],
    [{ kind: 'feed', url: 'ftp://x.example/rss' }, 'url', 'must be an http(s) URL'],
    [{ kind: 'feed', url: 'https://x.example/rss', refreshSeconds: 5 }, 'refreshSeconds', 'must be an integer between 60 and 604800'],
    [{ kind: 'feed', url: 'https://x.example/rss', radiusM: 10 }, 'radiusM', 'must be an integer between 50 and 100000'],
    [{ kind: 'feed', url: 'https://x.example/rss', ttlHours: 0 }, 'ttlHours', 'must be an integer between 1 and 8760'],
    [{ kind: 'feed', url: 'https://x.example/rss', defaultLocation: { type: 'Point', coordinates: [200, 0] } }, 'defaultLocation.coordinates.0', 'must be between -180 and 180 (longitude)'],
    [{ kind: 'feed', url: 'https://x.example/rss', tags: 'free' }, 'tags', 'must be an array of strings'],
    [{ kind: 'json', url: 'https://x.example/api' }, 'mapping', 'is required for kind json, and only for it'],
    [{ kind: 'json', url: 'https://x.example/api', mapping: { id: 'ref' } }, 'mapping.title', 'is required'],
    [{ kind: 'feed', url: 'https://x.example/rss', extra: 1 }, 'extra', 'is not a known field'],
  ])('%j → 400 naming %s', async (body, field, rule) => {
    const answer = await post(body);
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ error: 'invalid_request', errors: expect.arrayContaining([{ field, rule }]) });
  });

  it('a body that is not JSON is a 400 too', async () => {
    const answer = await offers.app.inject({ method: 'POST', url: '/sources', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"kind":' });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error).toBe('invalid_request');
  });
});

describe('sources', { timeout: 120_000 }, () => {
  it('are created with defaults, listed in pages, shown with their state, changed and disabled', async () => {
    const created = await post({ kind: 'feed', url: `${server.url}/a.xml`, defaultLocation: berlin });
    expect(created.statusCode).toBe(201);
    const source = created.json();
    expect(created.headers.location).toBe(`/sources/${source.id}`);
    expect(source).toMatchObject({ kind: 'feed', refreshSeconds: 900, radiusM: 5_000, tags: [], ttlHours: 72, enabled: true });
    expect(source.state).toEqual({
      lastFetchAt: null, lastSuccessAt: null, nextDueAt: new Date(offers.clock.ms).toISOString(), consecutiveErrors: 0, lastError: null, lastStatus: null,
      goneCount: 0, gone: false, itemsSeen: 0, itemsCreated: 0, itemsUpdated: 0, itemsClosed: 0,
    });
    const second = (await post({ kind: 'lemmy', url: `${server.url}/c/things` })).json();

    const page1 = (await offers.app.inject({ method: 'GET', url: '/sources?limit=1', headers: auth })).json();
    expect(page1.items.map((s: { id: string }) => s.id)).toEqual([source.id]);
    const page2 = (await offers.app.inject({ method: 'GET', url: `/sources?limit=1&cursor=${page1.nextCursor}`, headers: auth })).json();
    expect(page2).toMatchObject({ items: [{ id: second.id }], nextCursor: null });
    expect((await offers.app.inject({ method: 'GET', url: '/sources?limit=0', headers: auth })).json().errors).toEqual([{ field: 'limit', rule: 'must be an integer between 1 and 100' }]);

    const patch = (id: string, payload: object) => offers.app.inject({ method: 'PATCH', url: `/sources/${id}`, headers: auth, payload });
    expect((await patch(source.id, { refreshSeconds: 3_600, tags: ['free'] })).json()).toMatchObject({ refreshSeconds: 3_600, tags: ['free'] });
    expect((await patch(source.id, { enabled: false })).json()).toMatchObject({ enabled: false, state: { nextDueAt: null } });
    expect((await patch(source.id, {})).json().errors).toEqual([{ field: 'body', rule: 'must change at least one field' }]);
    expect((await patch(source.id, { mapping: { title: 'x' } })).json().errors).toEqual([{ field: 'mapping', rule: 'is only for sources of kind json' }]);
    expect((await patch(source.id, { kind: 'json' })).statusCode).toBe(400);
    expect((await offers.app.inject({ method: 'GET', url: '/sources/nope', headers: auth })).statusCode).toBe(404);
  });

  it('DELETE closes the listings of the source', async () => {
    const listings = await readListings(offers.settings.LISTINGS_TOPIC);
    try {
      server.routes.set('/two.json', serve(JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 't', items: [{ id: '1', title: 'Lamp' }, { id: '2', title: 'Chair' }] }), 'application/feed+json'));
      const source = await offers.addSource({ kind: 'feed', url: `${server.url}/two.json`, defaultLocation: berlin });
      await offers.runOnce();
      const deleted = await offers.app.inject({ method: 'DELETE', url: `/sources/${source.id}`, headers: auth });
      expect(deleted.json()).toEqual({ id: source.id, deleted: true, closedListings: 2 });
      await listings.caughtUp();
      const owned = new Set(listings.events().filter((e) => e.type === 'listing.created' && e.data.ownerId === `source:${source.id}`).map((e) => e.data.id));
      expect(owned.size).toBe(2);
      expect(listings.events().filter((e) => e.type === 'listing.closed' && owned.has(e.data.id))).toHaveLength(2);
      expect((await offers.app.inject({ method: 'GET', url: `/sources/${source.id}`, headers: auth })).statusCode).toBe(404);
    } finally {
      await listings.stop();
    }
  });

  it('serves its OpenAPI document', async () => {
    const answer = await offers.app.inject({ method: 'GET', url: '/docs/json' });
    expect(answer.statusCode).toBe(200);
    expect(Object.keys(answer.json().paths)).toEqual(expect.arrayContaining(['/sources', '/sources/{id}']));
  });
});
