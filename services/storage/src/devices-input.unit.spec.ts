// Every input rule of /me/devices and its 401s, through inject(), without
// servers: a valid request reaches the fake producer and, with a 0 ms
// read-your-writes wait, answers 202.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COLLECTIONS, type DeviceDocument } from '@pushtech/contracts';
import type { OutgoingMessage, Producer } from '@pushtech/kafka';
import type { FastifyInstance } from 'fastify';
import { signToken } from '@pushtech/auth';
import { startOnStandIns } from './test-storage.ts';
import type { CollectionPointer } from './projection-collections.ts';

const SECRET = 'unit-test-secret-unit-test-secret-0123456789';
const SUB = '1b3e7c52-9a4f-4d1e-8b6a-2f0c9d8e7a61';
const WEB_PUSH = {
  endpoint: 'https://push.example.net/send/f7c1',
  keys: { p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url'), auth: Buffer.alloc(16, 9).toString('base64url') },
};
const sent: { topic: string; message: OutgoingMessage }[] = [];
let service: Awaited<ReturnType<typeof startOnStandIns>>;
let app: FastifyInstance;
let token: string;

const producer: Producer = {
  send: async (topic, messages) => { sent.push(...messages.map((message) => ({ topic, message }))); return []; },
  sendBatch: async () => [],
  disconnect: async () => {},
};
// Alice has SUB on iOS; nothing else exists.
const aliceDevice: DeviceDocument = {
  _id: SUB, subscriptionId: SUB, userId: 'alice', platform: 'ios', state: 'active', registeredAt: '2025-06-01T12:00:00.000Z',
  registrationId: '0197b2c4-5f1e-7a3b-9c2d-4e5f6a7b8c9d', eventIds: ['0197b2c4-5f1e-7a3b-9c2d-4e5f6a7b8c9d'], updatedAt: '2025-06-01T12:00:00.000Z',
};
const devices = {
  findOne: async (filter: { _id: string }) => (filter._id === SUB ? aliceDevice : null),
  find: (filter: { userId: string }) => {
    const cursor = { sort: () => cursor, limit: () => cursor, toArray: async () => (filter.userId === 'alice' ? [aliceDevice] : []) };
    return cursor;
  },
};
const pointer = {
  current: async () => ({ names: DEFAULT_COLLECTIONS, devices }),
} as unknown as CollectionPointer;

beforeAll(async () => {
  service = await startOnStandIns({ pointer, producer }, { JWT_SECRET: SECRET, LISTINGS_TOPIC: 'listings-unit', USERS_TOPIC: 'users-unit', READ_YOUR_WRITES_TIMEOUT_MS: '0' });
  app = service.http;
  token = await signToken('bob', SECRET);
});

afterAll(async () => {
  await service.stop();
});

const auth = async (userId = 'bob') => ({ authorization: `Bearer ${userId === 'bob' ? token : await signToken(userId, SECRET)}` });
const post = async (payload: unknown, userId = 'bob') => app.inject({ method: 'POST', url: '/me/devices', headers: await auth(userId), payload: payload as object });

describe('POST /me/devices', () => {
  it('a valid registration is appended to `users`, keyed by the user (202: the fake projection never shows it)', async () => {
    const before = sent.length;
    const res = await post({ subscriptionId: 'c0ffee00-1111-4222-8333-444455556666', platform: 'android' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ subscriptionId: 'c0ffee00-1111-4222-8333-444455556666', applied: false, message: expect.stringContaining('GET /me/devices') });
    expect(sent.length).toBe(before + 1);
    const { topic, message } = sent.at(-1)!;
    expect(topic).toBe('users-unit');
    expect(message.key).toBe('bob');
    expect(JSON.parse(String(message.value))).toMatchObject({
      specversion: '1.0', source: 'storage', type: 'device.registered', subject: 'c0ffee00-1111-4222-8333-444455556666',
      data: { userId: 'bob', subscriptionId: 'c0ffee00-1111-4222-8333-444455556666', platform: 'android' },
    });
  });

  it('registering a subscription the user has already (same platform) writes nothing and answers 200', async () => {
    const before = sent.length;
    const res = await post({ subscriptionId: SUB, platform: 'ios' }, 'alice');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ subscriptionId: SUB, userId: 'alice', platform: 'ios', registeredAt: '2025-06-01T12:00:00.000Z' });
    expect(sent.length).toBe(before);
  });

  it('a subscription of another user is registered for this one (it moves)', async () => {
    const before = sent.length;
    expect((await post({ subscriptionId: SUB, platform: 'ios' })).statusCode).toBe(202);
    expect(sent.length).toBe(before + 1);
    expect(sent.at(-1)!.message.key).toBe('bob');
  });

  it.each<[string, unknown, string, string]>([
    ['subscriptionId missing', { platform: 'ios' }, 'subscriptionId', 'is required'],
    ['subscriptionId empty', { subscriptionId: '', platform: 'ios' }, 'subscriptionId', 'must be 1 to 128 characters'],
    ['subscriptionId too long', { subscriptionId: 'a'.repeat(129), platform: 'ios' }, 'subscriptionId', 'must be 1 to 128 characters'],
    ['subscriptionId not a string', { subscriptionId: 42, platform: 'ios' }, 'subscriptionId', 'must be 1 to 128 characters'],
    ['subscriptionId with a slash', { subscriptionId: 'a/b', platform: 'ios' }, 'subscriptionId', 'must contain only letters, digits, "-", "_", "." and ":"'],
    ['subscriptionId with a space', { subscriptionId: ' abc', platform: 'ios' }, 'subscriptionId', 'must contain only letters, digits, "-", "_", "." and ":"'],
    ['platform missing', { subscriptionId: SUB }, 'platform', 'is required'],
    ['platform unknown', { subscriptionId: SUB, platform: 'windows' }, 'platform', 'must be one of ios, android, web'],
    ['platform in capitals', { subscriptionId: SUB, platform: 'iOS' }, 'platform', 'must be one of ios, android, web'],
    ['unknown field', { subscriptionId: SUB, platform: 'ios', token: 'x' }, 'token', 'is not a known field'],
    ['userId comes from the token', { subscriptionId: SUB, platform: 'ios', userId: 'alice' }, 'userId', 'is not a known field'],
    ['not an object', [{ subscriptionId: SUB, platform: 'ios' }], 'body', 'must be a JSON object'],
  ])('%s → 400 naming %s', async (_name, payload, field, rule) => {
    const before = sent.length;
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: expect.arrayContaining([{ field, rule }]) });
    expect(sent.length).toBe(before);
  });

  it('a browser\'s PushSubscription as is (platform web) is appended with its id derived from the endpoint', async () => {
    const before = sent.length;
    const res = await post({ platform: 'web', webPush: { ...WEB_PUSH, expirationTime: null } });
    expect(res.statusCode).toBe(202);
    const id = `wp-${createHash('sha256').update(WEB_PUSH.endpoint).digest('base64url')}`;
    expect(res.json()).toMatchObject({ subscriptionId: id, applied: false });
    expect(sent.length).toBe(before + 1);
    expect(JSON.parse(String(sent.at(-1)!.message.value))).toMatchObject({
      type: 'device.registered', subject: id, data: { userId: 'bob', subscriptionId: id, platform: 'web', webPush: WEB_PUSH },
    });
  });

  it.each<[string, unknown, string, string]>([
    ['webPush on ios', { platform: 'ios', webPush: WEB_PUSH }, 'webPush', 'is only for platform web'],
    ['webPush and subscriptionId', { platform: 'web', subscriptionId: SUB, webPush: WEB_PUSH }, 'subscriptionId', 'must not be given with webPush (it is derived from the endpoint)'],
    ['neither', { platform: 'web' }, 'subscriptionId', 'is required, or webPush'],
    ['http endpoint', { platform: 'web', webPush: { ...WEB_PUSH, endpoint: 'http://push.example.net/x' } }, 'webPush.endpoint', 'must be an https URL of at most 2048 characters'],
    ['endpoint not a URL', { platform: 'web', webPush: { ...WEB_PUSH, endpoint: 'push' } }, 'webPush.endpoint', 'must be an https URL of at most 2048 characters'],
    ['endpoint too long', { platform: 'web', webPush: { ...WEB_PUSH, endpoint: `https://p.example/${'a'.repeat(2048)}` } }, 'webPush.endpoint', 'must be an https URL of at most 2048 characters'],
    ['keys missing', { platform: 'web', webPush: { endpoint: WEB_PUSH.endpoint } }, 'webPush.keys', 'is required'],
    ['p256dh of 64 bytes', { platform: 'web', webPush: { ...WEB_PUSH, keys: { ...WEB_PUSH.keys, p256dh: Buffer.alloc(64, 4).toString('base64url') } } }, 'webPush.keys.p256dh', 'must be base64url of an uncompressed P-256 public key (65 bytes)'],
    ['p256dh compressed', { platform: 'web', webPush: { ...WEB_PUSH, keys: { ...WEB_PUSH.keys, p256dh: Buffer.alloc(65, 2).toString('base64url') } } }, 'webPush.keys.p256dh', 'must be an uncompressed P-256 point (first byte 0x04)'],
    ['auth in base64 with +', { platform: 'web', webPush: { ...WEB_PUSH, keys: { ...WEB_PUSH.keys, auth: '+'.repeat(22) } } }, 'webPush.keys.auth', 'must be base64url of the authentication secret (16 bytes)'],
    ['unknown field in webPush', { platform: 'web', webPush: { ...WEB_PUSH, topic: 'x' } }, 'webPush.topic', 'is not a known field'],
  ])('web push: %s → 400 naming %s', async (_name, payload, field, rule) => {
    const before = sent.length;
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: expect.arrayContaining([{ field, rule }]) });
    expect(sent.length).toBe(before);
  });

  it('a 128-character id of letters, digits and - _ . : is accepted', async () => {
    const id = `${'a1-_.:'.repeat(21)}ab`;
    expect(id).toHaveLength(128);
    expect((await post({ subscriptionId: id, platform: 'web' })).statusCode).toBe(202);
  });
});

describe('DELETE /me/devices/:subscriptionId', () => {
  it('removing the user\'s device is appended to `users` (202 here)', async () => {
    const before = sent.length;
    const res = await app.inject({ method: 'DELETE', url: `/me/devices/${SUB}`, headers: await auth('alice') });
    expect(res.statusCode).toBe(202);
    expect(sent.length).toBe(before + 1);
    expect(sent.at(-1)!.message.key).toBe('alice');
    expect(JSON.parse(String(sent.at(-1)!.message.value))).toMatchObject({ type: 'device.removed', data: { userId: 'alice', subscriptionId: SUB } });
  });

  it('removing a device the user does not have writes nothing and answers 204', async () => {
    const before = sent.length;
    expect((await app.inject({ method: 'DELETE', url: `/me/devices/${SUB}`, headers: await auth('bob') })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: '/me/devices/never-registered', headers: await auth('bob') })).statusCode).toBe(204);
    expect(sent.length).toBe(before);
  });

  it('a bad subscription id → 400 naming subscriptionId', async () => {
    const res = await app.inject({ method: 'DELETE', url: `/me/devices/${'x'.repeat(129)}`, headers: await auth() });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: [{ field: 'subscriptionId', rule: 'must be 1 to 128 characters' }] });
    const odd = await app.inject({ method: 'DELETE', url: '/me/devices/a%20b', headers: await auth() });
    expect(odd.json().errors).toEqual([{ field: 'subscriptionId', rule: 'must contain only letters, digits, "-", "_", "." and ":"' }]);
  });
});

describe('GET /me/devices', () => {
  it('lists the token user\'s devices only', async () => {
    expect((await app.inject({ url: '/me/devices', headers: await auth('alice') })).json())
      .toEqual({ items: [{ subscriptionId: SUB, userId: 'alice', platform: 'ios', registeredAt: '2025-06-01T12:00:00.000Z' }] });
    expect((await app.inject({ url: '/me/devices', headers: await auth('bob') })).json()).toEqual({ items: [] });
  });
});

describe('authentication', () => {
  it.each<[string, string, string]>([
    ['POST', '/me/devices', 'is required: Bearer <token>'],
    ['GET', '/me/devices', 'is required: Bearer <token>'],
    ['DELETE', `/me/devices/${SUB}`, 'is required: Bearer <token>'],
  ])('%s %s without a token → 401', async (method, url, rule) => {
    const res = await app.inject({ method: method as 'GET', url, ...(method === 'POST' ? { payload: { subscriptionId: SUB, platform: 'ios' } } : {}) });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="pushtech"');
    expect(res.json()).toEqual({ error: 'unauthorized', errors: [{ field: 'authorization', rule }] });
  });

  it('a token signed with another secret or expired → 401, and nothing is written', async () => {
    const before = sent.length;
    const forged = `Bearer ${await signToken('alice', 'y'.repeat(40))}`;
    const expired = `Bearer ${await signToken('alice', SECRET, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`;
    for (const authorization of [forged, expired]) {
      const res = await app.inject({ method: 'POST', url: '/me/devices', headers: { authorization }, payload: { subscriptionId: SUB, platform: 'ios' } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    }
    expect((await app.inject({ method: 'DELETE', url: `/me/devices/${SUB}`, headers: { authorization: expired } })).statusCode).toBe(401);
    expect(sent.length).toBe(before);
  });

  it('the token is checked before the body', async () => {
    const res = await app.inject({ method: 'POST', url: '/me/devices', payload: { platform: 'phone' } });
    expect(res.statusCode).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('documents the device routes', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/me/devices', '/me/devices/{subscriptionId}']));
    expect(doc.paths['/me/devices'].post.requestBody.content['application/json'].schema.properties.platform).toMatchObject({ enum: ['ios', 'android', 'web'] });
    expect(doc.paths['/me/devices'].get.security).toEqual([{ bearerAuth: [] }]);
  });
});
