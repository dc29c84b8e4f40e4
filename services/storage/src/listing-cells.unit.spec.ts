import { describe, expect, it } from 'vitest';
import { cellFor, parentCell, point } from '@pushtech/listings';
import { NEARBY_RESOLUTION, OCCUPANCY_RESOLUTION, placeOf } from './listing-cells.ts';

const doc = { kind: 'offer' as const, status: 'active' as const, location: point(13.405, 52.52), version: 7, terms: ['rotes', 'fahrrad'] };

describe('placeOf', () => {
  it('an active listing: the cells document of its kind and cell, an entry with version, place, expiry and terms', () => {
    const cell = cellFor(doc.location, NEARBY_RESOLUTION);
    expect(placeOf({ ...doc, expiresAt: '2030-01-01T00:00:00.000Z' })).toEqual({
      cellsId: `offer:${cell}`,
      cell,
      occupancyId: `offer:occupied:${parentCell(cell, OCCUPANCY_RESOLUTION)}`,
      entry: `7 13.405 52.52 ${Date.parse('2030-01-01T00:00:00.000Z')} rotes fahrrad`,
    });
  });

  it('the occupancy document is the coarse cell holding the listing\'s cell, and the same for every cell under it', () => {
    const place = placeOf(doc)!;
    expect(cellFor(doc.location, OCCUPANCY_RESOLUTION)).toBe(place.occupancyId.split(':')[2]);
    const near = placeOf({ ...doc, location: point(13.43, 52.53) })!;
    expect(near.cell).not.toBe(place.cell);
    expect(near.occupancyId).toBe(place.occupancyId);
  });

  it('no expiry is "-"; a search goes to the searches of the same cell', () => {
    expect(placeOf({ ...doc, kind: 'search', terms: [] })).toMatchObject({ cellsId: `search:${cellFor(doc.location, NEARBY_RESOLUTION)}`, entry: '7 13.405 52.52 -' });
    expect(placeOf({ ...doc, kind: 'search', terms: [] })!.occupancyId).toMatch(/^search:occupied:/);
  });

  it('a paused or closed listing, or none, is nowhere', () => {
    expect(placeOf({ ...doc, status: 'paused' })).toBeNull();
    expect(placeOf({ ...doc, status: 'closed' })).toBeNull();
    expect(placeOf(null)).toBeNull();
  });
});
