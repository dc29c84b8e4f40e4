/**
 * Bi-directional browsing: offers near a place, or what people near it are looking for, nearest
 * first. The nearby index (listing-cells.ts) is read ring by ring outwards from the place
 * (`coveringRings`), skipping cells that never held a listing, so the work follows the page and
 * the listings, not the radius: once more than a page of results is nearer than anything the
 * unread rings can hold, the page is known. A result is live at `now`, within the radius, has
 * every word of `q` and comes after the cursor; the page is taken in (distance, id) order and read
 * from the listings.
 */
import { z } from 'zod';
import { coveringRings, haversineM, point, terms, type Listing } from '@pushtech/listings';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { cellsIdOfListing, NEARBY_RESOLUTION, type CellEntry } from './listing-cells.ts';
import type { NearbyQuery } from './listing-input.ts';
import type { ListingStore } from './listing-store.ts';

export type NearbyListing = Listing & { distanceM: number };

export interface NearbyPage {
  items: NearbyListing[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** The position after the last item of a page: its distance and id. */
const nearbyCursor = z.strictObject({ d: z.number().min(0), id: z.string().min(1) });

interface Ranked {
  id: string;
  d: number;
}

/** (distance, id) order: ties broken by id, so the order is total and pages never overlap. */
function compare(a: Ranked, b: Ranked): number {
  return a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export async function findNearby(store: ListingStore, query: NearbyQuery, now = Date.now()): Promise<NearbyPage> {
  const centre = point(query.lng, query.lat);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, nearbyCursor);
  const wanted = query.q === undefined ? [] : terms(query.q);
  // By id: an entry left behind in another cell (listing-cells.ts) may repeat a listing; the newest counts.
  const found = new Map<string, Ranked & { entry: CellEntry }>();
  const inCells = await store.cellsReader(query.kind);
  for (const ring of coveringRings(centre, query.radiusM, NEARBY_RESOLUTION)) {
    if (after === undefined || ring.farthestM >= after.d) {
      for (const entry of await inCells(ring.cells)) {
        if (now >= entry.expiresAtMs) continue;
        const item = { id: entry.id, d: haversineM(centre, entry.location), entry };
        if (item.d > query.radiusM || (after !== undefined && compare(item, after) <= 0)) continue;
        if (!wanted.every((term) => entry.terms.includes(term))) continue;
        const seen = found.get(entry.id);
        if (seen === undefined || entry.version > seen.entry.version) found.set(entry.id, item);
      }
    }
    let nearer = 0;
    for (const item of found.values()) if (item.d < ring.beyondM) nearer++;
    if (nearer > query.limit) break;
  }

  const ranked = [...found.values()].sort(compare);
  const page = ranked.slice(0, query.limit);
  const listings = new Map((await store.byIds(page.map((r) => r.id))).map((l) => [l.id, l]));
  const items: NearbyListing[] = [];
  const stale: CellEntry[] = [];
  for (const { id, d, entry } of page) {
    const listing = listings.get(id);
    if (listing === undefined) continue;
    // Changed since the entry was written: paused, closed, or moved to another cell, the listing is left out.
    if (listing.status === 'active' && listing.kind === query.kind && cellsIdOfListing(listing) === entry.cellsId) {
      items.push({ ...listing, distanceM: d });
    } else if (listing.version > entry.version) {
      stale.push(entry);
    }
  }
  // Tidying only: an entry not dropped now is left out again by the next query that meets it.
  await Promise.all(stale.map((entry) => store.dropStale(entry).catch(() => {})));
  const last = page[page.length - 1];
  return { items, nextCursor: ranked.length > query.limit && last !== undefined ? encodeCursor({ d: last.d, id: last.id }) : null };
}
