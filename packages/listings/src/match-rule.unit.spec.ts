import { greatCircleDistance } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { destination, EARTH_RADIUS_M, haversineM, type Listing, matchRule, type NoMatchReason, point } from './index.ts';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const BERLIN = point(13.405, 52.52);

function search(change: Partial<Listing> = {}): Listing {
  return {
    id: 's1',
    kind: 'search',
    ownerId: 'alice',
    title: 'Fahrräder',
    tags: ['Kinder'],
    location: BERLIN,
    radiusM: 1_000,
    follow: true,
    status: 'active',
    imageIds: [],
    version: 1,
    ...change,
  };
}

function offer(change: Partial<Listing> = {}): Listing {
  return {
    id: 'o1',
    kind: 'offer',
    ownerId: 'bob',
    title: 'Zwei Kinder-fahrrader',
    description: 'gut erhalten',
    tags: ['blau'],
    location: destination(BERLIN, 500, 1),
    radiusM: 2_000,
    follow: false,
    status: 'active',
    imageIds: [],
    version: 1,
    ...change,
  };
}

const at = (distanceM: number) => destination(BERLIN, distanceM, 2.1);

type Row = [name: string, search: Partial<Listing>, offer: Partial<Listing>, expected: true | NoMatchReason];

describe('matchRule', () => {
  it.each<Row>([
    ['a search and an offer that fit', {}, {}, true],
    ['just inside the search radius (the smaller)', { radiusM: 1_000 }, { radiusM: 2_000, location: at(999.99) }, true],
    ['just outside the search radius (the smaller)', { radiusM: 1_000 }, { radiusM: 2_000, location: at(1_000.01) }, 'too-far'],
    ['just inside the offer radius (the smaller)', { radiusM: 2_000 }, { radiusM: 1_000, location: at(999.99) }, true],
    ['just outside the offer radius (the smaller)', { radiusM: 2_000 }, { radiusM: 1_000, location: at(1_000.01) }, 'too-far'],
    ['inside the larger radius is not enough', { radiusM: 5_000 }, { radiusM: 500, location: at(700) }, 'too-far'],
    ['at the same place', {}, { location: BERLIN }, true],
    ['every query term present', { title: 'Fahrrad', tags: ['blau'] }, { title: 'Fahrrad', tags: ['Blau', 'rot'] }, true],
    ['one query term missing', { title: 'Fahrrad', tags: ['grün'] }, { title: 'Fahrrad', tags: ['blau'] }, 'missing-term'],
    ['query terms found in the description', { title: 'erhalten' }, {}, true],
    ['the offer may have more terms', { title: 'Fahrrader', tags: [] }, {}, true],
    ['diacritics and case: "Fahrräder" finds "fahrrader"', { title: 'Fahrräder', tags: [] }, { title: 'fahrrader', tags: [] }, true],
    ['diacritics and case: "FAHRRADER" finds "Fahrräder"', { title: 'FAHRRADER', tags: [] }, { title: 'Fahrräder', tags: [] }, true],
    ['English stop words are not required', { title: 'The bike for the kids', tags: [] }, { title: 'Kids bike', tags: [] }, true],
    ['German stop words are not required', { title: 'Ein Fahrrad und ein Helm', tags: [] }, { title: 'Helm, Fahrrad', tags: [] }, true],
    ['a word is not a prefix match', { title: 'Fahrrad', tags: [] }, { title: 'Fahrradhelm', tags: [] }, 'missing-term'],
    ['a search of stop words only matches nothing', { title: 'the und', tags: [] }, {}, 'missing-term'],
    ['same owner', { ownerId: 'bob' }, { ownerId: 'bob' }, 'same-owner'],
    ['paused search', { status: 'paused' }, {}, 'search-not-active'],
    ['paused offer', {}, { status: 'paused' }, 'offer-not-active'],
    ['closed search', { status: 'closed' }, {}, 'search-not-active'],
    ['closed offer', {}, { status: 'closed' }, 'offer-not-active'],
    ['expired search', { expiresAt: '2025-06-01T11:59:59Z' }, {}, 'search-expired'],
    ['expired offer', {}, { expiresAt: '2025-06-01T11:00:00Z' }, 'offer-expired'],
    ['expiring now counts as expired', {}, { expiresAt: '2025-06-01T12:00:00Z' }, 'offer-expired'],
    ['expiring later', { expiresAt: '2025-06-01T12:00:01Z' }, { expiresAt: '2026-01-01T00:00:00Z' }, true],
  ])('%s', (_name, searchChange, offerChange, expected) => {
    const outcome = matchRule(search(searchChange), offer(offerChange), NOW);
    if (expected === true) expect(outcome).toMatchObject({ match: true });
    else expect(outcome).toEqual({ match: false, reason: expected });
  });

  it('gives the distance of a match', () => {
    const o = offer({ location: at(321) });
    expect(matchRule(search(), o, NOW)).toEqual({ match: true, distanceM: haversineM(BERLIN, o.location) });
    expect(haversineM(BERLIN, o.location)).toBeCloseTo(321, 6);
  });

  it('takes the search first and the offer second', () => {
    expect(matchRule(offer(), search(), NOW)).toEqual({ match: false, reason: 'not-a-search' });
    expect(matchRule(search(), search({ id: 's2', ownerId: 'bob' }), NOW)).toEqual({ match: false, reason: 'not-an-offer' });
  });
});

describe('haversineM', () => {
  it('measures known distances', () => {
    // A quarter of a great circle: pole to equator.
    expect(haversineM(point(0, 90), point(40, 0))).toBeCloseTo((Math.PI / 2) * EARTH_RADIUS_M, 6);
    // Berlin to Munich (≈ 503 km), against H3's great-circle distance (its Earth radius differs by 1.6 m).
    const expected = greatCircleDistance([52.5163, 13.3777], [48.1374, 11.5755], 'm');
    expect(Math.abs(haversineM(point(13.3777, 52.5163), point(11.5755, 48.1374)) / expected - 1)).toBeLessThan(1e-6);
    expect(haversineM(BERLIN, BERLIN)).toBe(0);
    // A degree of latitude is ≈ 111.2 km on the mean sphere.
    expect(haversineM(point(0, 0), point(0, 1))).toBeCloseTo(111_195, 0);
  });
});
