import { describe, expect, it } from 'vitest';
import { point, type Listing, type ListingEvent } from '@pushtech/listings';
import { listingEventSchemas, listingsTopic } from './listings.ts';

const listing: Listing = {
  id: 'l1', kind: 'offer', ownerId: 'ann', title: 'Lastenrad', description: 'fast neu', tags: ['rad'],
  location: point(13.4, 52.5), radiusM: 2_000, follow: false, status: 'active', imageIds: ['img-1'],
  expiresAt: '2030-01-01T00:00:00.000Z', version: 1,
};

describe('topic listings', () => {
  const events: ListingEvent[] = [
    { type: 'listing.created', data: listing },
    { type: 'listing.updated', data: { ...listing, title: 'Lastenrad, blau', version: 2 } },
    { type: 'listing.moved', data: { id: 'l1', location: point(13.41, 52.51), version: 3 } },
    { type: 'listing.paused', data: { id: 'l1', version: 4 } },
    { type: 'listing.resumed', data: { id: 'l1', version: 5 } },
    { type: 'listing.closed', data: { id: 'l1', version: 6 } },
  ];

  it.each(events.map((e) => [e.type, e] as const))('%s: decodes what it encodes; key and subject are the listing id', (_type, event) => {
    const { key, value, envelope } = listingsTopic.encode(event);
    expect(key).toBe('l1');
    expect(envelope).toMatchObject({ source: 'storage', subject: 'l1', type: event.type });
    expect(listingsTopic.decode(Buffer.from(value))).toEqual({ ok: true, value: { eventId: envelope.id, time: envelope.time, event } });
  });

  it('the mover writes moves under its own source', () => {
    expect(listingsTopic.encode(events[2]!, { source: 'mover' }).envelope.source).toBe('mover');
  });

  it('a move carries a point on the globe and a version from 1', () => {
    const moved = listingEventSchemas['listing.moved'];
    expect(moved.safeParse({ id: 'l1', location: point(13.4, 52.5), version: 2 }).success).toBe(true);
    expect(moved.safeParse({ id: 'l1', location: point(200, 52.5), version: 2 }).success).toBe(false);
    expect(moved.safeParse({ id: 'l1', location: point(13.4, 52.5), version: 0 }).success).toBe(false);
  });

  it('rejects a listing of an unknown kind and an event type it does not know, naming the field', () => {
    const bad = JSON.parse(listingsTopic.encode({ type: 'listing.created', data: listing }).value);
    expect(listingsTopic.decode(Buffer.from(JSON.stringify({ ...bad, data: { ...listing, kind: 'swap' } })))).toMatchObject({ ok: false, errors: [{ field: 'data.kind' }] });
    expect(listingsTopic.decode(Buffer.from(JSON.stringify({ ...bad, type: 'listing.deleted' })))).toMatchObject({ ok: false, errors: [{ field: 'type' }] });
  });
});
