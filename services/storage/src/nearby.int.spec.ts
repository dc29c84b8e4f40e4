import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coveringRings, destination, haversineM, point, type Listing, type Point } from '@pushtech/listings';
import type { Collection } from '@pushtech/mongo';
import { fillListingCells, NEARBY_RESOLUTION, placeOf, type CellsDocument } from './listing-cells.ts';
import type { ListingDocument } from './listing-document.ts';
import { nearbyQuery } from './listing-input.ts';
import { createListingStore } from './listing-store.ts';
import { findNearby } from './nearby.ts';
import { collectionPointer, type CollectionPointer } from './projection-collections.ts';
import { listingBody, startTestStorage, type TestStorage } from './test-storage.ts';

let storage: TestStorage;
let headers: { authorization: string };
const CENTRE = point(13.405, 52.52);
const RADIUS_M = 5_000;

interface Made {
  id: string;
  kind: 'offer' | 'search';
  location: Point;
  title: string;
  description?: string;
  live: boolean;
}
const made: Made[] = [];

async function make(kind: 'offer' | 'search', location: Point, title: string, extra: Record<string, unknown> = {}): Promise<Made> {
  const res = await storage.app.inject({
    method: 'POST', url: '/listings', headers,
    payload: { ...listingBody({ kind, title, location, radiusM: 2_000 }), tags: [], ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  const listing: Made = { id: res.json().id, kind, location, title, live: true, ...(extra.description ? { description: String(extra.description) } : {}) };
  made.push(listing);
  return listing;
}

beforeAll(async () => {
  storage = await startTestStorage();
  headers = { authorization: `Bearer ${await storage.token('frank')}` };
  const tied = destination(CENTRE, 650, 1);
  // 57 live offers inside the radius: every 75 m along a spiral, four of them at one place (equal distances).
  for (let i = 0; i < 57; i++) {
    const location = i >= 8 && i <= 11 ? tied : destination(CENTRE, 50 + i * 75, i * 0.7);
    await make('offer', location, i % 3 === 0 ? 'Fahrrad rot' : 'Lampe', i === 20 ? { description: 'vintage, 1970s' } : {});
  }
  // Outside the radius.
  for (let i = 0; i < 4; i++) (await make('offer', destination(CENTRE, 5_050 + i * 1_000, i), 'Fahrrad rot')).live = false;
  // Inside, but paused, closed, or expired.
  const paused = await make('offer', destination(CENTRE, 300, 2), 'Fahrrad rot');
  await storage.app.inject({ method: 'PATCH', url: `/listings/${paused.id}`, headers, payload: { status: 'paused' } });
  paused.live = false;
  const closed = await make('offer', destination(CENTRE, 400, 3), 'Fahrrad rot');
  await storage.app.inject({ method: 'DELETE', url: `/listings/${closed.id}`, headers });
  closed.live = false;
  await storage.produceListingEvent({
    type: 'listing.created',
    data: { id: 'expired1', kind: 'offer', ownerId: 'frank', title: 'Fahrrad rot', tags: [], location: destination(CENTRE, 500, 4), radiusM: 1_000, follow: false, status: 'active', imageIds: [], expiresAt: '2024-01-01T00:00:00.000Z', version: 1 },
  });
  // Searches: 7 inside, 1 outside.
  for (let i = 0; i < 8; i++) (await make('search', destination(CENTRE, i < 7 ? 200 + i * 600 : 9_000, i), 'Suche Sofa')).live = i < 7;
}, 120_000);

afterAll(async () => {
  await storage?.stop();
});

interface Item { id: string; kind: string; distanceM: number; status: string; title: string }

async function walk(query: string, limit: number): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await storage.app.inject({ url: `/listings/nearby?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}` });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { items: Item[]; nextCursor: string | null };
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null && pages < 100);
  return { items, pages };
}

const expected = (kind: string, radiusM: number, keep: (m: Made) => boolean = () => true) =>
  made.filter((m) => m.kind === kind && m.live && keep(m) && haversineM(CENTRE, m.location) <= radiusM)
    .sort((a, b) => haversineM(CENTRE, a.location) - haversineM(CENTRE, b.location) || (a.id < b.id ? -1 : 1))
    .map((m) => m.id);

const centre = `lng=${CENTRE.coordinates[0]}&lat=${CENTRE.coordinates[1]}`;

describe('GET /listings/nearby', () => {
  it('offers near me: 57 listings, limit 10, the cursor walks every one exactly once, nearest first', async () => {
    const { items, pages } = await walk(`kind=offer&${centre}&radiusM=${RADIUS_M}`, 10);
    expect(pages).toBe(6);
    const ids = items.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(57);
    expect(ids).toEqual(expected('offer', RADIUS_M));
    for (let i = 1; i < items.length; i++) expect(items[i]!.distanceM).toBeGreaterThanOrEqual(items[i - 1]!.distanceM);
    for (const item of items) {
      expect(item).toMatchObject({ kind: 'offer', status: 'active' });
      const m = made.find((x) => x.id === item.id)!;
      expect(item.distanceM).toBeCloseTo(haversineM(CENTRE, m.location), 6);
      expect(item.distanceM).toBeLessThanOrEqual(RADIUS_M);
    }
  });

  it('ties (four offers at one place) are ordered by id across a page boundary', async () => {
    const { items } = await walk(`kind=offer&${centre}&radiusM=${RADIUS_M}`, 10);
    const tied = items.filter((i) => Math.abs(i.distanceM - 650) < 1e-6);
    expect(tied).toHaveLength(4);
    expect(tied.map((i) => i.id)).toEqual(tied.map((i) => i.id).sort());
    expect(items.findIndex((i) => i.id === tied[0]!.id)).toBeLessThan(10);
    expect(items.findIndex((i) => i.id === tied[3]!.id)).toBeGreaterThanOrEqual(10);
  });

  it('what people near me look for: searches, nearest first', async () => {
    const { items } = await walk(`kind=search&${centre}&radiusM=${RADIUS_M}`, 3);
    expect(items.map((i) => i.id)).toEqual(expected('search', RADIUS_M));
    expect(items).toHaveLength(7);
    expect(items.every((i) => i.kind === 'search')).toBe(true);
  });

  it('respects the radius', async () => {
    for (const radiusM of [50, 1_000, 2_345]) {
      const { items } = await walk(`kind=offer&${centre}&radiusM=${radiusM}`, 100);
      expect(items.map((i) => i.id)).toEqual(expected('offer', radiusM));
      expect(items.every((i) => i.distanceM <= radiusM)).toBe(true);
    }
    const wide = await walk(`kind=offer&${centre}&radiusM=100000`, 100);
    expect(wide.items).toHaveLength(61); // the four beyond 5 km too
  });

  it('q keeps listings with every word (title, description, tags; case and diacritics ignored)', async () => {
    const bikes = await walk(`kind=offer&${centre}&radiusM=${RADIUS_M}&q=FAHRRAD`, 7);
    expect(bikes.items.map((i) => i.id)).toEqual(expected('offer', RADIUS_M, (m) => m.title === 'Fahrrad rot'));
    expect(bikes.items).toHaveLength(19);
    const both = await walk(`kind=offer&${centre}&radiusM=${RADIUS_M}&q=${encodeURIComponent('rot Fährrad')}`, 50);
    expect(both.items).toHaveLength(19);
    const none = await walk(`kind=offer&${centre}&radiusM=${RADIUS_M}&q=${encodeURIComponent('fahrrad lampe')}`, 50);
    expect(none.items).toHaveLength(0);
    const described = await walk(`kind=offer&${centre}&radiusM=${RADIUS_M}&q=vintage`, 50);
    expect(described.items.map((i) => i.id)).toEqual(expected('offer', RADIUS_M, (m) => m.description !== undefined));
  });

  it('leaves out paused, closed and expired listings', async () => {
    const { items } = await walk(`kind=offer&${centre}&radiusM=${RADIUS_M}`, 100);
    const ids = new Set(items.map((i) => i.id));
    for (const m of made.filter((x) => !x.live && haversineM(CENTRE, x.location) <= RADIUS_M)) expect(ids.has(m.id)).toBe(false);
    expect(ids.has('expired1')).toBe(false);
    expect((await storage.app.inject({ url: '/listings/expired1' })).json()).toMatchObject({ status: 'active' }); // readable, not browsable
  });

  it('a listing leaves the results the moment it expires', async () => {
    const place = point(-3.7, 40.4); // Madrid: nothing else around
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await storage.app.inject({ method: 'POST', url: '/listings', headers, payload: { ...listingBody({ location: place }), expiresAt } });
    expect(res.statusCode).toBe(201);
    expect((await storage.app.inject({ url: '/listings/nearby?kind=offer&lng=-3.7&lat=40.4&radiusM=1000' })).json().items.map((i: Item) => i.id)).toEqual([res.json().id]);
    // What the route asks with the time of the request, asked at the instants around the expiry.
    const store = createListingStore(collectionPointer(storage.mongo.db(storage.settings.MONGO_DB)));
    const query = nearbyQuery.parse({ kind: 'offer', lng: '-3.7', lat: '40.4', radiusM: '1000' });
    const at = async (ms: number) => (await findNearby(store, query, ms)).items.map((i) => i.id);
    expect(await at(Date.parse(expiresAt) - 1)).toEqual([res.json().id]);
    expect(await at(Date.parse(expiresAt))).toEqual([]);
  });
});

describe('the nearby index (listing_cells)', () => {
  const cellsOf = () => storage.mongo.db(storage.settings.MONGO_DB).collection<CellsDocument>('listing_cells');
  const nearbyIds = async (at: Point, radiusM: number) =>
    (await walk(`kind=offer&lng=${at.coordinates[0]}&lat=${at.coordinates[1]}&radiusM=${radiusM}`, 100)).items.map((i) => i.id);
  const lisbon = point(-9.14, 38.72); // nothing else around

  it('a listing that moves to another cell is found at its new place only, and its old cell no longer holds it', async () => {
    const listing = await make('offer', lisbon, 'Kommode');
    const away = destination(lisbon, 6_000, 0.5);
    const moved = await storage.app.inject({ method: 'PATCH', url: `/listings/${listing.id}`, headers, payload: { location: away } });
    expect(moved.statusCode, moved.body).toBe(200);
    listing.location = away;
    expect(await nearbyIds(lisbon, 1_000)).toEqual([]);
    expect(await nearbyIds(away, 1_000)).toEqual([listing.id]);
    const holding = await cellsOf().find({}).toArray();
    expect(holding.filter((doc) => JSON.stringify(doc.m ?? {}).includes(Buffer.from(listing.id).toString('base64url'))).map((doc) => doc._id))
      .toEqual([placeOf({ ...(moved.json() as Listing), terms: [] })!.cellsId]);
  });

  it('an entry left in another cell (a crash between the index write and the document write) is left out, then dropped by the query that met it', async () => {
    const listing = await make('offer', destination(lisbon, 20_000, 2), 'Regal');
    const current = (await storage.app.inject({ url: `/listings/${listing.id}` })).json() as Listing;
    const elsewhere = destination(lisbon, 20_000, 4);
    // What the index held before a move to the listing's place that the projector wrote only halfway.
    const left = placeOf({ ...current, location: elsewhere, version: current.version - 1, terms: ['regal'] })!;
    const field = `m.${Buffer.from(listing.id).toString('base64url')}`;
    await cellsOf().updateOne({ _id: left.occupancyId }, { $addToSet: { occupied: left.cell } }, { upsert: true });
    await cellsOf().updateOne({ _id: left.cellsId }, { $set: { [field]: left.entry } }, { upsert: true });

    expect(await nearbyIds(elsewhere, 500)).toEqual([]);
    expect((await cellsOf().findOne({ _id: left.cellsId }))!.m).not.toHaveProperty(field.slice(2));
    expect(await nearbyIds(listing.location, 500)).toEqual([listing.id]);
  });

  it('a 100 km query far from other listings reads the occupancy of the few dozen coarse cells around, not thousands of empty cells', async () => {
    const alone = point(-60, -10); // the Amazon: nothing around
    const listing = await make('offer', destination(alone, 80_000, 1), 'Kanu');
    const pointer = collectionPointer(storage.mongo.db(storage.settings.MONGO_DB));
    let reads = 0;
    const counting = {
      current: async () => {
        const current = await pointer.current();
        const findOne = (filter: { _id: string }) => { reads++; return current.listingCells.findOne(filter); };
        return { ...current, listingCells: { findOne } as unknown as Collection<CellsDocument> };
      },
    } as CollectionPointer;
    const query = nearbyQuery.parse({ kind: 'offer', lng: '-60', lat: '-10', radiusM: '100000' });
    expect((await findNearby(createListingStore(counting), query)).items.map((i) => i.id)).toEqual([listing.id]);
    const cells = [...coveringRings(alone, 100_000, NEARBY_RESOLUTION)].flatMap((ring) => ring.cells);
    expect(cells.length).toBeGreaterThan(5_000);
    expect(reads).toBeLessThan(100);
  });

  it('a storage started on listings projected before the index existed fills it and answers the same', async () => {
    const query = `kind=offer&${centre}&radiusM=${RADIUS_M}`;
    const before = (await walk(query, 100)).items.map((i) => i.id);
    expect(before).toHaveLength(57);
    await cellsOf().drop();
    const second = await startTestStorage(storage.settings, { projector: false });
    try {
      const res = await second.app.inject({ url: `/listings/nearby?${query}&limit=100` });
      expect(res.json().items.map((i: Item) => i.id)).toEqual(before);
    } finally {
      await second.stop({ keepDatabase: true });
    }
  });
  it('fills the index a chunk at a time, saying after each how many listings are in', async () => {
    const db = storage.mongo.db(storage.settings.MONGO_DB);
    await cellsOf().drop();
    const heard: number[] = [];
    const filled = await fillListingCells(cellsOf(), db.collection<ListingDocument>('listings'), { chunk: 20, onChunk: (n) => heard.push(n) });
    expect(filled).toBe(await db.collection('listings').countDocuments({ status: 'active' }));
    expect(filled).toBeGreaterThan(60);
    expect(heard).toEqual(Array.from({ length: Math.floor(filled / 20) }, (_, i) => (i + 1) * 20));
    expect(await nearbyIds(CENTRE, RADIUS_M)).toHaveLength(57);
  });
});
