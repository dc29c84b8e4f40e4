import { describe, expect, it } from 'vitest';
import { listingEventSchemas, matchEventSchemas, point } from './index.ts';

describe('event schemas', () => {
  const match = { searchId: 's', offerId: 'o', searchOwnerId: 'ann', offerOwnerId: 'ben', distanceM: 120.5, searchVersion: 1, offerVersion: 3 };

  it('a match event names both owners: an empty owner id is refused', () => {
    expect(matchEventSchemas['match.found'].safeParse(match).success).toBe(true);
    expect(matchEventSchemas['match.lost'].safeParse({ ...match, offerOwnerId: '' }).success).toBe(false);
    expect(matchEventSchemas['match.found'].safeParse({ ...match, searchOwnerId: '' }).success).toBe(false);
  });

  it('a move carries a point on the globe and a version from 1', () => {
    const moved = listingEventSchemas['listing.moved'];
    expect(moved.safeParse({ id: 'l1', location: point(13.4, 52.5), version: 2 }).success).toBe(true);
    expect(moved.safeParse({ id: 'l1', location: point(200, 52.5), version: 2 }).success).toBe(false);
    expect(moved.safeParse({ id: 'l1', location: point(13.4, 52.5), version: 0 }).success).toBe(false);
  });
});
