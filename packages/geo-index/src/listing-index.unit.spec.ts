import { destination, type Listing, type ListingEvent, point } from '@pushtech/listings';
import { type Random, seededRandom } from '@pushtech/random';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBruteForce } from './brute-force.ts';
import { createListingIndex } from './listing-index.ts';
import type { Match } from './match.ts';
import { moveStep, referenceListings } from './reference-workload.ts';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const LISTINGS = 100_000;

const byId = (a: Match, b: Match) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function expectSameMatches(index: ReturnType<typeof createListingIndex>, brute: ReturnType<typeof createBruteForce>, id: string): number {
  const expected = brute.matchesFor(id, NOW).sort(byId);
  const actual = index.matchesFor(id, NOW).sort(byId);
  expect(actual.map((m) => m.id), `matches of ${id}`).toEqual(expected.map((m) => m.id));
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]!.distanceM - expected[i]!.distanceM)).toBeLessThan(1e-6);
  return expected.length;
}

/**
 * The reference workload with what it lacks for a test of the rule: owners that
 * often meet (same-owner pairs), listings that expire before or after NOW,
 * paused ones, and a few hand-written titles with diacritics and stop words.
 */
function testListings(random: Random): Listing[] {
  const listings = [...referenceListings({ listings: LISTINGS, seed: 42, owners: 3_000 })];
  for (const listing of listings) {
    const r = random();
    if (r < 0.04) listing.expiresAt = new Date(NOW - 1 - random() * 86_400_000).toISOString();
    else if (r < 0.08) listing.expiresAt = new Date(NOW + 1 + random() * 86_400_000).toISOString();
    else if (r < 0.1) listing.status = 'paused';
  }
  const centre = point(13.405, 52.52);
  const words = ['Fahrräder', 'fahrrader', 'Die Fahrräder', 'FAHRRADER und Helm', 'Helm', 'the helm', ''];
  for (let i = 0; i < 400; i++) {
    listings.push({
      id: `hand-${i}`,
      kind: i % 2 === 0 ? 'offer' : 'search',
      ownerId: `hand-owner-${i % 7}`,
      title: words[i % words.length]!,
      tags: i % 3 === 0 ? ['Kinder'] : [],
      location: destination(centre, random() * 3_000, random() * 2 * Math.PI),
      radiusM: 500 + random() * 4_500,
      follow: true,
      status: 'active',
      imageIds: [],
      version: 1,
    });
  }
  return listings;
}

describe('listing index', () => {
  const random = seededRandom(7);
  const index = createListingIndex();
  const brute = createBruteForce();
  let listings: Listing[] = [];
  const current = new Map<string, Listing>();

  const apply = (event: ListingEvent) => {
    const changed = index.evolve(event);
    brute.apply(event);
    return changed;
  };
  const pick = () => listings[Math.floor(random() * listings.length)]!;

  beforeAll(() => {
    listings = testListings(random);
    for (const listing of listings) {
      apply({ type: 'listing.created', data: listing });
      current.set(listing.id, listing);
    }
  });

  it('holds every listing it was given', () => {
    expect(index.size()).toBe(listings.length);
  });

  it('finds exactly the matches of brute force', () => {
    let total = 0;
    for (let i = 0; i < 600; i++) total += expectSameMatches(index, brute, pick().id);
    for (let i = 0; i < 400; i++) total += expectSameMatches(index, brute, `hand-${i}`);
    expect(total).toBeGreaterThan(3_000); // the comparison is not vacuous
  }, 120_000);

  it('still does after moves, pauses, resumes, edits, closes and removals', () => {
    const touched: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const listing = current.get(pick().id);
      if (listing === undefined) continue;
      const version = listing.version + 1;
      const r = random();
      let next: Listing | undefined;
      let event: ListingEvent;
      if (r < 0.6) {
        // Mostly small steps; some jumps far enough to change cells.
        const location = r < 0.5 ? moveStep(listing.location, random) : destination(listing.location, random() * 5_000, random() * 6.3);
        next = { ...listing, location, version };
        event = { type: 'listing.moved', data: { id: listing.id, location, version } };
      } else if (r < 0.7) {
        next = { ...listing, status: listing.status === 'active' ? 'paused' : listing.status, version };
        event = { type: 'listing.paused', data: { id: listing.id, version } };
      } else if (r < 0.8) {
        next = { ...listing, status: listing.status === 'paused' ? 'active' : listing.status, version };
        event = { type: 'listing.resumed', data: { id: listing.id, version } };
      } else if (r < 0.9) {
        const other = pick();
        next = { ...listing, title: other.title, description: other.description, radiusM: other.radiusM, version };
        event = { type: 'listing.updated', data: next };
      } else if (r < 0.95) {
        event = { type: 'listing.closed', data: { id: listing.id, version } };
      } else {
        index.remove(listing.id);
        brute.remove(listing.id);
        current.delete(listing.id);
        touched.push(listing.id);
        continue;
      }
      expect(apply(event)).toBe(true);
      if (event.type === 'listing.closed') current.delete(listing.id);
      else current.set(listing.id, next!);
      touched.push(listing.id);
    }
    for (let i = 0; i < 1_000; i++) {
      const id = i % 2 === 0 ? touched[Math.floor(random() * touched.length)]! : pick().id;
      expectSameMatches(index, brute, id);
    }
    expect(index.size()).toBe(brute.size());
  }, 120_000);

  it('ignores events that are not newer than what it holds', () => {
    const listing = [...current.values()].find((l) => l.status === 'active' && l.kind === 'search')!;
    const stale = { id: listing.id, version: listing.version };
    expect(index.evolve({ type: 'listing.paused', data: stale })).toBe(false);
    expect(index.evolve({ type: 'listing.moved', data: { ...stale, location: point(0, 0) } })).toBe(false);
    expect(index.evolve({ type: 'listing.created', data: listing })).toBe(false);
    expect(index.evolve({ type: 'listing.closed', data: { id: 'never-seen', version: 9 } })).toBe(false);
    expectSameMatches(index, brute, listing.id);
  });
});

describe('listing index at the edge of a radius', () => {
  // Records keep positions as float32 offsets and radii as float32: near a
  // threshold the index must fall back to the rule's haversine, or it decides
  // differently from brute force for listings a hair inside or outside.
  it('decides exactly as the match rule', () => {
    const random = seededRandom(99);
    const index = createListingIndex();
    const brute = createBruteForce();
    const base = { title: 'bike', tags: [], follow: false, status: 'active' as const, imageIds: [], version: 1 };
    const searches: string[] = [];
    const offsets = [-1e-6, -1e-8, -1e-10, -1e-12, 0, 1e-12, 1e-10, 1e-8, 1e-6];
    for (let i = 0; i < 300; i++) {
      const location = destination(point(13.405, 52.52), random() * 20_000, random() * 6.3);
      const radiusM = 50 + random() * 5_000;
      const search: Listing = { ...base, id: `s${i}`, kind: 'search', ownerId: `a${i}`, location, radiusM };
      searches.push(search.id);
      for (const event of [{ type: 'listing.created' as const, data: search }]) {
        index.evolve(event);
        brute.apply(event);
      }
      offsets.forEach((offset, k) => {
        // The offer's own radius is the smaller one for odd k.
        const offerRadius = k % 2 === 1 ? radiusM * (1 - 1e-3) : radiusM * 2;
        const edge = Math.min(radiusM, offerRadius);
        const offer: Listing = {
          ...base,
          id: `o${i}-${k}`,
          kind: 'offer',
          ownerId: `b${i}`,
          location: destination(location, edge * (1 + offset), random() * 6.3),
          radiusM: offerRadius,
        };
        index.evolve({ type: 'listing.created', data: offer });
        brute.apply({ type: 'listing.created', data: offer });
      });
    }
    let matches = 0;
    for (const id of searches) matches += expectSameMatches(index, brute, id);
    for (let i = 0; i < 300; i++) for (let k = 0; k < offsets.length; k++) expectSameMatches(index, brute, `o${i}-${k}`);
    expect(matches).toBeGreaterThan(300);
  });
});

