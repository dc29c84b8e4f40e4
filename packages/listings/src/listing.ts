/** A GeoJSON Point: `coordinates` is `[longitude, latitude]` in degrees (WGS 84). */
export interface Point {
  type: 'Point';
  coordinates: [lng: number, lat: number];
}

export type ListingKind = 'offer' | 'search';
export type ListingStatus = 'active' | 'paused' | 'closed';

/**
 * A search (someone looks for something) or an offer (someone has it), with a
 * place and a radius. A listing that `follow`s its owner moves with the owner's phone.
 */
export interface Listing {
  id: string;
  kind: ListingKind;
  ownerId: string;
  title: string;
  description?: string;
  tags: string[];
  location: Point;
  radiusM: number;
  follow: boolean;
  status: ListingStatus;
  imageIds: string[];
  /** RFC 3339. The listing is live while `now < expiresAt`; without it, it never expires. */
  expiresAt?: string;
  /** Bumped by every event that changes the listing; consumers ignore older versions. */
  version: number;
}

export function point(lng: number, lat: number): Point {
  return { type: 'Point', coordinates: [lng, lat] };
}

/** `expiresAt` as epoch milliseconds; `Infinity` when the listing never expires. */
export function expiresAtMs(listing: Pick<Listing, 'expiresAt'>): number {
  return listing.expiresAt === undefined ? Infinity : Date.parse(listing.expiresAt);
}

/** Active and not expired at `now` (epoch ms): the only listings that can match. */
export function isLive(listing: Pick<Listing, 'status' | 'expiresAt'>, now: number): boolean {
  return listing.status === 'active' && now < expiresAtMs(listing);
}
