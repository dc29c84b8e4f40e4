/** Distances, ages and places as the pages show them. */

export function formatDistance(metres: number): string {
  if (metres < 1000) return `${Math.round(metres / 10) * 10} m`;
  const km = metres / 1000;
  return km < 10 && Math.round(km * 10) % 10 !== 0 ? `${km.toFixed(1)} km` : `${Math.round(km)} km`;
}

/** A listing's id is a UUIDv7: its first 48 bits are when it was made (ms since 1970). */
export function createdAt(id: string): Date | undefined {
  const hex = id.replaceAll('-', '').slice(0, 12);
  return /^[0-9a-f]{12}$/.test(hex) ? new Date(Number.parseInt(hex, 16)) : undefined;
}

export function formatAge(since: Date | undefined, now = Date.now()): string {
  if (since === undefined) return '';
  const minutes = Math.max(0, Math.floor((now - since.getTime()) / 60_000));
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres (the match rule's haversine). */
export function haversineM(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}

export interface Point {
  lat: number;
  lng: number;
}

/** A few cities by name; anything else is typed as "lat, lng" (the site has no geocoder). */
const PLACES: Record<string, Point> = {
  amsterdam: { lat: 52.3676, lng: 4.9041 }, barcelona: { lat: 41.3874, lng: 2.1686 }, berlin: { lat: 52.52, lng: 13.405 },
  brussels: { lat: 50.8503, lng: 4.3517 }, cologne: { lat: 50.9375, lng: 6.9603 }, copenhagen: { lat: 55.6761, lng: 12.5683 },
  dublin: { lat: 53.3498, lng: -6.2603 }, frankfurt: { lat: 50.1109, lng: 8.6821 }, hamburg: { lat: 53.5511, lng: 9.9937 },
  lisbon: { lat: 38.7223, lng: -9.1393 }, london: { lat: 51.5072, lng: -0.1276 }, lyon: { lat: 45.764, lng: 4.8357 },
  madrid: { lat: 40.4168, lng: -3.7038 }, milan: { lat: 45.4642, lng: 9.19 }, munich: { lat: 48.1351, lng: 11.582 },
  'new york': { lat: 40.7128, lng: -74.006 }, oslo: { lat: 59.9139, lng: 10.7522 }, paris: { lat: 48.8566, lng: 2.3522 },
  prague: { lat: 50.0755, lng: 14.4378 }, rome: { lat: 41.9028, lng: 12.4964 }, stockholm: { lat: 59.3293, lng: 18.0686 },
  vienna: { lat: 48.2082, lng: 16.3738 }, warsaw: { lat: 52.2297, lng: 21.0122 }, zurich: { lat: 47.3769, lng: 8.5417 },
};

/** "Berlin", "52.52, 13.405" or "52.52 13.405": the point, or undefined. */
export function parsePlace(text: string): Point | undefined {
  const named = PLACES[text.trim().toLowerCase()];
  if (named !== undefined) return named;
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (match === null) return undefined;
  const lat = Number(match[1]);
  const lng = Number(match[2]);
  return Math.abs(lat) <= 90 && Math.abs(lng) <= 180 ? { lat, lng } : undefined;
}

export const PLACE_RULE = 'must be a city name (such as Berlin) or "latitude, longitude" (such as 52.52, 13.40)';

export function formatPoint({ lat, lng }: Point): string {
  return `${lat.toFixed(5)}, ${lng.toFixed(5)}`;
}
