import { EARTH_RADIUS_M } from '@pushtech/listings';

/**
 * Distances in the index are compared as squared chords between unit vectors:
 * no trigonometry per candidate. The chord of a great-circle distance d is
 * 2·sin(d / 2R), which grows with d, so "distance ≤ r" is "chord² ≤ chord(r)²".
 */

const RAD = Math.PI / 180;

/** Writes the unit vector of (lng, lat) at `out[offset..offset+2]`. */
export function writeUnitVector(out: Float64Array, offset: number, lng: number, lat: number): void {
  const phi = lat * RAD;
  const lambda = lng * RAD;
  const cosPhi = Math.cos(phi);
  out[offset] = cosPhi * Math.cos(lambda);
  out[offset + 1] = cosPhi * Math.sin(lambda);
  out[offset + 2] = Math.sin(phi);
}

/** The chord of a great-circle distance in metres (on the unit sphere). */
export function chordOf(distanceM: number): number {
  return 2 * Math.sin(Math.min(distanceM / EARTH_RADIUS_M, Math.PI) / 2);
}

/** The great-circle distance in metres of a squared chord. */
export function metresOfChordSq(chordSq: number): number {
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(chordSq) / 2));
}

/** Bound on the rounding of one float32 coordinate of magnitude ≤ 1, with room: √3 components, 2^-24 each. */
const FLOAT32_POSITION = 1.01 * Math.sqrt(3) * 2 ** -24;

/**
 * How far a squared chord computed from a posting record may be from the exact
 * one, for a query of squared-chord radius `qThreshold` and a record in a cell of
 * reach (circumradius chord) `cellReach`. Records keep positions as float32
 * offsets from the cell centre (each coordinate off by at most its magnitude
 * × 2^-24, and offsets are at most the cell's reach) and radii as float32
 * (relative 2^-24); the haversine and chord formulas differ by ~1e-15 relative.
 * With d the distance and ε the position error, |d̂² − d²| ≤ 2dε + ε², and near
 * the threshold d ≤ √qThreshold: outside this margin the chord decides, inside
 * it the match rule's haversine does.
 */
export function recordMargin(qThreshold: number, cellReach: number): number {
  const epsilon = cellReach * FLOAT32_POSITION + 1e-15;
  return qThreshold * 2 ** -20 + 4 * epsilon * Math.sqrt(qThreshold) + 4 * epsilon * epsilon;
}
