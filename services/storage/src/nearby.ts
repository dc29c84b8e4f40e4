/**
 * Bi-directional browsing: offers near a place, or what people near it are
 * looking for. The H3 covering of the circle picks candidates from the `cells`
 * index (and `terms` for `q`); the exact distance keeps those inside; the page
 * is taken in (distance, id) order after the cursor.
 */
import { z } from 'zod';
import { coveringCells, expiresAtMs, haversineM, point, terms, type Listing } from '@pushtech/listings';
import { decodeCursor, encodeCursor } from './cursor.ts';
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
  const { cells } = coveringCells(centre, query.radiusM);
  const candidates = await store.candidates({ kind: query.kind, cells, terms: query.q === undefined ? [] : terms(query.q) });

  const ranked: Ranked[] = [];
  for (const candidate of candidates) {
    if (now >= expiresAtMs(candidate)) continue;
    const d = haversineM(centre, candidate.location);
    if (d > query.radiusM) continue;
    const item = { id: candidate.id, d };
    if (after !== undefined && compare(item, after) <= 0) continue;
    ranked.push(item);
  }
  ranked.sort(compare);

  const page = ranked.slice(0, query.limit);
  const listings = new Map((await store.byIds(page.map((r) => r.id))).map((l) => [l.id, l]));
  const items: NearbyListing[] = [];
  for (const { id, d } of page) {
    const listing = listings.get(id);
    // Changed since the candidates were read: paused, closed or gone listings are left out.
    if (listing !== undefined && listing.status === 'active') items.push({ ...listing, distanceM: d });
  }
  const last = page[page.length - 1];
  return { items, nextCursor: ranked.length > query.limit && last !== undefined ? encodeCursor({ d: last.d, id: last.id }) : null };
}
