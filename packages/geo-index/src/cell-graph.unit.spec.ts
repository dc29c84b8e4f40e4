import { destination, point } from '@pushtech/listings';
import { latLngToCell } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { createCellGraph } from './cell-graph.ts';
import { seededRandom } from '@pushtech/random';
import { chordOf, writeUnitVector } from './sphere.ts';

const places = [point(13.405, 52.52), point(-78.5, 0.2), point(25.8, 69.9), point(151.2, -33.9)];

describe('cell graph', () => {
  it('finds every cell a circle reaches', () => {
    const random = seededRandom(11);
    for (const resolution of [6, 7, 8]) {
      const graph = createCellGraph(resolution);
      for (let circle = 0; circle < 100; circle++) {
        const centre = destination(places[circle % places.length]!, random() * 20_000, random() * 6.3);
        const radiusM = 100 + random() * 6_000;
        const [lng, lat] = centre.coordinates;
        const v = new Float64Array(3);
        writeUnitVector(v, 0, lng, lat);
        const found = graph.within(graph.cellAt(lng, lat), v[0]!, v[1]!, v[2]!, chordOf(radiusM));
        const cells = new Set(Array.from(found.cells.subarray(0, found.count), graph.h3Of));
        for (let i = 0; i < 100; i++) {
          const distanceM = i % 2 === 0 ? radiusM : radiusM * Math.sqrt(random());
          const [pLng, pLat] = destination(centre, distanceM, random() * 6.3).coordinates;
          expect(cells.has(latLngToCell(pLat, pLng, resolution))).toBe(true);
        }
      }
    }
  });

  it('is right whenever it says a point is surely in a cell', () => {
    const random = seededRandom(12);
    const graph = createCellGraph(7);
    let sure = 0;
    for (let i = 0; i < 20_000; i++) {
      const origin = destination(places[i % places.length]!, random() * 20_000, random() * 6.3);
      const [lng, lat] = origin.coordinates;
      const cell = graph.cellAt(lng, lat);
      // A step of up to 2 km from a point of the cell: inside it, near its edge or beyond.
      const [qLng, qLat] = destination(origin, random() * 2_000, random() * 6.3).coordinates;
      const v = new Float64Array(3);
      writeUnitVector(v, 0, qLng, qLat);
      if (graph.surelyIn(cell, v[0]!, v[1]!, v[2]!)) {
        sure++;
        expect(graph.h3Of(cell)).toBe(latLngToCell(qLat, qLng, 7));
      }
    }
    expect(sure).toBeGreaterThan(5_000);
  });
});
