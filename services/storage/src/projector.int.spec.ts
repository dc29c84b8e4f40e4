import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listingsTopic } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { point, type Listing, type ListingEvent } from '@pushtech/listings';
import { waitFor } from '@pushtech/testing';
import { startTestStorage, type TestStorage } from './test-storage.ts';

let storage: TestStorage;

beforeAll(async () => {
  storage = await startTestStorage();
});

afterAll(async () => {
  await storage?.stop();
});

const listing = (id: string): Listing => ({
  id, kind: 'search', ownerId: 'erin', title: 'Sofa', tags: ['grau'], location: point(13.4, 52.5), radiusM: 2_000,
  follow: true, status: 'active', imageIds: [], version: 1,
});

const docOf = (id: string) => storage.mongo.db(storage.settings.MONGO_DB).collection('listings').findOne({ _id: id } as never);
const send = (records: { key: string; value: string }[]) => storage.producer.send(storage.settings.LISTINGS_TOPIC, records);
const metric = async (outcome: string) => {
  const text = (await storage.app.inject({ url: '/metrics' })).body;
  const m = new RegExp(`storage_projection_events_total\\{topic="listings",outcome="${outcome}"[^}]*\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
};

describe('projector', () => {
  it('the same event twice and an old version change nothing', async () => {
    const created = listingsTopic.encode({ type: 'listing.created', data: listing('p1') });
    const updated = listingsTopic.encode({ type: 'listing.updated', data: { ...listing('p1'), title: 'Sofa, 3-sitzig', version: 2 } });
    await send([created, updated]);
    const applied = await waitFor(async () => {
      const doc = await docOf('p1');
      return doc?.version === 2 ? doc : undefined;
    }, 'version 2');
    expect(applied).toMatchObject({ title: 'Sofa, 3-sitzig', eventIds: [created.envelope.id, updated.envelope.id] });

    const ignoredBefore = await metric('ignored');
    const old: ListingEvent = { type: 'listing.updated', data: { ...listing('p1'), title: 'Alt', version: 1 } };
    const sameVersion: ListingEvent = { type: 'listing.paused', data: { id: 'p1', version: 2 } };
    await send([updated, created, listingsTopic.encode(old), listingsTopic.encode(sameVersion)]);
    // A marker after them in the same partition (same key): once it is applied, the four before it were handled.
    await send([{ ...listingsTopic.encode({ type: 'listing.created', data: listing('p1-marker') }), key: 'p1' }]);
    await waitFor(async () => ((await docOf('p1-marker')) ? true : undefined), 'the marker');

    expect(await docOf('p1')).toEqual(applied);
    expect(await metric('ignored')).toBe(ignoredBefore + 4);
  });

  it('applies moves and status events in order, and skips records it cannot read (logged and counted)', async () => {
    const invalidBefore = await metric('invalid');
    const bad = (data: object, type = 'listing.moved') =>
      ({ key: 'p2', value: JSON.stringify(createEnvelope({ source: 'test', type, subject: 'p2', data: data as Record<string, unknown> })) });
    await send([
      listingsTopic.encode({ type: 'listing.created', data: listing('p2') }),
      { key: 'p2', value: 'not json' },
      bad({ id: 'p2', location: point(13.41, 52.51), version: 'two' }),
      bad({ id: 'p2', location: { type: 'Point', coordinates: [200, 52] }, version: 2 }),
      bad({ id: 'p2', version: 2 }, 'listing.deleted'),
      listingsTopic.encode({ type: 'listing.moved', data: { id: 'p2', location: point(13.41, 52.51), version: 2 } }),
      // For a listing never created: ignored (same key, so it is handled before the next one).
      { ...listingsTopic.encode({ type: 'listing.moved', data: { id: 'unknown', location: point(13.41, 52.51), version: 2 } }), key: 'p2' },
      listingsTopic.encode({ type: 'listing.paused', data: { id: 'p2', version: 3 } }),
    ]);
    const doc = await waitFor(async () => {
      const d = await docOf('p2');
      return d?.version === 3 ? d : undefined;
    }, 'version 3');
    expect(doc).toMatchObject({ status: 'paused', location: point(13.41, 52.51) });
    expect(await docOf('unknown')).toBeNull();
    expect(await metric('invalid')).toBe(invalidBefore + 4);
  });
});
