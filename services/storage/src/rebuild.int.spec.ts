import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COLLECTIONS } from '@pushtech/contracts';
import { createLogger } from '@pushtech/logging';
import type { Db } from '@pushtech/mongo';
import { waitFor } from '@pushtech/testing';
import { collectionPointer } from './projection-collections.ts';
import { rebuildProjections, type RebuildProgress } from './rebuild-projections.ts';
import { listingBody, startTestStorage, type TestStorage } from './test-storage.ts';

let storage: TestStorage;
let db: Db;

beforeAll(async () => {
  storage = await startTestStorage();
  db = storage.mongo.db(storage.settings.MONGO_DB);
});

afterAll(async () => {
  await storage?.stop();
});

async function as(userId: string) {
  const headers = { authorization: `Bearer ${await storage.token(userId)}` };
  return async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
    const res = await storage.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json();
  };
}

/** A collection's documents in `_id` order, without `_id`. */
async function contents(name: string) {
  const docs = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
  return docs.map(({ _id, ...rest }) => rest);
}

/** The nearby index's cells that hold listings (a listing that moved out leaves an empty one live; a replay folds the move first). */
async function cellContents(name: string) {
  return (await db.collection(name).find({ m: { $exists: true } }).sort({ _id: 1 }).toArray()).filter((doc) => Object.keys(doc.m).length > 0);
}

/** The cells that the occupancy documents of collection `name` name. */
async function occupiedCells(name: string) {
  const docs = await db.collection<{ _id: string; occupied: string[] }>(name).find({ occupied: { $exists: true } }).toArray();
  return new Set(docs.flatMap((doc) => doc.occupied.map((cell) => `${doc._id.split(':')[0]}:${cell}`)));
}

describe('rebuild', () => {
  it('replays the log into fresh collections that equal the live ones, then switches the API and the projector to them', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const owner = i % 2 === 0 ? alice : bob;
      ids.push((await owner('POST', '/listings', listingBody({ kind: i % 2 === 0 ? 'search' : 'offer', title: `Ding ${i}`, location: { type: 'Point', coordinates: [13.4 + i / 100, 52.5] } }))).id);
    }
    await alice('PATCH', `/listings/${ids[0]}`, { title: 'Neu', tags: ['a', 'b'], description: 'lang' });
    await alice('PATCH', `/listings/${ids[0]}`, { location: { type: 'Point', coordinates: [13.3, 52.4] } });
    await alice('PATCH', `/listings/${ids[2]}`, { status: 'paused' });
    await alice('PATCH', `/listings/${ids[2]}`, { status: 'active', radiusM: 3_000 });
    await bob('DELETE', `/listings/${ids[1]}`);
    await bob('PATCH', `/listings/${ids[3]}`, { expiresAt: '2099-01-01T00:00:00Z', follow: true });
    const match = (searchId: string, offerId: string, distanceM: number) =>
      ({ searchId, offerId, searchOwnerId: 'alice', offerOwnerId: 'bob', distanceM, searchVersion: 1, offerVersion: 1 });
    await storage.produceMatchEvent({ type: 'match.found', data: match(ids[4]!, ids[5]!, 10) });
    await storage.produceMatchEvent({ type: 'match.found', data: match(ids[6]!, ids[7]!, 20) });
    await storage.produceMatchEvent({ type: 'match.lost', data: { ...match(ids[6]!, ids[7]!, 0), offerVersion: 2 } });
    await waitFor(async () => ((await db.collection('matches').countDocuments({ state: 'lost' })) === 1 ? true : undefined), 'the matches projected');
    const live = { listings: await contents('listings'), matches: await contents('matches'), listingCells: await cellContents('listing_cells') };
    expect(live.listingCells.length).toBeGreaterThan(1);
    expect(live.listings).toHaveLength(8);
    expect(live.matches).toHaveLength(2);

    const progress: RebuildProgress[] = [];
    const result = await rebuildProjections({
      kafka: storage.kafka,
      db,
      topics: { listings: storage.settings.LISTINGS_TOPIC, matches: storage.settings.MATCHES_TOPIC, users: storage.settings.USERS_TOPIC },
      logger: createLogger('rebuild-test', 'silent'),
      progress: (p) => progress.push(p),
      switchDelayMs: 1_500,
    });

    expect(result.previous).toEqual(DEFAULT_COLLECTIONS);
    expect(result.current.listings).toMatch(/^listings_\d{17}$/);
    expect(result.handled).toBe(17);
    expect(result.applied).toBe(17);
    expect(await contents(result.current.listings)).toEqual(live.listings);
    expect(await contents(result.current.matches)).toEqual(live.matches);
    expect(await cellContents(result.current.listingCells)).toEqual(live.listingCells);
    // Every cell holding an entry is occupied. The replay folds a batch of a listing's events into one
    // write, so it may skip a place the live projector wrote on the way: its occupancy is a subset.
    const occupied = await occupiedCells(result.current.listingCells);
    for (const doc of live.listingCells) expect(occupied).toContain(doc._id);
    const liveOccupied = await occupiedCells('listing_cells');
    for (const cell of occupied) expect(liveOccupied).toContain(cell);
    expect(await collectionPointer(db).read()).toEqual(result.current);
    expect(progress[0]).toMatchObject({ phase: 'replay', total: 17 });
    expect(progress.at(-1)).toMatchObject({ phase: 'done', handled: 17 });
    const indexes = (await db.collection(result.current.listings).indexes()).map((i) => i.name);
    expect(indexes).toEqual(expect.arrayContaining(['ownerId']));

    // After the switch: writes land in the new collections, and reads come from them.
    const later = await alice('POST', '/listings', listingBody({ title: 'Nach dem Umbau' }));
    expect(await db.collection(result.current.listings).findOne({ _id: later.id } as never)).toMatchObject({ title: 'Nach dem Umbau' });
    expect(await db.collection('listings').findOne({ _id: later.id } as never)).toBeNull();
    await db.collection('listings').drop(); // the API does not read the old collection any more
    const read = await storage.app.inject({ url: `/listings/${ids[0]}` });
    expect(read.json()).toMatchObject({ title: 'Neu', version: 3 });
  }, 90_000);

  it('a write during the rebuild is in the rebuilt collections', async () => {
    const alice = await as('alice');
    const { id } = await alice('POST', '/listings', listingBody({ title: 'Vorher' }));
    const rebuilding = rebuildProjections({
      kafka: storage.kafka,
      db,
      topics: { listings: storage.settings.LISTINGS_TOPIC, matches: storage.settings.MATCHES_TOPIC, users: storage.settings.USERS_TOPIC },
      logger: createLogger('rebuild-test', 'silent'),
      switchDelayMs: 1_500,
    });
    await alice('PATCH', `/listings/${id}`, { title: 'Währenddessen' });
    const result = await rebuilding;
    await alice('PATCH', `/listings/${id}`, { tags: ['danach'] });
    expect(await db.collection(result.current.listings).findOne({ _id: id } as never)).toMatchObject({ title: 'Währenddessen', tags: ['danach'], version: 3 });
  }, 90_000);
});
