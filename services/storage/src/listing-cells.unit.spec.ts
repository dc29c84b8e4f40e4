import { describe, expect, it } from 'vitest';
import { cellFor, point } from '@pushtech/listings';
import { NEARBY_RESOLUTION, placeOf } from './listing-cells.ts';

const doc = { kind: 'offer' as const, status: 'active' as const, location: point(13.405, 52.52), version: 7, terms: ['rotes', 'fahrrad'] };

describe('placeOf', () => {
  it('an active listing: the cells document of its kind and cell, an entry with version, place, expiry and terms', () => {
    expect(placeOf({ ...doc, expiresAt: '2030-01-01T00:00:00.000Z' })).toEqual({
      cellsId: `offer:${cellFor(doc.location, NEARBY_RESOLUTION)}`,
      entry: `7 13.405 52.52 ${Date.parse('2030-01-01T00:00:00.000Z')} rotes fahrrad`,
    });
  });

  it('no expiry is "-"; a search goes to the searches of the same cell', () => {
    expect(placeOf({ ...doc, kind: 'search', terms: [] })).toEqual({ cellsId: `search:${cellFor(doc.location, NEARBY_RESOLUTION)}`, entry: '7 13.405 52.52 -' });
  });

  it('a paused or closed listing, or none, is nowhere', () => {
    expect(placeOf({ ...doc, status: 'paused' })).toBeNull();
    expect(placeOf({ ...doc, status: 'closed' })).toBeNull();
    expect(placeOf(null)).toBeNull();
  });
});
