import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesTopic, pairKey, type MatchData } from '@pushtech/contracts';
import { waitFor } from '@pushtech/testing';
import { listingBody, startTestStorage, type TestStorage } from './test-storage.ts';

let storage: TestStorage;

beforeAll(async () => {
  storage = await startTestStorage();
});

afterAll(async () => {
  await storage?.stop();
});

async function create(userId: string, body: object): Promise<{ id: string; version: number }> {
  const res = await storage.app.inject({ method: 'POST', url: '/listings', headers: { authorization: `Bearer ${await storage.token(userId)}` }, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const matchesOf = async (id: string) => {
  const res = await storage.app.inject({ url: `/listings/${id}/matches` });
  expect(res.statusCode).toBe(200);
  return res.json().items as { listingId: string; kind: string; title?: string; distanceM: number; pair: string; ownerId: string }[];
};

const matchDoc = (pair: string) => storage.mongo.db(storage.settings.MONGO_DB).collection('matches').findOne({ _id: pair } as never);

describe('GET /listings/:id/matches', () => {
  it('shows match.found on both sides with distance, stops showing it after match.lost; replays change nothing', async () => {
    const search = await create('alice', listingBody({ kind: 'search', title: 'Fahrrad' }));
    const near = await create('bob', listingBody({ kind: 'offer', title: 'Fahrrad, rot' }));
    const far = await create('carol', listingBody({ kind: 'offer', title: 'Fahrrad, blau' }));
    const data = (offer: { id: string }, ownerId: string, distanceM: number): MatchData => ({
      searchId: search.id, offerId: offer.id, searchOwnerId: 'alice', offerOwnerId: ownerId, distanceM, searchVersion: 1, offerVersion: 1,
    });
    expect(await matchesOf(search.id)).toEqual([]);

    await storage.produceMatchEvent({ type: 'match.found', data: data(far, 'carol', 900) });
    await storage.produceMatchEvent({ type: 'match.found', data: data(near, 'bob', 120.5) });
    const found = await waitFor(async () => {
      const items = await matchesOf(search.id);
      return items.length === 2 ? items : undefined;
    }, 'two matches');
    expect(found).toEqual([
      { pair: pairKey(search.id, near.id), listingId: near.id, kind: 'offer', title: 'Fahrrad, rot', ownerId: 'bob', distanceM: 120.5, decidedAt: expect.any(String) },
      { pair: pairKey(search.id, far.id), listingId: far.id, kind: 'offer', title: 'Fahrrad, blau', ownerId: 'carol', distanceM: 900, decidedAt: expect.any(String) },
    ]);
    expect(await matchesOf(near.id)).toEqual([
      { pair: pairKey(search.id, near.id), listingId: search.id, kind: 'search', title: 'Fahrrad', ownerId: 'alice', distanceM: 120.5, decidedAt: expect.any(String) },
    ]);

    // Lost on newer versions; then an older decision and a duplicate arrive late.
    const lost = matchesTopic.encode({ type: 'match.lost', data: { ...data(far, 'carol', 0), searchVersion: 2 } }).value;
    const pair = pairKey(search.id, far.id);
    await storage.producer.send(storage.settings.MATCHES_TOPIC, [{ key: pair, value: lost }]);
    await waitFor(async () => ((await matchesOf(search.id)).length === 1 ? true : undefined), 'the lost match gone');
    expect((await matchesOf(search.id)).map((m) => m.listingId)).toEqual([near.id]);
    expect(await matchesOf(far.id)).toEqual([]);
    const afterLost = await matchDoc(pair);
    expect(afterLost).toMatchObject({ state: 'lost', searchVersion: 2, offerVersion: 1 });

    await storage.producer.send(storage.settings.MATCHES_TOPIC, [
      { key: pair, value: matchesTopic.encode({ type: 'match.found', data: data(far, 'carol', 900) }).value },
      { key: pair, value: lost },
    ]);
    // A marker on the same partition: once it shows, the two before it were handled.
    const marker = { ...data(far, 'carol', 1), searchId: 'marker' };
    await storage.producer.send(storage.settings.MATCHES_TOPIC, [
      { key: pair, value: matchesTopic.encode({ type: 'match.found', data: marker }).value },
    ]);
    await waitFor(async () => ((await matchDoc(pairKey('marker', far.id))) ? true : undefined), 'the marker');
    expect(await matchDoc(pair)).toEqual(afterLost);
    expect((await matchesOf(search.id)).map((m) => m.listingId)).toEqual([near.id]);
  });

  it('404 for a listing that does not exist', async () => {
    const res = await storage.app.inject({ url: '/listings/nope/matches' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('not_found');
  });
});
