import { point, type Point } from './listing.ts';

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/** Great-circle distance in metres between two points, by the haversine formula. */
export function haversineM(a: Point, b: Point): number {
  return haversineLngLatM(a.coordinates[0], a.coordinates[1], b.coordinates[0], b.coordinates[1]);
}

/** `haversineM` on bare degrees. */
export function haversineLngLatM(lng1: number, lat1: number, lng2: number, lat2: number): number {
  const sinDLat = Math.sin(((lat2 - lat1) * RAD) / 2);
  const sinDLng = Math.sin(((lng2 - lng1) * RAD) / 2);
  const h = sinDLat * sinDLat + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * sinDLng * sinDLng;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The point `distanceM` away from `from` along the initial bearing `bearingRad` (0 = north, clockwise). */
export function destination(from: Point, distanceM: number, bearingRad: number): Point {
  const [lng, lat] = from.coordinates;
  const delta = distanceM / EARTH_RADIUS_M;
  const phi1 = lat * RAD;
  const lambda1 = lng * RAD;
  const sinPhi2 = Math.sin(phi1) * Math.cos(delta) + Math.cos(phi1) * Math.sin(delta) * Math.cos(bearingRad);
  const phi2 = Math.asin(sinPhi2);
  const lambda2 =
    lambda1 + Math.atan2(Math.sin(bearingRad) * Math.sin(delta) * Math.cos(phi1), Math.cos(delta) - Math.sin(phi1) * sinPhi2);
  const lng2 = ((((lambda2 / RAD) + 540) % 360) - 180);
  return point(lng2, phi2 / RAD);
}
