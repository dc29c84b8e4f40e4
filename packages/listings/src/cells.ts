import { cellToBoundary, cellToLatLng, getHexagonEdgeLengthAvg, gridRing, latLngToCell } from 'h3-js';
import { haversineM } from './geo.ts';
import { point, type Point } from './listing.ts';

/**
 * H3 resolutions stored with every listing (field `cells`, a multikey index in
 * Mongo). Average edge lengths: 5 ≈ 9.9 km, 6 ≈ 3.7 km, 7 ≈ 1.4 km,
 * 8 ≈ 530 m, 9 ≈ 200 m. A radius query uses the coarsest of them whose edge is
 * at most half the radius, so its covering is 11–51 cells for any radius from
 * 400 m to 20 km (the reference workload has 500–5,000 m): few enough for one
 * `$in`, tight enough that few listings outside the circle come back. Smaller
 * and larger radii still work, with more area or more cells. Each resolution
 * is a factor ~2.65 in edge length; five strings a listing are cheap.
 */
export const CELL_RESOLUTIONS = [5, 6, 7, 8, 9] as const;
export type CellResolution = (typeof CELL_RESOLUTIONS)[number];

const FINEST = CELL_RESOLUTIONS[CELL_RESOLUTIONS.length - 1]!;

/** The cell containing `location` at `resolution`. */
export function cellFor(location: Point, resolution: number): string {
  const [lng, lat] = location.coordinates;
  return latLngToCell(lat, lng, resolution);
}

/** The cells of `location` at every resolution of CELL_RESOLUTIONS, coarse to fine. */
export function cellsFor(location: Point): string[] {
  return CELL_RESOLUTIONS.map((resolution) => cellFor(location, resolution));
}

/** The coarsest stored resolution whose average edge is at most half of `radiusM` (the finest for small radii). */
export function resolutionFor(radiusM: number): CellResolution {
  for (const resolution of CELL_RESOLUTIONS) {
    if (getHexagonEdgeLengthAvg(resolution, 'm') <= radiusM / 2) return resolution;
  }
  return FINEST;
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

export interface Covering {
  resolution: CellResolution;
  cells: string[];
}

/**
 * Cells of one resolution that together cover the circle of `radiusM` around
 * `location`: the grid disk around the location's cell, grown ring by ring until
 * a ring has no cell that can reach the circle, keeping only the cells that can
 * (centre within radius + the cell's circumradius of the location). The cells
 * meeting a circle are connected, so none lies beyond a ring that has none of
 * them; this needs no assumption about the shape of H3's (distorted) hexagons.
 * Candidates found through the cells still need the exact distance check.
 */
export function coveringCells(location: Point, radiusM: number, resolution: CellResolution = resolutionFor(radiusM)): Covering {
  const origin = cellFor(location, resolution);
  const cells = [origin];
  for (let k = 1; ; k++) {
    const reaching = gridRing(origin, k).filter((cell) => haversineM(location, cellCentre(cell)) <= radiusM + cellReachM(cell));
    if (reaching.length === 0) return { resolution, cells };
    cells.push(...reaching);
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
