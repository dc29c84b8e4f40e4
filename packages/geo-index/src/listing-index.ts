import { expiresAtMs, type Listing, type ListingEvent, listingTerms } from '@pushtech/listings';
import { findOffersFor, findSearchesFor } from './find-matches.ts';
import {
  createIndexState,
  expirySeconds,
  type IndexStats,
  MANY_TERMS,
  type MatchBuffer,
  NO_OTHER_TERM,
  signatureBit,
} from './index-state.ts';
import { ACTIVE, allocateSlot, NONE, ownerNumber, releaseSlot, SEARCH, slotBytes, writeTerms } from './listing-slots.ts';
import type { Match } from './match.ts';
import {
  addPosting,
  DX,
  DY,
  DZ,
  EXPIRES,
  findRecord,
  OWNER,
  type PostingTable,
  postingBytes,
  postingCount,
  removePosting,
  SIGNATURE,
  SLOT,
  THRESHOLD,
} from './posting-table.ts';
import { chordOf, metresOfChordSq, writeUnitVector } from './sphere.ts';

export type { IndexStats, MatchBuffer };

/**
 * H3 resolution of the index (edge ≈ 1.4 km, 5.2 km²). A query looks up one
 * posting list per cell its circle reaches (1–30 cells for radii of
 * 500–5,000 m) and reads every record in it: finer cells fit the circle more
 * tightly but cost more lookups, each a cache miss or two, while records are
 * read in order. On the reference workload 7 beats 6 and 8 clearly (README).
 */
export const INDEX_RESOLUTION = 7;

export interface ListingIndexOptions {
  resolution?: number;
}

/**
 * The matcher's in-memory index: every listing it has been told about (active
 * or paused; closed ones are dropped), with two posting tables keyed by
 * (H3 cell, term) for the active ones:
 *
 * - offers: every active offer under each of its terms, in its cell;
 * - searches: every active search under ONE of its query terms, the one carried
 *   by the fewest offers when it was filed (its key term), in its cell.
 *
 * A search finds its offers through its rarest term's lists in the cells its
 * circle reaches; an offer finds its searches through each of its own terms'
 * lists (find-matches.ts). Candidates are checked against the full match rule:
 * exactly brute force's matches, from a few hundred records read instead of a
 * million listings.
 */
export function createListingIndex(options: ListingIndexOptions = {}) {
  const state = createIndexState(options.resolution ?? INDEX_RESOLUTION);
  const { slots, cells, vocabulary, offers, searches, stats } = state;

  /** Writes `slot`'s record at int offset `r` of `table` (reading the arena after addPosting, which may grow it). */
  function writeRecord(table: PostingTable, r: number, slot: number, signature: number): void {
    writePosition(table, r, slot);
    table.floats[r + THRESHOLD] = slots.hot[slot * 4 + 3]!;
    table.ints[r + SLOT] = slot;
    table.ints[r + OWNER] = slots.owner[slot]!;
    table.ints[r + EXPIRES] = expirySeconds(slots.expires[slot]!);
    table.ints[r + SIGNATURE] = signature;
  }

  /** The record's position, relative to its cell's centre (float32 keeps sub-millimetre precision there). */
  function writePosition(table: PostingTable, r: number, slot: number): void {
    const centre = cells.centres();
    const c = slots.cell[slot]! * 3;
    table.floats[r + DX] = slots.hot[slot * 4]! - centre[c]!;
    table.floats[r + DY] = slots.hot[slot * 4 + 1]! - centre[c + 1]!;
    table.floats[r + DZ] = slots.hot[slot * 4 + 2]! - centre[c + 2]!;
  }

  /** Files an active listing in its posting table. */
  function file(slot: number): void {
    const cell = slots.cell[slot]!;
    const start = slots.termStart[slot]!;
    const end = start + slots.termCount[slot]!;
    const pool = slots.termPool;
    const offerCounts = vocabulary.counts.offers;
    if ((slots.flags[slot]! & SEARCH) === 0) {
      let signature = 0;
      for (let j = start; j < end; j++) signature |= signatureBit(pool[j]!);
      for (let j = start; j < end; j++) {
        writeRecord(offers, addPosting(offers, cell, pool[j]!, slot), slot, signature);
        offerCounts[pool[j]!]!++;
      }
      return;
    }
    if (end === start) return; // a search without terms matches nothing
    let key = pool[start]!;
    for (let j = start + 1; j < end; j++) if (offerCounts[pool[j]!]! < offerCounts[key]!) key = pool[j]!;
    const other = end - start === 1 ? NO_OTHER_TERM : end - start > 2 ? MANY_TERMS : pool[start] === key ? pool[start + 1]! : pool[start]!;
    writeRecord(searches, addPosting(searches, cell, key, slot), slot, other);
    slots.keyTerm[slot] = key;
    vocabulary.counts.searchKeys[key]!++;
  }

  function unfile(slot: number): void {
    const cell = slots.cell[slot]!;
    if ((slots.flags[slot]! & SEARCH) === 0) {
      const start = slots.termStart[slot]!;
      for (let j = start; j < start + slots.termCount[slot]!; j++) {
        removePosting(offers, cell, slots.termPool[j]!, slot);
        vocabulary.counts.offers[slots.termPool[j]!]!--;
      }
    } else if (slots.keyTerm[slot] !== NONE) {
      removePosting(searches, cell, slots.keyTerm[slot]!, slot);
      vocabulary.counts.searchKeys[slots.keyTerm[slot]!]!--;
      slots.keyTerm[slot] = NONE;
    }
  }

  /** After a move within its cell: only the positions in its records change. */
  function refile(slot: number): void {
    const cell = slots.cell[slot]!;
    if ((slots.flags[slot]! & SEARCH) === 0) {
      const start = slots.termStart[slot]!;
      for (let j = start; j < start + slots.termCount[slot]!; j++) {
        writePosition(offers, findRecord(offers, cell, slots.termPool[j]!, slot), slot);
      }
    } else if (slots.keyTerm[slot] !== NONE) {
      writePosition(searches, findRecord(searches, cell, slots.keyTerm[slot]!, slot), slot);
    }
  }

  function setActive(slot: number, active: boolean): void {
    if (active === ((slots.flags[slot]! & ACTIVE) !== 0)) return;
    if (active) {
      slots.flags[slot] = slots.flags[slot]! | ACTIVE;
      file(slot);
    } else {
      unfile(slot);
      slots.flags[slot] = slots.flags[slot]! & ~ACTIVE;
    }
  }

  function release(slot: number): void {
    setActive(slot, false);
    releaseSlot(slots, slot);
  }

  /** Adds or replaces a listing (ignored unless newer than the one held). True when the index changed. */
  function upsert(listing: Listing): boolean {
    let slot = slots.slotOf.get(listing.id);
    if (slot !== undefined) {
      if (listing.version <= slots.version[slot]!) return false;
      if (listing.status === 'closed') {
        release(slot);
        return true;
      }
      setActive(slot, false);
    } else {
      if (listing.status === 'closed') return false;
      slot = allocateSlot(slots, listing.id);
    }
    slots.flags[slot] = listing.kind === 'search' ? SEARCH : 0;
    const [lng, lat] = listing.location.coordinates;
    slots.lngLat[slot * 2] = lng;
    slots.lngLat[slot * 2 + 1] = lat;
    writeUnitVector(slots.hot, slot * 4, lng, lat);
    slots.cell[slot] = cells.cellAt(lng, lat);
    const chord = chordOf(listing.radiusM);
    slots.hot[slot * 4 + 3] = chord * chord;
    slots.radiusM[slot] = listing.radiusM;
    slots.expires[slot] = expiresAtMs(listing);
    slots.version[slot] = listing.version;
    slots.owner[slot] = ownerNumber(slots, listing.ownerId);
    const termIds = [...new Set(listingTerms(listing).map(vocabulary.intern))].sort((a, b) => a - b);
    writeTerms(slots, slot, termIds);
    setActive(slot, listing.status === 'active');
    return true;
  }

  function remove(id: string): boolean {
    const slot = slots.slotOf.get(id);
    if (slot === undefined) return false;
    release(slot);
    return true;
  }

  /** A listing moved: its posting keys change only when it crosses into another cell. */
  function move(slot: number, lng: number, lat: number): void {
    const before = slots.cell[slot]!;
    const active = (slots.flags[slot]! & ACTIVE) !== 0;
    slots.lngLat[slot * 2] = lng;
    slots.lngLat[slot * 2 + 1] = lat;
    const { hot } = slots;
    writeUnitVector(hot, slot * 4, lng, lat);
    const after = cells.surelyIn(before, hot[slot * 4]!, hot[slot * 4 + 1]!, hot[slot * 4 + 2]!) ? before : cells.cellAt(lng, lat);
    if (after === before) {
      if (active) refile(slot);
      return;
    }
    if (active) unfile(slot);
    slots.cell[slot] = after;
    if (active) file(slot);
  }

  /**
   * Applies a listing event: the index's `evolve`. Events not newer than the
   * listing held, and events about listings it does not hold, change nothing.
   * Returns whether the index changed, i.e. whether the listing needs re-matching.
   */
  function evolve(event: ListingEvent): boolean {
    if (event.type === 'listing.created' || event.type === 'listing.updated') return upsert(event.data);
    const slot = slots.slotOf.get(event.data.id);
    if (slot === undefined || event.data.version <= slots.version[slot]!) return false;
    slots.version[slot] = event.data.version;
    switch (event.type) {
      case 'listing.moved': {
        const [lng, lat] = event.data.location.coordinates;
        move(slot, lng, lat);
        return true;
      }
      case 'listing.paused':
        setActive(slot, false);
        return true;
      case 'listing.resumed':
        setActive(slot, true);
        return true;
      case 'listing.closed':
        release(slot);
        return true;
    }
  }

  /**
   * The listings of the other kind that match listing `id` at `now` (epoch ms),
   * into a buffer the index reuses: read it before the next query.
   */
  function collectMatches(id: string, now: number): MatchBuffer {
    const result = state.result;
    result.count = 0;
    stats.queries++;
    const q = slots.slotOf.get(id);
    result.query = q ?? NONE;
    if (q === undefined || (slots.flags[q]! & ACTIVE) === 0 || slots.expires[q]! <= now || slots.termCount[q] === 0) return result;
    if ((slots.flags[q]! & SEARCH) !== 0) findOffersFor(state, q, now);
    else findSearchesFor(state, q, now);
    stats.matches += result.count;
    return result;
  }

  /** Great-circle distance in metres between the listings in slots `a` and `b`. */
  function distanceM(a: number, b: number): number {
    const { hot } = slots;
    const dx = hot[a * 4]! - hot[b * 4]!;
    const dy = hot[a * 4 + 1]! - hot[b * 4 + 1]!;
    const dz = hot[a * 4 + 2]! - hot[b * 4 + 2]!;
    return metresOfChordSq(dx * dx + dy * dy + dz * dz);
  }

  /** The listings of the other kind that match listing `id` at `now` (epoch ms), with their distances. */
  function matchesFor(id: string, now: number): Match[] {
    const found = collectMatches(id, now);
    const matches: Match[] = [];
    for (let i = 0; i < found.count; i++) {
      const slot = found.slots[i]!;
      matches.push({ id: slots.ids[slot]!, distanceM: distanceM(found.query, slot) });
    }
    return matches;
  }

  /** Sizes for the bench and for metrics: typed arrays are outside the JS heap. */
  function memory() {
    return {
      listings: slots.slotOf.size,
      cells: cells.size(),
      offerKeys: offers.keys,
      offerRecords: postingCount(offers),
      searchKeys: searches.keys,
      searchRecords: postingCount(searches),
      typedArrayBytes: slotBytes(slots) + postingBytes(offers) + postingBytes(searches),
    };
  }

  return {
    evolve,
    upsert,
    remove,
    collectMatches,
    matchesFor,
    /** The id of a slot in a MatchBuffer. */
    idOf: (slot: number) => slots.ids[slot]!,
    distanceM,
    has: (id: string) => slots.slotOf.has(id),
    /** Listings held, active or paused. */
    size: () => slots.slotOf.size,
    stats,
    memory,
  };
}

export type ListingIndex = ReturnType<typeof createListingIndex>;
