import { haversineM, point } from '@pushtech/listings';
import type { FoundCells } from './cell-graph.ts';
import { ensureScratch, expirySeconds, type IndexState, MANY_TERMS, NO_OTHER_TERM, nextTermMark, signatureBit } from './index-state.ts';
import { hasTermsOf, type ListingSlots } from './listing-slots.ts';
import { blockLength, blockStart, DX, DY, DZ, EXPIRES, findPostings, OWNER, type PostingTable, RECORD, SIGNATURE, SLOT, THRESHOLD } from './posting-table.ts';
import { recordMargin } from './sphere.ts';
import { copyInto } from './typed-arrays.ts';

/**
 * The two queries of the index, into `state.result`. Both look up one posting
 * list per (cell, term) and read its records in order; a record holds what the
 * checks need (position, radius, owner, expiry, terms in brief), so listings
 * that do not match are rejected without touching anything else.
 */

/**
 * Offers matching search `q`: the offers filed under its term carried by the
 * fewest offers, in the cells its circle reaches; then radius (both), expiry,
 * owner and its other terms.
 */
export function findOffersFor(state: IndexState, q: number, now: number): void {
  const { slots, offers } = state;
  const { termPool } = slots;
  const counts = state.vocabulary.counts.offers;
  const start = slots.termStart[q]!;
  const end = start + slots.termCount[q]!;
  let drive = termPool[start]!;
  for (let j = start + 1; j < end; j++) if (counts[termPool[j]!]! < counts[drive]!) drive = termPool[j]!;
  if (counts[drive] === 0) return;
  let need = 0; // signature bits of the other terms: a cheap "surely not" before the exact check
  for (let j = start; j < end; j++) if (termPool[j] !== drive) need |= signatureBit(termPool[j]!);

  const found = cellsReached(state, q);
  const near = nearCandidates(state, offers, q, lookUp(state, offers, found, drive, 0), now);
  const records = state.nearScratch;
  const ints = offers.ints;
  for (let i = 0; i < near; i++) {
    const r = records[i]!;
    if (need !== 0 && ((ints[r + SIGNATURE]! & need) !== need || !hasTermsOf(slots, ints[r + SLOT]!, q, drive))) continue;
    push(state, ints[r + SLOT]!);
  }
}

/**
 * Searches matched by offer `q`: the searches filed under any of its terms in
 * the cells its circle reaches (a matching search's terms are all the offer's,
 * so the one it is filed under is among them); then radius, expiry, owner and
 * the search's other terms.
 */
export function findSearchesFor(state: IndexState, q: number, now: number): void {
  const { slots, searches } = state;
  const { termPool } = slots;
  const mark = nextTermMark(state);
  const termMark = state.termMark;
  const start = slots.termStart[q]!;
  const end = start + slots.termCount[q]!;
  for (let j = start; j < end; j++) termMark[termPool[j]!] = mark;

  const found = cellsReached(state, q);
  const keyCounts = state.vocabulary.counts.searchKeys;
  let blocks = 0;
  for (let j = start; j < end; j++) if (keyCounts[termPool[j]!] !== 0) blocks = lookUp(state, searches, found, termPool[j]!, blocks);
  const near = nearCandidates(state, searches, q, blocks, now);
  const records = state.nearScratch;
  const ints = searches.ints;
  for (let i = 0; i < near; i++) {
    const r = records[i]!;
    const other = ints[r + SIGNATURE]!;
    if (other !== NO_OTHER_TERM && (other === MANY_TERMS ? !allMarked(state, ints[r + SLOT]!, mark) : termMark[other] !== mark)) continue;
    push(state, ints[r + SLOT]!);
  }
}

/** The cells listing `q`'s circle reaches. */
function cellsReached(state: IndexState, q: number): FoundCells {
  const { hot } = state.slots;
  const b = q * 4;
  return state.cells.within(state.slots.cell[q]!, hot[b]!, hot[b + 1]!, hot[b + 2]!, Math.sqrt(hot[b + 3]!));
}

/**
 * Looks up (cell, term) in `table` for every cell found, and appends the posting
 * lists that exist to the scratch (entries and their cells) from index `blocks`;
 * returns the new count. Every lookup before any record is read: independent
 * loads, so the processor overlaps their cache misses.
 */
function lookUp(state: IndexState, table: PostingTable, found: FoundCells, term: number, blocks: number): number {
  state.stats.lookups += found.count;
  ensureScratch(state, blocks + found.count);
  const { entryScratch, cellScratch } = state;
  for (let k = 0; k < found.count; k++) {
    const e = findPostings(table, found.cells[k]!, term);
    if (e >= 0) {
      entryScratch[blocks] = e;
      cellScratch[blocks++] = found.cells[k]!;
    }
  }
  return blocks;
}

/**
 * Reads the records of the posting lists in the scratch ([0, blocks)) in order,
 * and keeps in `state.nearScratch` those within both radii of listing `q`, unexpired
 * and of another owner; returns how many. The caller checks their terms.
 */
function nearCandidates(state: IndexState, table: PostingTable, q: number, blocks: number, now: number): number {
  const { slots, entryScratch, cellScratch } = state;
  const { hot } = slots;
  const b = q * 4;
  const qThreshold = hot[b + 3]!;
  const qOwner = slots.owner[q]!;
  const nowS = expirySeconds(now);
  const centre = state.cells.centres();
  const reach = state.cells.reaches();
  const ints = table.ints;
  let candidates = 0;
  let near = 0;
  for (let k = 0; k < blocks; k++) {
    const cell = cellScratch[k]!;
    const qrx = hot[b]! - centre[cell * 3]!;
    const qry = hot[b + 1]! - centre[cell * 3 + 1]!;
    const qrz = hot[b + 2]! - centre[cell * 3 + 2]!;
    const margin = recordMargin(qThreshold, reach[cell]!);
    const length = blockLength(table, entryScratch[k]!);
    const from = blockStart(table, entryScratch[k]!) * RECORD;
    candidates += length;
    if (state.nearScratch.length < near + length) state.nearScratch = copyInto(new Int32Array((near + length) * 2), state.nearScratch);
    const records = state.nearScratch;
    for (let r = from; r < from + length * RECORD; r += RECORD) {
      if (!nearAndLive(slots, table, r, q, qrx, qry, qrz, qThreshold, margin, now, nowS)) continue;
      if (ints[r + OWNER] === qOwner) continue;
      records[near++] = r;
    }
  }
  state.stats.candidates += candidates;
  return near;
}

/**
 * Whether the candidate in record `r` is within both radii of the query and
 * unexpired. Distances compare as squared chords relative to the record's cell
 * centre (qrx, qry, qrz: the query there); within `margin` of the threshold
 * (rounding, see recordMargin) the match rule's own haversine decides, so the
 * result is exactly the rule's.
 */
function nearAndLive(
  slots: ListingSlots,
  table: PostingTable,
  r: number,
  q: number,
  qrx: number,
  qry: number,
  qrz: number,
  qThreshold: number,
  margin: number,
  now: number,
  nowS: number,
): boolean {
  const floats = table.floats;
  const dx = floats[r + DX]! - qrx;
  const dy = floats[r + DY]! - qry;
  const dz = floats[r + DZ]! - qrz;
  const d2 = dx * dx + dy * dy + dz * dz;
  const threshold = Math.min(floats[r + THRESHOLD]!, qThreshold);
  if (d2 > threshold - margin && (d2 > threshold + margin || !withinByHaversine(slots, q, table.ints[r + SLOT]!))) return false;
  const expiry = table.ints[r + EXPIRES]!;
  return expiry > nowS || (expiry === nowS && slots.expires[table.ints[r + SLOT]!]! > now);
}

function withinByHaversine(slots: ListingSlots, a: number, b: number): boolean {
  const { lngLat, radiusM } = slots;
  const distance = haversineM(point(lngLat[a * 2]!, lngLat[a * 2 + 1]!), point(lngLat[b * 2]!, lngLat[b * 2 + 1]!));
  return distance <= Math.min(radiusM[a]!, radiusM[b]!);
}

function allMarked(state: IndexState, s: number, mark: number): boolean {
  const { termPool, termStart, termCount } = state.slots;
  const end = termStart[s]! + termCount[s]!;
  for (let j = termStart[s]!; j < end; j++) if (state.termMark[termPool[j]!] !== mark) return false;
  return true;
}

function push(state: IndexState, slot: number): void {
  const result = state.result;
  const n = result.count;
  if (n === result.slots.length) result.slots = copyInto(new Int32Array(n * 2), result.slots);
  result.slots[n] = slot;
  result.count = n + 1;
}
