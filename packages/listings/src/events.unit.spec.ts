import { describe, expect, it } from 'vitest';
import { evolveListing, type Listing, type ListingEvent, point } from './index.ts';

const listing: Listing = {
  id: 'l1',
  kind: 'search',
  ownerId: 'alice',
  title: 'Fahrrad',
  tags: [],
  location: point(13.4, 52.5),
  radiusM: 1_000,
  follow: true,
  status: 'active',
  imageIds: [],
  version: 1,
};

const fold = (events: ListingEvent[]) => events.reduce<Listing | null>(evolveListing, null);

describe('evolveListing', () => {
  it('creates, moves, pauses, resumes and closes', () => {
    const moved = point(13.41, 52.5);
    expect(fold([{ type: 'listing.created', data: listing }])).toEqual(listing);
    expect(fold([{ type: 'listing.created', data: listing }, { type: 'listing.moved', data: { id: 'l1', location: moved, version: 2 } }])).toEqual({
      ...listing,
      location: moved,
      version: 2,
    });
    const paused = fold([{ type: 'listing.created', data: listing }, { type: 'listing.paused', data: { id: 'l1', version: 2 } }]);
    expect(paused).toMatchObject({ status: 'paused', version: 2 });
    expect(evolveListing(paused, { type: 'listing.resumed', data: { id: 'l1', version: 3 } })).toMatchObject({ status: 'active', version: 3 });
  });

  it('replaces the listing on an update', () => {
    const updated = { ...listing, title: 'Lastenrad', radiusM: 3_000, version: 2 };
    expect(fold([{ type: 'listing.created', data: listing }, { type: 'listing.updated', data: updated }])).toEqual(updated);
  });

  it('ignores events not newer than the listing (duplicates, replays)', () => {
    const created = fold([{ type: 'listing.created', data: { ...listing, version: 3 } }]);
    expect(evolveListing(created, { type: 'listing.paused', data: { id: 'l1', version: 3 } })).toBe(created);
    expect(evolveListing(created, { type: 'listing.moved', data: { id: 'l1', location: point(0, 0), version: 2 } })).toBe(created);
    expect(evolveListing(created, { type: 'listing.created', data: listing })).toBe(created);
  });

  it('keeps a closed listing closed', () => {
    const closed = fold([{ type: 'listing.created', data: listing }, { type: 'listing.closed', data: { id: 'l1', version: 2 } }]);
    expect(closed).toMatchObject({ status: 'closed' });
    expect(evolveListing(closed, { type: 'listing.resumed', data: { id: 'l1', version: 3 } })).toMatchObject({ status: 'closed', version: 3 });
  });

  it('ignores events about a listing it never saw', () => {
    expect(evolveListing(null, { type: 'listing.moved', data: { id: 'l1', location: point(0, 0), version: 2 } })).toBeNull();
  });
});
