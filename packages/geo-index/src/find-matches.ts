import { haversineM, point } from '@pushtech/listings';
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
  const { slots, offers, stats } = state;
  const { termPool, hot } = slots;
  const counts = state.vocabulary.counts.offers;
  const start = slots.termStart[q]!;
  const end = start + slots.termCount[q]!;
  let drive = termPool[start]!;
  for (let j = start + 1; j < end; j++) if (counts[termPool[j]!]! < counts[drive]!) drive = termPool[j]!;
  if (counts[drive] === 0) return;
  let need = 0; // signature bits of the other terms: a cheap "surely not" before the exact check
  for (let j = start; j < end; j++) if (termPool[j] !== drive) need |= signatureBit(termPool[j]!);

  const b = q * 4;
  const qThreshold = hot[b + 3]!;
  const qOwner = slots.owner[q]!;
  const nowS = expirySeconds(now);
  const found = state.cells.within(slots.cell[q]!, hot[b]!, hot[b + 1]!, hot[b + 2]!, Math.sqrt(qThreshold));
  const centre = state.cells.centres();
  const reach = state.cells.reaches();
  stats.lookups += found.count;
  // Every lookup first: independent loads, so the processor overlaps their cache misses.
  ensureScratch(state, found.count);
  const { entryScratch, cellScratch } = state;
  let blocks = 0;
  for (let k = 0; k < found.count; k++) {
    const e = findPostings(offers, found.cells[k]!, drive);
    if (e >= 0) {
      entryScratch[blocks] = e;
      cellScratch[blocks++] = found.cells[k]!;
    }
  }
  const ints = offers.ints;
  let candidates = 0;
  for (let k = 0; k < blocks; k++) {
    const cell = cellScratch[k]!;
    const qrx = hot[b]! - centre[cell * 3]!;
    const qry = hot[b + 1]! - centre[cell * 3 + 1]!;
    const qrz = hot[b + 2]! - centre[cell * 3 + 2]!;
    const margin = recordMargin(qThreshold, reach[cell]!);
    const length = blockLength(offers, entryScratch[k]!);
    const from = blockStart(offers, entryScratch[k]!) * RECORD;
    candidates += length;
    for (let r = from; r < from + length * RECORD; r += RECORD) {
      if (!nearAndLive(slots, offers, r, q, qrx, qry, qrz, qThreshold, margin, now, nowS)) continue;
      if (ints[r + OWNER] === qOwner) continue;
      if (need !== 0 && ((ints[r + SIGNATURE]! & need) !== need || !hasTermsOf(slots, ints[r + SLOT]!, q, drive))) continue;
      push(state, ints[r + SLOT]!);
    }
  }
  stats.candidates += candidates;
}

/**
 * Searches matched by offer `q`: the searches filed under any of its terms in
 * the cells its circle reaches (a matching search's terms are all the offer's,
 * so the one it is filed under is among them); then radius, expiry, owner and
 * the search's other terms.
 */
export function findSearchesFor(state: IndexState, q: number, now: number): void {
  const { slots, searches, stats } = state;
  const { termPool, hot } = slots;
  const mark = nextTermMark(state);
  const termMark = state.termMark;
  const start = slots.termStart[q]!;
  const end = start + slots.termCount[q]!;
  for (let j = start; j < end; j++) termMark[termPool[j]!] = mark;

  const b = q * 4;
  const qThreshold = hot[b + 3]!;
  const qOwner = slots.owner[q]!;
  const nowS = expirySeconds(now);
  const found = state.cells.within(slots.cell[q]!, hot[b]!, hot[b + 1]!, hot[b + 2]!, Math.sqrt(qThreshold));
  const centre = state.cells.centres();
  const reach = state.cells.reaches();
  const keyCounts = state.vocabulary.counts.searchKeys;
  let blocks = 0;
  for (let j = start; j < end; j++) {
    const term = termPool[j]!;
    if (keyCounts[term] === 0) continue;
    stats.lookups += found.count;
    ensureScratch(state, blocks + found.count);
    for (let k = 0; k < found.count; k++) {
      const e = findPostings(searches, found.cells[k]!, term);
      if (e >= 0) {
        state.entryScratch[blocks] = e;
        state.cellScratch[blocks++] = found.cells[k]!;
      }
    }
  }
  const { entryScratch, cellScratch } = state;
  const ints = searches.ints;
  let candidates = 0;
  for (let k = 0; k < blocks; k++) {
    const cell = cellScratch[k]!;
    const qrx = hot[b]! - centre[cell * 3]!;
    const qry = hot[b + 1]! - centre[cell * 3 + 1]!;
    const qrz = hot[b + 2]! - centre[cell * 3 + 2]!;
    const margin = recordMargin(qThreshold, reach[cell]!);
    const length = blockLength(searches, entryScratch[k]!);
    const from = blockStart(searches, entryScratch[k]!) * RECORD;
    candidates += length;
    for (let r = from; r < from + length * RECORD; r += RECORD) {
      if (!nearAndLive(slots, searches, r, q, qrx, qry, qrz, qThreshold, margin, now, nowS)) continue;
      if (ints[r + OWNER] === qOwner) continue;
      const other = ints[r + SIGNATURE]!;
      if (other !== NO_OTHER_TERM && (other === MANY_TERMS ? !allMarked(state, ints[r + SLOT]!, mark) : termMark[other] !== mark)) continue;
      push(state, ints[r + SLOT]!);
    }
  }
  stats.candidates += candidates;
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
