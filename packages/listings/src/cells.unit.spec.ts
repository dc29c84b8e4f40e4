import { seededRandom } from '@pushtech/random';
import { cellArea } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { cellFor, coveringRings, destination, haversineM, point } from './index.ts';

describe('coveringRings', () => {
  // Places with differently shaped cells: Berlin, the equator, the far north, the south, the date line.
  const places = [point(13.405, 52.52), point(-78.5, 0.2), point(25.8, 69.9), point(151.2, -33.9), point(179.99, -16.5)];

  it('covers the circle ring by ring: each point within the radius is in one ring, no farther than its farthestM, no nearer than the beyondM of every ring before it', () => {
    const random = seededRandom(20250601);
    let checked = 0;
    for (let circle = 0; circle < 300; circle++) {
      const base = places[circle % places.length]!;
      const centre = destination(base, random() * 20_000, random() * 2 * Math.PI);
      const radiusM = 50 + random() * 30_000;
      const resolution = radiusM < 3_000 ? 8 : radiusM < 12_000 ? 7 : 6; // a few hundred cells at most
      const rings = [...coveringRings(centre, radiusM, resolution)];
      expect(rings.at(-1)!.beyondM).toBe(Infinity);
      const ringOf = new Map(rings.flatMap((ring, k) => ring.cells.map((cell) => [cell, k] as const)));
      for (let i = 0; i < 200; i++) {
        // Half of the points on the circle itself (the hardest case), half anywhere inside it.
        const distanceM = i % 2 === 0 ? radiusM : radiusM * Math.sqrt(random());
        const p = destination(centre, distanceM, random() * 2 * Math.PI);
        const d = haversineM(centre, p);
        expect(d).toBeLessThanOrEqual(radiusM + 1e-6);
        const cell = cellFor(p, resolution);
        const k = ringOf.get(cell);
        if (k === undefined) throw new Error(`circle ${circle}: point ${distanceM} m from the centre is in ${cell}, not covered`);
        expect(d).toBeLessThanOrEqual(rings[k]!.farthestM);
        for (let j = 0; j < k; j++) expect(d).toBeGreaterThanOrEqual(rings[j]!.beyondM);
        checked++;
      }
    }
    expect(checked).toBe(60_000);
  });

  it('keeps the covering about the circle: its cells hold no more than the circle widened by two cells', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 50; i++) {
      const radiusM = 400 + random() * 20_000;
      const centre = destination(places[0]!, random() * 20_000, random() * 6.28);
      const cells = [...coveringRings(centre, radiusM, 7)].flatMap((ring) => ring.cells);
      const cellAreaM2 = cellArea(cells[0]!, 'm2');
      const edgeM = Math.sqrt(cellAreaM2 / 2.598); // a regular hexagon's area is 2.598 edge²
      expect(cells.length * cellAreaM2).toBeLessThanOrEqual(Math.PI * (radiusM + 2 * edgeM) ** 2 * 1.1);
      expect(cells.length * cellAreaM2).toBeGreaterThanOrEqual(Math.PI * radiusM ** 2);
    }
  });

  it('puts the location\'s cell first and gives rings outwards: each beyondM at most the next ring\'s farthestM', () => {
    const centre = places[0]!;
    const rings = [...coveringRings(centre, 5_000, 7)];
    expect(rings[0]!.cells).toEqual([cellFor(centre, 7)]);
    expect(rings.length).toBeGreaterThan(2);
    for (let k = 0; k + 1 < rings.length; k++) expect(rings[k]!.beyondM).toBeLessThanOrEqual(rings[k + 1]!.farthestM);
  });
});
