// The restore drill: what the API answers, then Mongo wiped and restored from a backup (the
// projector catching up on what was written after the backup), then Mongo wiped and rebuilt from
// Kafka alone: the API answers the same each time.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '@pushtech/kafka';
import { connectMongo, type MongoClient } from '@pushtech/mongo';
import { topicEnds, uniqueName, waitFor } from '@pushtech/testing';
import { backup, latestBackup, restore } from './backup.ts';
import { rebuildProjections } from './rebuild-projections.ts';
import { listingBody, startTestStorage, testLogger, testSettings, type TestStorage } from './test-storage.ts';

const settings = testSettings();
const projectorTopics = [settings.LISTINGS_TOPIC, settings.MATCHES_TOPIC, settings.USERS_TOPIC];
const backups = mkdtempSync(join(tmpdir(), 'pushtech-backups-'));
// The operator's tools have clients of their own (storage is stopped while Mongo is restored).
const kafka = createKafka({ clientId: 'backup-test', brokers: settings.KAFKA_BROKERS, logger: testLogger() });
let mongo: MongoClient;
let storage: TestStorage;

beforeAll(async () => {
  mongo = await connectMongo(settings.MONGO_URL, { appName: 'backup-test' });
  storage = await startTestStorage(settings);
});

afterAll(async () => {
  await storage?.stop();
  await mongo?.close();
  rmSync(backups, { recursive: true, force: true });
});

async function call(method: 'GET' | 'POST' | 'PATCH', url: string, userId: string, payload?: object) {
  const res = await storage.app.inject({ method, url, headers: { authorization: `Bearer ${await storage.token(userId)}` }, ...(payload ? { payload } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.json();
}

/** What the API answers about everything the test wrote. */
async function answers(ids: string[]) {
  const read = async (url: string, userId = 'alice') => (await storage.app.inject({ url, headers: { authorization: `Bearer ${await storage.token(userId)}` } })).json();
  return {
    listings: await Promise.all(ids.map((id) => read(`/listings/${id}`))),
    matches: await Promise.all(ids.map((id) => read(`/listings/${id}/matches`))),
    alice: await read('/listings?ownerId=alice'),
    bob: await read('/listings?ownerId=bob'),
    nearby: await read('/listings/nearby?lng=13.405&lat=52.52&radiusM=5000&kind=offer'),
    nearbySearches: await read('/listings/nearby?lng=13.405&lat=52.52&radiusM=5000&kind=search'),
    devices: await read('/me/devices', 'alice'),
  };
}

/** Storage stopped, its database dropped, started again on the same topics, group and database. */
async function restartOnEmptyDatabase(between: () => Promise<void> = async () => {}) {
  await storage.stop();
  await between();
  storage = await startTestStorage(settings);
}

describe('restore drill', () => {
  it('wipe Mongo, restore the backup: the API answers the same, writes after the backup included; wipe, rebuild from Kafka: the same again', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const owner = i % 2 === 0 ? 'alice' : 'bob';
      ids.push((await call('POST', '/listings', owner, listingBody({ kind: i % 2 === 0 ? 'search' : 'offer', title: `Lampe ${i}`, location: { type: 'Point', coordinates: [13.405 + i / 1000, 52.52] } }))).id);
    }
    await call('PATCH', `/listings/${ids[0]}`, 'alice', { title: 'Stehlampe', tags: ['alt'] });
    await call('PATCH', `/listings/${ids[1]}`, 'bob', { status: 'paused' });
    await call('POST', '/me/devices', 'alice', { subscriptionId: 'sub-alice-1', platform: 'ios' });
    await storage.produceMatchEvent({ type: 'match.found', data: { searchId: ids[2]!, offerId: ids[3]!, searchOwnerId: 'alice', offerOwnerId: 'bob', distanceM: 42, searchVersion: 1, offerVersion: 1 } });
    await waitFor(async () => ((await call('GET', `/listings/${ids[2]}/matches`, 'alice')).items?.length === 1 ? true : undefined), 'the match projected');

    const { dir, manifest } = await backup({
      kafka, db: mongo.db(settings.MONGO_DB), to: backups, topics: projectorTopics,
      projectorGroup: settings.PROJECTOR_GROUP, projectorTopics, logger: testLogger(),
    });
    expect(await latestBackup(backups)).toBe(dir);
    expect(readdirSync(join(dir, 'mongo')).sort()).toEqual(Object.keys(manifest.mongo.collections).map((c) => `${c}.ndjson`).sort());
    expect(manifest.mongo.collections.listings).toBe(6);
    expect(Object.values(manifest.kafka[settings.LISTINGS_TOPIC]!).reduce((n, p) => n + p.records, 0)).toBe(8);

    // Written after the backup: only the log has them once Mongo is restored.
    ids.push((await call('POST', '/listings', 'bob', listingBody({ title: 'Nach dem Backup' }))).id);
    await call('PATCH', `/listings/${ids[4]}`, 'alice', { title: 'Geändert nach dem Backup' });
    const before = await answers(ids);
    expect(before.listings.map((l) => l.id)).toEqual(ids);

    await restartOnEmptyDatabase(async () => {
      expect(await mongo.db(settings.MONGO_DB).listCollections().toArray()).toEqual([]);
      await restore({ from: dir, logger: testLogger(), mongo: { db: mongo.db(settings.MONGO_DB), kafka } });
    });
    await waitFor(async () => ((await answers(ids)).listings[4].title === 'Geändert nach dem Backup' ? true : undefined), 'the projector caught up after the restore', 30_000, 200);
    expect(await answers(ids)).toEqual(before);

    await restartOnEmptyDatabase();
    expect((await storage.app.inject({ url: `/listings/${ids[0]}` })).statusCode).toBe(404);
    await rebuildProjections({ kafka, db: mongo.db(settings.MONGO_DB), topics: { listings: settings.LISTINGS_TOPIC, matches: settings.MATCHES_TOPIC, users: settings.USERS_TOPIC }, logger: testLogger(), switchDelayMs: 1_500, dropOld: true });
    await waitFor(async () => ((await storage.app.inject({ url: `/listings/${ids[0]}` })).statusCode === 200 ? true : undefined), 'the API on the rebuilt collections', 10_000);
    expect(await answers(ids)).toEqual(before);
  }, 120_000);

  it('restores the topics into empty ones when Kafka itself was lost, and refuses topics that hold records', async () => {
    const [dir] = readdirSync(backups).map((d) => join(backups, d));
    const renamed = uniqueName('restored-listings');
    // The backup's listings, as if Kafka had been lost: restored under a new name into an empty topic.
    const manifest = JSON.parse(await readFile(join(dir!, 'manifest.json'), 'utf8'));
    manifest.kafka = { [renamed]: manifest.kafka[settings.LISTINGS_TOPIC] };
    await rename(join(dir!, 'kafka', settings.LISTINGS_TOPIC), join(dir!, 'kafka', renamed));
    await writeFile(join(dir!, 'manifest.json'), JSON.stringify(manifest));
    await restore({ from: dir!, logger: testLogger(), kafka: { kafka, specs: [] } });
    const ends = await topicEnds(kafka, renamed);
    expect([...ends.values()].reduce((sum, end) => sum + end, 0)).toBe(8);
    expect(ends.size).toBe(manifest.kafka[renamed].length);
    await expect(restore({ from: dir!, logger: testLogger(), kafka: { kafka, specs: [] } })).rejects.toThrow(/not empty/);
  });
});
