// Every input rule of the API, through inject(), without servers: input is
// checked before anything is read or written (a valid request reaches the
// fake producer and, with a 0 ms read-your-writes wait, answers 202).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COLLECTIONS } from '@pushtech/contracts';
import type { OutgoingMessage, Producer } from '@pushtech/kafka';
import type { FastifyInstance } from 'fastify';
import { signToken } from '@pushtech/auth';
import { handMadeToken } from '@pushtech/testing';
import { startOnStandIns } from './test-storage.ts';
import type { CollectionPointer } from './projection-collections.ts';

const SECRET = 'unit-test-secret-unit-test-secret-0123456789';
const sent: OutgoingMessage[] = [];
let service: Awaited<ReturnType<typeof startOnStandIns>>;
let app: FastifyInstance;
let token: string;

const producer: Producer = {
  send: async (_topic, messages) => { sent.push(...messages); return []; },
  sendBatch: async () => [],
  disconnect: async () => {},
};
// No listing exists: reads find nothing.
const emptyCollection = { findOne: async () => null, find: () => ({ sort: () => emptyCursor, toArray: async () => [] }) };
const emptyCursor = { limit: () => emptyCursor, toArray: async () => [] };
const pointer = {
  current: async () => ({ names: DEFAULT_COLLECTIONS, listings: emptyCollection, matches: emptyCollection, listingCells: emptyCollection }),
} as unknown as CollectionPointer;

beforeAll(async () => {
  service = await startOnStandIns({ pointer, producer }, { JWT_SECRET: SECRET, LISTINGS_TOPIC: 'listings-unit', READ_YOUR_WRITES_TIMEOUT_MS: '0' });
  app = service.http;
  token = await signToken('alice', SECRET);
});

afterAll(async () => {
  await service.stop();
});

const auth = () => ({ authorization: `Bearer ${token}` });

const valid = {
  kind: 'offer',
  title: 'Kinderfahrrad, blau',
  description: 'gut erhalten',
  tags: ['fahrrad', 'kinder'],
  location: { type: 'Point', coordinates: [13.405, 52.52] },
  radiusM: 1_000,
  follow: false,
  expiresAt: '2099-01-01T00:00:00Z',
};

type Body = Record<string, unknown>;
const without = (field: string): Body => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field));
const at = (coordinates: unknown): Body => ({ ...valid, location: { type: 'Point', coordinates } });

describe('POST /listings input', () => {
  it('a valid listing passes (202: the fake projection never shows it)', async () => {
    const before = sent.length;
    const res = await app.inject({ method: 'POST', url: '/listings', headers: auth(), payload: valid });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ applied: false, version: 1 });
    expect(sent.length).toBe(before + 1);
    const envelope = JSON.parse(String(sent.at(-1)!.value));
    expect(envelope).toMatchObject({ specversion: '1.0', source: 'storage', type: 'listing.created', subject: res.json().id });
    expect(envelope.data).toMatchObject({ ownerId: 'alice', status: 'active', version: 1, expiresAt: '2099-01-01T00:00:00.000Z', imageIds: [] });
    expect(sent.at(-1)!.key).toBe(res.json().id);
  });

  it('the least a listing needs: kind, title, location, radiusM', async () => {
    const res = await app.inject({ method: 'POST', url: '/listings', headers: auth(), payload: { kind: 'search', title: 'x', location: valid.location, radiusM: 50 } });
    expect(res.statusCode).toBe(202);
  });

  it.each<[string, Body, string, string]>([
    ['kind missing', without('kind'), 'kind', 'is required'],
    ['kind unknown', { ...valid, kind: 'wish' }, 'kind', 'must be one of offer, search'],
    ['title missing', without('title'), 'title', 'is required'],
    ['title empty', { ...valid, title: '' }, 'title', 'must be 1 to 200 characters'],
    ['title blank', { ...valid, title: '   ' }, 'title', 'must be 1 to 200 characters'],
    ['title too long', { ...valid, title: 'x'.repeat(201) }, 'title', 'must be 1 to 200 characters'],
    ['title not a string', { ...valid, title: 42 }, 'title', 'must be 1 to 200 characters'],
    ['description too long', { ...valid, description: 'x'.repeat(5_001) }, 'description', 'must be at most 5000 characters'],
    ['too many tags', { ...valid, tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags', 'must be at most 20 tags'],
    ['tag too long', { ...valid, tags: ['ok', 'x'.repeat(41)] }, 'tags.1', 'must be 1 to 40 characters'],
    ['tag empty', { ...valid, tags: [''] }, 'tags.0', 'must be 1 to 40 characters'],
    ['tags not an array', { ...valid, tags: 'a,b' }, 'tags', 'must be an array of strings'],
    ['location missing', without('location'), 'location', 'is required'],
    ['location as lng/lat', { ...valid, location: { lng: 13, lat: 52 } }, 'location.type', 'is required'],
    ['location not a Point', { ...valid, location: { type: 'LineString', coordinates: [13, 52] } }, 'location.type', 'must be "Point"'],
    ['coordinates missing one', at([13.4]), 'location.coordinates', 'must be [longitude, latitude]'],
    ['longitude below -180', at([-180.1, 52]), 'location.coordinates.0', 'must be between -180 and 180 (longitude)'],
    ['longitude above 180', at([180.5, 52]), 'location.coordinates.0', 'must be between -180 and 180 (longitude)'],
    ['latitude below -90', at([13, -90.01]), 'location.coordinates.1', 'must be between -90 and 90 (latitude)'],
    ['latitude above 90', at([13, 91]), 'location.coordinates.1', 'must be between -90 and 90 (latitude)'],
    ['longitude not a number', at(['13', 52]), 'location.coordinates.0', 'must be a number between -180 and 180'],
    ['radius missing', without('radiusM'), 'radiusM', 'is required'],
    ['radius below 50 m', { ...valid, radiusM: 49.9 }, 'radiusM', 'must be between 50 and 100000'],
    ['radius above 100 km', { ...valid, radiusM: 100_001 }, 'radiusM', 'must be between 50 and 100000'],
    ['radius not a number', { ...valid, radiusM: '1000' }, 'radiusM', 'must be a number between 50 and 100000'],
    ['follow not a boolean', { ...valid, follow: 'yes' }, 'follow', 'must be true or false'],
    ['expiresAt not RFC 3339', { ...valid, expiresAt: '2099-01-01' }, 'expiresAt', 'must be an RFC 3339 date-time, e.g. 2030-01-31T18:00:00Z'],
    ['expiresAt without offset', { ...valid, expiresAt: '2099-01-01T00:00:00' }, 'expiresAt', 'must be an RFC 3339 date-time, e.g. 2030-01-31T18:00:00Z'],
    ['expiresAt in the past', { ...valid, expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt', 'must be in the future'],
    ['unknown field', { ...valid, price: 10 }, 'price', 'is not a known field'],
    ['status is not for creating', { ...valid, status: 'paused' }, 'status', 'is not a known field'],
    ['ownerId comes from the token', { ...valid, ownerId: 'bob' }, 'ownerId', 'is not a known field'],
    ['too many image ids', { ...valid, imageIds: Array.from({ length: 11 }, (_, i) => `i${i}`) }, 'imageIds', 'must be at most 10 image ids'],
  ])('%s → 400 naming %s', async (_name, payload, field, rule) => {
    const res = await app.inject({ method: 'POST', url: '/listings', headers: auth(), payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: expect.arrayContaining([{ field, rule }]) });
  });

  it('a body that is not an object', async () => {
    const res = await app.inject({ method: 'POST', url: '/listings', headers: auth(), payload: [valid] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: [{ field: 'body', rule: 'must be a JSON object' }] });
  });

  it('no body at all', async () => {
    const res = await app.inject({ method: 'POST', url: '/listings', headers: auth() });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'body', rule: 'must be a JSON object' }]);
  });

  it('bad JSON → 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/listings', headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"kind": "offer",' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: [{ field: 'body', rule: 'must be valid JSON' }] });
  });

  it('a body that is not JSON → 415', async () => {
    // text/plain too: Fastify takes it by default (as a string, which was a 400 "must be a JSON object").
    for (const [type, payload] of [['application/xml', '<listing/>'], ['text/plain', 'a listing']]) {
      const res = await app.inject({ method: 'POST', url: '/listings', headers: { ...auth(), 'content-type': type! }, payload });
      expect(res.statusCode, type).toBe(415);
      expect(res.json()).toEqual({ error: 'unsupported_media_type', errors: [{ field: 'content-type', rule: 'must be application/json' }] });
    }
  });

  it('takes an id of 128 characters of any kind in the path (percent-encoded, up to 12 characters each)', async () => {
    const id = '\u{10000}'.repeat(128);
    const res = await app.inject({ url: `/listings/${encodeURIComponent(id)}` });
    expect([res.statusCode, res.json().error]).toEqual([404, 'not_found']);
    const tooLong = await app.inject({ url: `/listings/${encodeURIComponent(`${id}x`)}` });
    expect([tooLong.statusCode, tooLong.json().errors]).toEqual([400, [{ field: 'id', rule: 'must be at most 128 characters' }]]);
  });

  it('names every broken rule at once', async () => {
    const res = await app.inject({ method: 'POST', url: '/listings', headers: auth(), payload: { ...valid, title: '', radiusM: 1, kind: 'x' } });
    expect(res.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['kind', 'radiusM', 'title']);
  });
});

describe('PATCH /listings/:id input', () => {
  it.each<[string, Body, string, string]>([
    ['nothing to change', {}, 'body', 'must change at least one field'],
    ['status unknown', { status: 'deleted' }, 'status', 'must be one of active, paused, closed'],
    ['title too long', { title: 'x'.repeat(201) }, 'title', 'must be 1 to 200 characters'],
    ['title null', { title: null }, 'title', 'must be 1 to 200 characters'],
    ['radius out of range', { radiusM: 10 }, 'radiusM', 'must be between 50 and 100000'],
    ['latitude out of range', { location: { type: 'Point', coordinates: [0, 100] } }, 'location.coordinates.1', 'must be between -90 and 90 (latitude)'],
    ['kind cannot change', { kind: 'search' }, 'kind', 'is not a known field'],
    ['expiresAt in the past', { expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt', 'must be in the future'],
    ['too many tags', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags', 'must be at most 20 tags'],
  ])('%s → 400 naming %s', async (_name, payload, field, rule) => {
    const res = await app.inject({ method: 'PATCH', url: '/listings/some-id', headers: auth(), payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: expect.arrayContaining([{ field, rule }]) });
  });

  it('a valid change of a listing that does not exist → 404', async () => {
    const res = await app.inject({ method: 'PATCH', url: '/listings/some-id', headers: auth(), payload: { description: null, status: 'paused' } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('not_found');
  });
});

describe('GET /listings/nearby input', () => {
  const base = 'kind=offer&lng=13.4&lat=52.5&radiusM=2000';
  it('a valid query passes', async () => {
    const res = await app.inject({ url: `/listings/nearby?${base}&q=fahrrad&limit=5` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ items: [], nextCursor: null });
  });

  it.each<[string, string, string, string]>([
    ['kind missing', 'lng=13.4&lat=52.5', 'kind', 'is required'],
    ['kind unknown', 'kind=both&lng=13.4&lat=52.5', 'kind', 'must be one of offer, search'],
    ['lng missing', 'kind=offer&lat=52.5', 'lng', 'is required'],
    ['lng not a number', 'kind=offer&lng=east&lat=52.5', 'lng', 'must be a number between -180 and 180'],
    ['lng empty', 'kind=offer&lng=&lat=52.5', 'lng', 'must be a number between -180 and 180'],
    ['lng out of range', 'kind=offer&lng=181&lat=52.5', 'lng', 'must be a number between -180 and 180'],
    ['lat out of range', 'kind=offer&lng=13&lat=-91', 'lat', 'must be a number between -90 and 90'],
    ['radius too small', `${base}&radiusM=49`.replace('radiusM=2000&', ''), 'radiusM', 'must be a number between 50 and 100000'],
    ['radius too large', 'kind=offer&lng=13&lat=52&radiusM=100001', 'radiusM', 'must be a number between 50 and 100000'],
    ['limit too large', `${base}&limit=101`, 'limit', 'must be an integer between 1 and 100'],
    ['limit zero', `${base}&limit=0`, 'limit', 'must be an integer between 1 and 100'],
    ['limit not an integer', `${base}&limit=2.5`, 'limit', 'must be an integer between 1 and 100'],
    ['q too long', `${base}&q=${'x'.repeat(201)}`, 'q', 'must be at most 200 characters'],
    ['q twice', `${base}&q=a&q=b`, 'q', 'must be a string'],
    ['a cursor from nowhere', `${base}&cursor=bm90LWEtY3Vyc29y`, 'cursor', 'must be a cursor from a previous page'],
    ['unknown parameter', `${base}&sort=price`, 'sort', 'is not a known field'],
  ])('%s → 400 naming %s', async (_name, query, field, rule) => {
    const res = await app.inject({ url: `/listings/nearby?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: expect.arrayContaining([{ field, rule }]) });
  });
});

describe('GET /listings input', () => {
  it.each<[string, string, string, string]>([
    ['ownerId missing', '', 'ownerId', 'is required'],
    ['ownerId empty', 'ownerId=', 'ownerId', 'must not be empty'],
    ['status unknown', 'ownerId=alice&status=gone', 'status', 'must be one of active, paused, closed'],
    ['limit too large', 'ownerId=alice&limit=1000', 'limit', 'must be an integer between 1 and 100'],
    ['unknown parameter', 'ownerId=alice&kind=offer', 'kind', 'is not a known field'],
  ])('%s → 400 naming %s', async (_name, query, field, rule) => {
    const res = await app.inject({ url: `/listings?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: expect.arrayContaining([{ field, rule }]) });
  });
});

describe('authentication', () => {
  const write = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/listings', headers, payload: valid });

  it.each<[string, () => Promise<Record<string, string>>, string]>([
    ['no token', async () => ({}), 'is required: Bearer <token>'],
    ['not a bearer token', async () => ({ authorization: 'Basic YWxpY2U6c2VjcmV0' }), 'must be Bearer <token> (a JWT)'],
    ['not a JWT', async () => ({ authorization: 'Bearer abc' }), 'must be Bearer <token> (a JWT)'],
    ['signed with another secret', async () => ({ authorization: `Bearer ${await signToken('alice', 'x'.repeat(40))}` }), 'the token signature is not valid'],
    ['expired', async () => ({ authorization: `Bearer ${await signToken('alice', SECRET, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}` }), 'the token has expired'],
    ['unsigned (alg none)', async () => ({ authorization: `Bearer ${unsigned('alice')}` }), 'the token must be signed with HS256'],
    ['an OIDC issuer\'s (RS256), none configured', async () => ({ authorization: `Bearer ${await issuerLike('alice')}` }), 'the token must be signed with HS256'],
  ])('%s → 401 with WWW-Authenticate: Bearer', async (_name, headers, rule) => {
    const res = await write(await headers());
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="pushtech"/);
    expect(res.json()).toEqual({ error: 'unauthorized', errors: [{ field: 'authorization', rule }] });
  });

  it('PATCH and DELETE need a token too; reads do not', async () => {
    expect((await app.inject({ method: 'PATCH', url: '/listings/x', payload: { title: 'a' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: '/listings/x' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/listings/x' })).statusCode).toBe(404);
  });

  it('a token is checked before the body', async () => {
    const res = await app.inject({ method: 'POST', url: '/listings', payload: { title: '' } });
    expect(res.statusCode).toBe(401);
  });

  it('with an OIDC issuer configured that cannot be reached, its token is a 503 with Retry-After, not a 401; nothing is sent', async () => {
    const away = await startOnStandIns({ pointer, producer }, { JWT_SECRET: SECRET, READ_YOUR_WRITES_TIMEOUT_MS: '0', OIDC_ISSUER: 'http://127.0.0.1:9', OIDC_AUDIENCE: 'pushtech-app' });
    try {
      const before = sent.length;
      const res = await away.http.inject({ method: 'POST', url: '/listings', headers: { authorization: `Bearer ${await issuerLike('alice')}` }, payload: valid });
      expect([res.statusCode, res.headers['retry-after'], res.json()]).toEqual([503, '1', { error: 'unavailable', message: 'the OIDC issuer is not available: nothing was changed, retry later' }]);
      expect(sent.length).toBe(before);
      // Our own tokens do not need the issuer.
      expect((await away.http.inject({ method: 'POST', url: '/listings', headers: auth(), payload: valid })).statusCode).toBe(202);
    } finally {
      await away.stop();
    }
  });
});

describe('everything else is JSON too', () => {
  it('unknown route → 404 JSON', async () => {
    const res = await app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found', errors: [{ field: 'path' }] });
  });

  it('a known path with another method → 405 JSON naming the methods in Allow', async () => {
    const res = await app.inject({ method: 'PUT', url: '/listings/x' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
    expect(res.json()).toEqual({ error: 'method_not_allowed', errors: [{ field: 'method', rule: 'must be one of DELETE, GET, HEAD, PATCH' }] });
  });

  it('a listing that does not exist → 404 JSON', async () => {
    const res = await app.inject({ url: '/listings/0197f0a0-0000-7000-8000-000000000000' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', errors: [{ field: 'id', rule: 'listing 0197f0a0-0000-7000-8000-000000000000 does not exist' }] });
  });

  it('serves the OpenAPI document at /docs/json and the UI at /docs', async () => {
    const res = await app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/listings', '/listings/nearby', '/listings/{id}', '/listings/{id}/matches']));
    expect(doc.paths['/listings'].post.requestBody.content['application/json'].schema.properties.radiusM).toMatchObject({ minimum: 50, maximum: 100_000 });
    expect(doc.paths['/listings'].post.security).toEqual([{ bearerAuth: [] }]);
    expect((await app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });
});

/** A token whose header says RS256, as an OIDC issuer's do (its signature is not checked before the algorithm is). */
function issuerLike(sub: string): Promise<string> {
  return handMadeToken({ alg: 'RS256', kid: 'rsa-1' }, { sub, aud: 'pushtech-app', exp: Math.floor(Date.now() / 1000) + 60 }, new Uint8Array(32));
}

/** A JWT with `alg: none`: must never be accepted. */
function unsigned(sub: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 60 })}.x`;
}
