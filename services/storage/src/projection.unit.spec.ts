import { describe, expect, it } from 'vitest';
import { RECENT_EVENT_IDS, type MatchEvent, type Recorded } from '@pushtech/contracts';
import { offerTerms, point, type Listing, type ListingEvent } from '@pushtech/listings';
import { evolveListingDocument, toListing, type ListingDocument } from './listing-document.ts';
import { evolveMatchDocument, type MatchDocument } from './match-document.ts';

let n = 0;
const recorded = <E>(event: E, eventId = `e${++n}`): Recorded<E> => ({ eventId, time: `2025-06-01T12:00:${String(n % 60).padStart(2, '0')}Z`, event });
const fold = (records: Recorded<ListingEvent>[]) => records.reduce<ListingDocument | null>(evolveListingDocument, null);

const listing: Listing = {
  id: 'l1', kind: 'offer', ownerId: 'alice', title: 'Rotes Fahrrad', description: 'gut erhalten', tags: ['Kinder'],
  location: point(13.405, 52.52), radiusM: 1_000, follow: false, status: 'active', imageIds: [], version: 1,
};
const created = recorded<ListingEvent>({ type: 'listing.created', data: listing });
const moved = recorded<ListingEvent>({ type: 'listing.moved', data: { id: 'l1', location: point(13.41, 52.53), version: 2 } });
const paused = recorded<ListingEvent>({ type: 'listing.paused', data: { id: 'l1', version: 3 } });

describe('listing projection', () => {
  it('stores the listing with its terms and the applied event ids', () => {
    const doc = fold([created])!;
    expect(doc).toMatchObject({ _id: 'l1', ...listing, terms: offerTerms(listing), eventIds: [created.eventId] });
    expect(toListing(doc)).toEqual(listing);
  });

  it('follows moves and status changes', () => {
    const doc = fold([created, moved, paused])!;
    expect(toListing(doc)).toEqual({ ...listing, location: point(13.41, 52.53), status: 'paused', version: 3 });
    expect(doc.eventIds).toEqual([created.eventId, moved.eventId, paused.eventId]);
  });

  it('the same event twice changes nothing', () => {
    const doc = fold([created, moved]);
    expect(evolveListingDocument(doc, moved)).toBe(doc);
    expect(evolveListingDocument(doc, created)).toBe(doc);
  });

  it('an old version changes nothing, even as a different event', () => {
    const doc = fold([created, moved, paused]);
    const stale = recorded<ListingEvent>({ type: 'listing.updated', data: { ...listing, title: 'Alt', version: 2 } });
    expect(evolveListingDocument(doc, stale)).toBe(doc);
    const sameVersion = recorded<ListingEvent>({ type: 'listing.resumed', data: { id: 'l1', version: 3 } });
    expect(evolveListingDocument(doc, sameVersion)).toBe(doc);
  });

  it('an event for a listing never created changes nothing', () => {
    expect(evolveListingDocument(null, moved)).toBeNull();
  });

  it('remembers the latest event ids only', () => {
    const records = [created, ...Array.from({ length: 30 }, (_, i) => recorded<ListingEvent>({ type: 'listing.moved', data: { id: 'l1', location: point(13 + i / 100, 52), version: i + 2 } }))];
    const doc = fold(records)!;
    expect(doc.eventIds).toEqual(records.slice(-RECENT_EVENT_IDS).map((r) => r.eventId));
  });
});

describe('match projection', () => {
  const data = { searchId: 's1', offerId: 'o1', searchOwnerId: 'alice', offerOwnerId: 'bob', distanceM: 120, searchVersion: 2, offerVersion: 3 };
  const found = recorded<MatchEvent>({ type: 'match.found', data });
  const doc = evolveMatchDocument(null, found) as MatchDocument;

  it('match.found makes a current pair with its distance', () => {
    expect(doc).toEqual({ _id: 's1|o1', pair: 's1|o1', ...data, state: 'found', eventIds: [found.eventId], decidedAt: found.time });
  });

  it('match.lost marks the pair lost', () => {
    const lost = recorded<MatchEvent>({ type: 'match.lost', data: { ...data, distanceM: 0, searchVersion: 3 } });
    expect(evolveMatchDocument(doc, lost)).toMatchObject({ state: 'lost', searchVersion: 3, eventIds: [found.eventId, lost.eventId] });
  });

  it('a decision on the same versions applies in log order (a listing expired)', () => {
    const lost = recorded<MatchEvent>({ type: 'match.lost', data });
    expect(evolveMatchDocument(doc, lost)).toMatchObject({ state: 'lost' });
  });

  it('the same event twice changes nothing', () => {
    expect(evolveMatchDocument(doc, found)).toBe(doc);
  });

  it('a decision on older versions changes nothing', () => {
    const old = recorded<MatchEvent>({ type: 'match.lost', data: { ...data, searchVersion: 1 } });
    expect(evolveMatchDocument(doc, old)).toBe(doc);
    const older = recorded<MatchEvent>({ type: 'match.lost', data: { ...data, searchVersion: 1, offerVersion: 1 } });
    expect(evolveMatchDocument(doc, older)).toBe(doc);
  });

  it('a decision on incomparable versions applies (newer search, older offer)', () => {
    const other = recorded<MatchEvent>({ type: 'match.lost', data: { ...data, searchVersion: 5, offerVersion: 1 } });
    expect(evolveMatchDocument(doc, other)).toMatchObject({ state: 'lost', searchVersion: 5, offerVersion: 1 });
  });
});
