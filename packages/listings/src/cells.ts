import { cellToBoundary, cellToLatLng, cellToParent, gridRing, latLngToCell } from 'h3-js';
import { haversineM } from './geo.ts';
import { point, type Point } from './listing.ts';

/** The cell containing `location` at `resolution`. */
export function cellFor(location: Point, resolution: number): string {
  const [lng, lat] = location.coordinates;
  return latLngToCell(lat, lng, resolution);
}

/** The cell of the coarser `resolution` that holds `cell`. */
export function parentCell(cell: string, resolution: number): string {
  return cellToParent(cell, resolution);
}

export function cellCentre(cell: string): Point {
  const [lat, lng] = cellToLatLng(cell);
  return point(lng, lat);
}

/** The largest distance from a cell's centre to its boundary, metres. */
export function cellCircumradiusM(cell: string): number {
  const centre = cellCentre(cell);
  let max = 0;
  for (const [lat, lng] of cellToBoundary(cell)) max = Math.max(max, haversineM(centre, point(lng, lat)));
  return max;
}

/** One ring of a covering: its cells, and distances that bound what they and the rings after it hold. */
export interface CoveringRing {
  /** The ring's cells that can hold a point within the radius (the first ring: the location's cell). */
  cells: string[];
  /** No point of these cells is farther from the location than this. */
  farthestM: number;
  /** No point within the radius that lies in a later ring is nearer than this (Infinity after the last ring). */
  beyondM: number;
}

/**
 * The cells of `resolution` that together cover the circle of `radiusM` around
 * `location`, ring by ring outwards from the location's cell: a nearest-first
 * reader can stop once it holds enough results nearer than `beyondM`. A ring
 * keeps only the cells that can reach the circle (centre within radius + the
 * cell's circumradius of the location); the cells meeting a circle are
 * connected, so none lies beyond a ring that has none of them. Every later
 * ring lies behind the next one (a path from the location out of a grid disk
 * crosses its next ring), so the nearest point of the next ring's reaching cells
 * bounds them all. Needs no assumption about the shape of H3's (distorted)
 * hexagons; results found through the cells still need the exact distance check.
 */
export function* coveringRings(location: Point, radiusM: number, resolution: number): Generator<CoveringRing> {
  const origin = cellFor(location, resolution);
  const span = (cell: string) => {
    const centreM = haversineM(location, cellCentre(cell));
    const reachM = cellReachM(cell);
    return { cell, nearestM: Math.max(0, centreM - reachM), farthestM: centreM + reachM };
  };
  let ring = [span(origin)];
  for (let k = 1; ; k++) {
    const next = gridRing(origin, k).map(span).filter((s) => s.nearestM <= radiusM);
    yield {
      cells: ring.map((s) => s.cell),
      farthestM: Math.max(...ring.map((s) => s.farthestM)),
      beyondM: next.length === 0 ? Infinity : Math.min(...next.map((s) => s.nearestM)),
    };
    if (next.length === 0) return;
    ring = next;
  }
}

/**
 * The circumradius of a cell with a margin for rounding: every point of the cell
 * is within it of the centre. (Cell edges are great-circle arcs, so the farthest
 * points from the centre are vertices.)
 */
export function cellReachM(cell: string): number {
  return cellCircumradiusM(cell) * 1.000_001 + 0.01;
}
