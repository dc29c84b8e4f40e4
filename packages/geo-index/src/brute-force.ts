import { evolveListing, type Listing, type ListingEvent, matchListings, type PreparedListing, prepareListing } from '@pushtech/listings';
import type { Match } from './match.ts';

/**
 * The reference the index is measured against: every listing of the other kind
 * through the match rule itself. Exact and slow.
 */
export function createBruteForce() {
  const listings = new Map<string, PreparedListing>();
  const byKind = { offer: new Map<string, PreparedListing>(), search: new Map<string, PreparedListing>() };

  function upsert(listing: Listing): void {
    remove(listing.id);
    const prepared = prepareListing(listing);
    listings.set(listing.id, prepared);
    byKind[listing.kind].set(listing.id, prepared);
  }

  function remove(id: string): void {
    const held = listings.get(id);
    if (held === undefined) return;
    listings.delete(id);
    byKind[held.listing.kind].delete(id);
  }

  function apply(event: ListingEvent): void {
    const id = event.data.id;
    const next = evolveListing(listings.get(id)?.listing ?? null, event);
    if (next === null || next.status === 'closed') remove(id);
    else upsert(next);
  }

  function matchesFor(id: string, now: number): Match[] {
    const query = listings.get(id);
    if (query === undefined) return [];
    const matches: Match[] = [];
    for (const other of byKind[query.listing.kind === 'search' ? 'offer' : 'search'].values()) {
      const outcome = matchListings(query, other, now);
      if (outcome.match) matches.push({ id: other.listing.id, distanceM: outcome.distanceM });
    }
    return matches;
  }

  return { upsert, remove, apply, matchesFor, get: (id: string) => listings.get(id)?.listing, size: () => listings.size };
}

export type BruteForce = ReturnType<typeof createBruteForce>;
