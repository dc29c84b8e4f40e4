import { describe, expect, it } from 'vitest';
import { point, type Listing } from '@pushtech/listings';
import { createFollowingListings } from './following-listings.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const listing = (id: string, ownerId: string, patch: Partial<Listing> = {}): Listing => ({
  id, kind: 'search', ownerId, title: 'bike', tags: [], location: point(13.4, 52.5), radiusM: 500,
  follow: true, status: 'active', imageIds: [], version: 1, ...patch,
});
const ids = (listings: Listing[]) => listings.map((l) => l.id).sort();

describe('following listings', () => {
  it('holds the following, not closed listings of the projection by owner; answers the active, unexpired ones', () => {
    const held = createFollowingListings();
    held.load(listing('a1', 'alice'));
    held.load(listing('a2', 'alice', { status: 'paused' }));
    held.load(listing('a3', 'alice', { follow: false }));
    held.load(listing('a4', 'alice', { expiresAt: '2026-06-01T11:59:59Z' }));
    held.load(listing('a5', 'alice', { expiresAt: '2026-06-01T12:00:01Z' }));
    held.load(listing('b1', 'bob'));
    expect(ids(held.activeOf('alice', NOW))).toEqual(['a1', 'a5']);
    expect(ids(held.activeOf('bob', NOW))).toEqual(['b1']);
    expect(held.activeOf('carol', NOW)).toEqual([]);
    expect(held.size()).toBe(5); // a paused or expired listing is held: it may resume or be extended
  });

  it('follows the log: created, moved, paused, resumed, closed; an old version changes nothing', () => {
    const held = createFollowingListings();
    held.apply({ type: 'listing.created', data: listing('a1', 'alice') });
    held.apply({ type: 'listing.moved', data: { id: 'a1', location: point(13.5, 52.6), version: 2 } });
    held.apply({ type: 'listing.moved', data: { id: 'a1', location: point(0, 0), version: 2 } }); // a duplicate version
    expect(held.activeOf('alice', NOW)[0]).toMatchObject({ location: point(13.5, 52.6), version: 2 });
    held.apply({ type: 'listing.paused', data: { id: 'a1', version: 3 } });
    expect(held.activeOf('alice', NOW)).toEqual([]);
    held.apply({ type: 'listing.resumed', data: { id: 'a1', version: 4 } });
    expect(ids(held.activeOf('alice', NOW))).toEqual(['a1']);
    held.apply({ type: 'listing.closed', data: { id: 'a1', version: 5 } });
    expect(held.activeOf('alice', NOW)).toEqual([]);
    expect(held.size()).toBe(0);
  });

  it('starts or stops holding a listing when an update turns follow on or off', () => {
    const held = createFollowingListings();
    held.apply({ type: 'listing.created', data: listing('a1', 'alice', { follow: false }) });
    held.apply({ type: 'listing.moved', data: { id: 'a1', location: point(1, 1), version: 2 } }); // not held: ignored
    expect(held.size()).toBe(0);
    held.apply({ type: 'listing.updated', data: listing('a1', 'alice', { version: 3 }) });
    expect(ids(held.activeOf('alice', NOW))).toEqual(['a1']);
    held.apply({ type: 'listing.updated', data: listing('a1', 'alice', { follow: false, version: 4 }) });
    expect(held.activeOf('alice', NOW)).toEqual([]);
    expect(held.size()).toBe(0);
  });

  it('keeps the newer of the projection and the log', () => {
    const held = createFollowingListings();
    held.apply({ type: 'listing.moved', data: { id: 'a1', location: point(2, 2), version: 9 } });
    held.load(listing('a1', 'alice', { version: 8 }));
    held.apply({ type: 'listing.moved', data: { id: 'a1', location: point(3, 3), version: 8 } });
    expect(held.activeOf('alice', NOW)[0]).toMatchObject({ version: 8, location: point(13.4, 52.5) });
    held.load(listing('a1', 'alice', { version: 7 }));
    expect(held.activeOf('alice', NOW)[0]!.version).toBe(8);
  });
});
