// Devices through the API and the real projector on the local stack:
// register, list, remove (read-your-writes), a subscription moving between
// users, the projection's idempotence, and the rebuild.
import { createECDH } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usersTopic } from '@pushtech/contracts';
import { createLogger } from '@pushtech/logging';
import type { Db } from '@pushtech/mongo';
import { topicLength, waitFor } from '@pushtech/testing';
import { rebuildProjections } from './rebuild-projections.ts';
import { startTestStorage, type TestStorage } from './test-storage.ts';

let storage: TestStorage;
let db: Db;

beforeAll(async () => {
  storage = await startTestStorage();
  db = storage.mongo.db(storage.settings.MONGO_DB);
});

afterAll(async () => {
  await storage?.stop();
});

const headers = async (userId: string) => ({ authorization: `Bearer ${await storage.token(userId)}` });
const register = async (userId: string, subscriptionId: string, platform = 'ios') =>
  storage.app.inject({ method: 'POST', url: '/me/devices', headers: await headers(userId), payload: { subscriptionId, platform } });
const remove = async (userId: string, subscriptionId: string) =>
  storage.app.inject({ method: 'DELETE', url: `/me/devices/${subscriptionId}`, headers: await headers(userId) });
const list = async (userId: string) => (await storage.app.inject({ url: '/me/devices', headers: await headers(userId) })).json().items as { subscriptionId: string }[];
const ids = async (userId: string) => (await list(userId)).map((d) => d.subscriptionId).sort();

const usersTopicEnd = () => topicLength(storage.kafka, storage.settings.USERS_TOPIC);

const metric = async (outcome: string) => {
  const text = (await storage.app.inject({ url: '/metrics' })).body;
  const m = new RegExp(`storage_projection_events_total\\{topic="users",outcome="${outcome}"[^}]*\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
};

describe('devices API (read-your-writes)', () => {
  it('registers (201, visible at once), lists, and removes (204, gone at once)', async () => {
    const res = await register('dora', 'dora-phone', 'android');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe('/me/devices/dora-phone');
    expect(res.json()).toEqual({ subscriptionId: 'dora-phone', userId: 'dora', platform: 'android', registeredAt: expect.any(String) });
    expect(await list('dora')).toEqual([res.json()]);

    expect((await register('dora', 'dora-laptop', 'web')).statusCode).toBe(201);
    expect(await ids('dora')).toEqual(['dora-laptop', 'dora-phone']);
    expect((await list('dora'))[0]!.subscriptionId).toBe('dora-laptop'); // newest first

    expect((await remove('dora', 'dora-phone')).statusCode).toBe(204);
    expect(await ids('dora')).toEqual(['dora-laptop']);
    expect(await db.collection('devices').findOne({ _id: 'dora-phone' } as never)).toMatchObject({ state: 'removed', userId: 'dora' });
  });

  it('a browser\'s Web Push subscription: 201 with the id derived from the endpoint, the keys kept in the projection, removed by that id', async () => {
    const webPush = {
      endpoint: 'https://push.example.net/send/fiona-1',
      keys: { p256dh: createECDH('prime256v1').generateKeys('base64url'), auth: Buffer.alloc(16, 5).toString('base64url') },
    };
    const res = await storage.app.inject({ method: 'POST', url: '/me/devices', headers: await headers('fiona'), payload: { platform: 'web', webPush: { ...webPush, expirationTime: null } } });
    expect(res.statusCode, res.body).toBe(201);
    const { subscriptionId } = res.json() as { subscriptionId: string };
    expect(subscriptionId).toMatch(/^wp-[A-Za-z0-9_-]{43}$/);
    expect(res.json()).toEqual({ subscriptionId, userId: 'fiona', platform: 'web', registeredAt: expect.any(String), webPush: { endpoint: webPush.endpoint } });
    expect(await db.collection('devices').findOne({ _id: subscriptionId } as never)).toMatchObject({ state: 'active', userId: 'fiona', platform: 'web', webPush });
    const again = await storage.app.inject({ method: 'POST', url: '/me/devices', headers: await headers('fiona'), payload: { platform: 'web', webPush } });
    expect(again.statusCode).toBe(200);
    expect((await remove('fiona', subscriptionId)).statusCode).toBe(204);
    expect(await list('fiona')).toEqual([]);
  });

  it('registering again is a no-op (200, no event); removing what is not there is a no-op (204, no event)', async () => {
    const first = await register('emil', 'emil-phone');
    expect(first.statusCode).toBe(201);
    const end = await usersTopicEnd();
    const again = await register('emil', 'emil-phone');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect((await remove('emil', 'nothing-here')).statusCode).toBe(204);
    expect((await remove('frieda', 'emil-phone')).statusCode).toBe(204); // not hers
    expect(await usersTopicEnd()).toBe(end);
    expect(await ids('emil')).toEqual(['emil-phone']);

    // Another platform is a new registration, keeping the first registration's time.
    const ios = await register('emil', 'emil-phone', 'web');
    expect(ios.statusCode).toBe(201);
    expect(ios.json()).toMatchObject({ platform: 'web', registeredAt: first.json().registeredAt });
  });

  it('a subscription registered by another user moves to that user; the first user\'s removal then changes nothing', async () => {
    expect((await register('gina', 'shared-tablet')).statusCode).toBe(201);
    expect((await register('hans', 'shared-tablet', 'android')).statusCode).toBe(201);
    expect(await ids('gina')).toEqual([]);
    expect(await ids('hans')).toEqual(['shared-tablet']);
    expect((await remove('gina', 'shared-tablet')).statusCode).toBe(204);
    expect(await ids('hans')).toEqual(['shared-tablet']);
    expect(await db.collection('devices').countDocuments({ subscriptionId: 'shared-tablet' })).toBe(1);
  });

  it('401 without a token', async () => {
    expect((await storage.app.inject({ url: '/me/devices' })).statusCode).toBe(401);
    expect((await storage.app.inject({ method: 'POST', url: '/me/devices', payload: { subscriptionId: 'x', platform: 'ios' } })).statusCode).toBe(401);
    expect((await storage.app.inject({ method: 'DELETE', url: '/me/devices/x' })).statusCode).toBe(401);
  });
});

describe('devices projection', () => {
  const docOf = (id: string) => db.collection('devices').findOne({ _id: id } as never);
  const send = (records: { key: string; value: string }[]) => storage.producer.send(storage.settings.USERS_TOPIC, records);

  it('duplicates, an older registration read late and a removal by a former user change nothing', async () => {
    const ivoPhone = usersTopic.encode({ type: 'device.registered', data: { userId: 'ivo', subscriptionId: 'ivo-phone', platform: 'ios' } });
    const julePhone = usersTopic.encode({ type: 'device.registered', data: { userId: 'jule', subscriptionId: 'ivo-phone', platform: 'ios' } });
    await send([ivoPhone, julePhone]);
    const applied = await waitFor(async () => {
      const doc = await docOf('ivo-phone');
      return doc?.userId === 'jule' ? doc : undefined;
    }, 'the subscription moved to jule');

    const ignoredBefore = await metric('ignored');
    const ivoGone = usersTopic.encode({ type: 'device.removed', data: { userId: 'ivo', subscriptionId: 'ivo-phone' } });
    // Same key (partition) as the marker after them: once the marker is applied, these were handled.
    await send([ivoPhone, julePhone, ivoGone].map((r) => ({ ...r, key: 'jule' })));
    await send([{ ...usersTopic.encode({ type: 'device.registered', data: { userId: 'jule', subscriptionId: 'marker', platform: 'web' } }), key: 'jule' }]);
    await waitFor(async () => ((await docOf('marker')) ? true : undefined), 'the marker');

    expect(await docOf('ivo-phone')).toEqual(applied);
    expect(await metric('ignored')).toBe(ignoredBefore + 3);
  });

  it('a record that is not a device event is logged, counted and skipped', async () => {
    const invalidBefore = await metric('invalid');
    await send([
      { key: 'kai', value: 'not json' },
      { key: 'kai', value: JSON.stringify({ ...usersTopic.encode({ type: 'device.registered', data: { userId: 'kai', subscriptionId: 'k1', platform: 'ios' } }).envelope, data: { userId: 'kai', subscriptionId: 'k1', platform: 'nokia' } }) },
      usersTopic.encode({ type: 'device.registered', data: { userId: 'kai', subscriptionId: 'k2', platform: 'ios' } }),
    ]);
    await waitFor(async () => ((await docOf('k2')) ? true : undefined), 'k2');
    expect(await docOf('k1')).toBeNull();
    expect(await metric('invalid')).toBe(invalidBefore + 2);
  });
});

describe('rebuild', () => {
  it('replays `users` into a fresh devices collection equal to the live one, and the API reads it after the switch', async () => {
    expect((await register('lena', 'lena-phone')).statusCode).toBe(201);
    expect((await register('lena', 'lena-watch', 'android')).statusCode).toBe(201);
    expect((await remove('lena', 'lena-watch')).statusCode).toBe(204);
    const contents = async (name: string) => (await db.collection(name).find({}).sort({ _id: 1 }).toArray()).map(({ _id, ...rest }) => ({ _id, ...rest }));
    const live = await contents('devices');
    expect(live.length).toBeGreaterThan(5);

    const result = await rebuildProjections({
      kafka: storage.kafka,
      db,
      topics: { listings: storage.settings.LISTINGS_TOPIC, matches: storage.settings.MATCHES_TOPIC, users: storage.settings.USERS_TOPIC },
      logger: createLogger('rebuild-test', 'silent'),
      switchDelayMs: 1_500,
    });
    expect(result.previous.devices).toBe('devices');
    expect(result.current.devices).toMatch(/^devices_\d{17}$/);
    expect(await contents(result.current.devices)).toEqual(live);
    expect((await db.collection(result.current.devices).indexes()).map((i) => i.name)).toContain('userId');

    // After the switch the API reads and writes the new collection.
    await db.collection('devices').drop();
    expect(await ids('lena')).toEqual(['lena-phone']);
    expect((await register('lena', 'lena-tablet', 'web')).statusCode).toBe(201);
    expect(await db.collection(result.current.devices).findOne({ _id: 'lena-tablet' } as never)).toMatchObject({ userId: 'lena', state: 'active' });
  }, 90_000);
});
