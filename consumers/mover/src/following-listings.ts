/**
 * The listings that follow their owner, held in memory by owner: loaded from
 * storage's projection, then kept current by the events of topic `listings`
 * (the listing feed). A location event is applied without asking Mongo.
 *
 * A listing is held while `follow` is true and it is not closed (a paused one
 * is kept: it may resume). Events of listings not held are ignored, except a
 * full listing (created, updated) that follows.
 */
import { evolveListing, type Listing, type ListingEvent } from '@pushtech/listings';

export interface FollowingListings {
  /** A listing of the projection. */
  load(listing: Listing): void;
  /** An event of the log (older versions change nothing). */
  apply(event: ListingEvent): void;
  /** The owner's active, unexpired following listings. */
  activeOf(ownerId: string, now: number): Listing[];
  size(): number;
}

export function createFollowingListings(): FollowingListings {
  const byId = new Map<string, Listing>();
  const byOwner = new Map<string, Set<string>>();

  function remove(id: string): void {
    const held = byId.get(id);
    if (held === undefined) return;
    byId.delete(id);
    const owned = byOwner.get(held.ownerId)!;
    owned.delete(id);
    if (owned.size === 0) byOwner.delete(held.ownerId);
  }

  function hold(listing: Listing): void {
    if (!listing.follow || listing.status === 'closed') {
      remove(listing.id);
      return;
    }
    const held = byId.get(listing.id);
    if (held !== undefined && held.ownerId !== listing.ownerId) remove(listing.id);
    byId.set(listing.id, listing);
    const owned = byOwner.get(listing.ownerId) ?? byOwner.set(listing.ownerId, new Set()).get(listing.ownerId)!;
    owned.add(listing.id);
  }

  return {
    load(listing) {
      const held = byId.get(listing.id);
      if (held === undefined || held.version < listing.version) hold(listing);
    },
    apply(event) {
      const held = byId.get(event.data.id) ?? null;
      const next = evolveListing(held, event);
      if (next === held || next === null) return;
      hold(next);
    },
    activeOf(ownerId, now) {
      const ids = byOwner.get(ownerId);
      if (ids === undefined) return [];
      return [...ids].map((id) => byId.get(id)!)
        .filter((l) => l.status === 'active' && (l.expiresAt === undefined || Date.parse(l.expiresAt) > now));
    },
    size: () => byId.size,
  };
}
