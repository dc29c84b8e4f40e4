import type { Listing, Point } from './listing.ts';

/**
 * Listing events on topic `listings` (the `type` and `data` of the CloudEvents
 * envelope; `subject` is the listing id). Every event carries the version the
 * listing has after it, so a consumer applies an event only when it is newer
 * than what it holds: duplicates and replays are harmless.
 */
export type ListingEvent =
  /** A new listing, in full. */
  | { type: 'listing.created'; data: Listing }
  /** An edit (title, tags, radius, expiry, …): the listing in full after it. */
  | { type: 'listing.updated'; data: Listing }
  /** The owner of a following listing moved. */
  | { type: 'listing.moved'; data: { id: string; location: Point; version: number } }
  | { type: 'listing.paused'; data: { id: string; version: number } }
  | { type: 'listing.resumed'; data: { id: string; version: number } }
  /** Final: a closed listing never matches again. */
  | { type: 'listing.closed'; data: { id: string; version: number } };

export type ListingEventType = ListingEvent['type'];

export function listingIdOf(event: ListingEvent): string {
  return event.data.id;
}

/**
 * The listing after `event` (a projection: the Mongo document, the matcher's
 * index and the tests all fold the same events). Events older than the listing
 * are ignored; an event for a listing never created is ignored (null).
 */
export function evolveListing(listing: Listing | null, event: ListingEvent): Listing | null {
  if (listing !== null && event.data.version <= listing.version) return listing;
  switch (event.type) {
    case 'listing.created':
    case 'listing.updated':
      return event.data;
    case 'listing.moved':
      return listing && { ...listing, location: event.data.location, version: event.data.version };
    case 'listing.paused':
      return listing && { ...listing, status: listing.status === 'closed' ? 'closed' : 'paused', version: event.data.version };
    case 'listing.resumed':
      return listing && { ...listing, status: listing.status === 'closed' ? 'closed' : 'active', version: event.data.version };
    case 'listing.closed':
      return listing && { ...listing, status: 'closed', version: event.data.version };
  }
}
