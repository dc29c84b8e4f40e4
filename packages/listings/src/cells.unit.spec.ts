import { seededRandom } from '@pushtech/random';
import { cellToParent, getResolution } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { CELL_RESOLUTIONS, cellFor, cellsFor, coveringCells, destination, haversineM, point, resolutionFor } from './index.ts';

describe('cellsFor', () => {
  it('gives one cell a resolution, coarse to fine, each inside the coarser', () => {
    const cells = cellsFor(point(13.405, 52.52));
    expect(cells.map(getResolution)).toEqual([...CELL_RESOLUTIONS]);
    for (let i = 1; i < cells.length; i++) expect(cellToParent(cells[i]!, CELL_RESOLUTIONS[i - 1]!)).toBe(cells[i - 1]);
  });
});

describe('resolutionFor', () => {
  it.each([
    [50, 9],
    [500, 9],
    [1_000, 9],
    [1_100, 8],
    [3_000, 7],
    [5_000, 7],
    [7_500, 6],
    [25_000, 5],
    [200_000, 5],
  ])('radius %i m → resolution %i', (radiusM, resolution) => {
    expect(resolutionFor(radiusM)).toBe(resolution);
  });
});

describe('coveringCells', () => {
  // Places with differently shaped cells: Berlin, the equator, the far north, the south, the date line.
  const places = [point(13.405, 52.52), point(-78.5, 0.2), point(25.8, 69.9), point(151.2, -33.9), point(179.99, -16.5)];

  it('covers the circle: every point within the radius falls in one of the covering cells', () => {
    const random = seededRandom(20250601);
    let checked = 0;
    for (let circle = 0; circle < 300; circle++) {
      const base = places[circle % places.length]!;
      const centre = destination(base, random() * 20_000, random() * 2 * Math.PI);
      const radiusM = 50 + random() * 30_000;
      const { resolution, cells } = coveringCells(centre, radiusM);
      const covering = new Set(cells);
      for (let i = 0; i < 200; i++) {
        // Half of the points on the circle itself (the hardest case), half anywhere inside it.
        const distanceM = i % 2 === 0 ? radiusM : radiusM * Math.sqrt(random());
        const p = destination(centre, distanceM, random() * 2 * Math.PI);
        expect(haversineM(centre, p)).toBeLessThanOrEqual(radiusM + 1e-6);
        const cell = cellFor(p, resolution);
        if (!covering.has(cell)) throw new Error(`circle ${circle}: point ${distanceM} m from the centre is in ${cell}, not covered`);
        checked++;
      }
    }
    expect(checked).toBe(60_000);
  });

  it('keeps the covering small: about the circle, not the whole disk', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 50; i++) {
      const radiusM = 400 + random() * 20_000;
      const { cells } = coveringCells(destination(places[0]!, random() * 20_000, random() * 6.28), radiusM);
      expect(cells.length).toBeGreaterThanOrEqual(9);
      expect(cells.length).toBeLessThanOrEqual(55);
    }
  });
});
