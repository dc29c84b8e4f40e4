import { copyInto } from './typed-arrays.ts';

/**
 * What the index knows of each listing, one slot a listing, as numbers in
 * typed arrays (structure of arrays): a million listings are a dozen arrays,
 * not a million objects for the garbage collector. Freed slots are reused.
 * A plain record and functions over it; arrays are replaced when they grow.
 */
export interface ListingSlots {
  capacity: number;
  /** x, y, z of the unit vector and the radius as a squared chord (sphere.ts), 4 a slot. */
  hot: Float64Array;
  /** As given, 2 a slot: the exact distance check at the edge of a radius uses them. */
  lngLat: Float64Array;
  radiusM: Float64Array;
  /** Epoch ms; Infinity when the listing never expires. */
  expires: Float64Array;
  version: Float64Array;
  owner: Int32Array;
  /** Interned H3 cell (cell-graph.ts). */
  cell: Int32Array;
  /** For a filed search: the term it is filed under; else NONE. */
  keyTerm: Int32Array;
  termStart: Int32Array;
  termCount: Int32Array;
  flags: Uint8Array;
  /** Each slot's term ids, sorted, at termStart[slot]. Edits that need more room append; compaction reclaims the rest. */
  termPool: Int32Array;
  termPoolTop: number;
  termPoolGarbage: number;
  ids: string[];
  slotOf: Map<string, number>;
  freeSlots: number[];
  ownerNumbers: Map<string, number>;
}

/** flags: the listing is a search (else an offer). */
export const SEARCH = 1;
/** flags: the listing is active, so filed in the posting tables. */
export const ACTIVE = 2;
export const NONE = -1;

export function createListingSlots(): ListingSlots {
  return {
    capacity: 0,
    hot: new Float64Array(0),
    lngLat: new Float64Array(0),
    radiusM: new Float64Array(0),
    expires: new Float64Array(0),
    version: new Float64Array(0),
    owner: new Int32Array(0),
    cell: new Int32Array(0),
    keyTerm: new Int32Array(0),
    termStart: new Int32Array(0),
    termCount: new Int32Array(0),
    flags: new Uint8Array(0),
    termPool: new Int32Array(1 << 16),
    termPoolTop: 0,
    termPoolGarbage: 0,
    ids: [],
    slotOf: new Map(),
    freeSlots: [],
    ownerNumbers: new Map(),
  };
}

function grow(s: ListingSlots): void {
  const capacity = Math.max(1024, s.capacity * 2);
  s.capacity = capacity;
  s.hot = copyInto(new Float64Array(capacity * 4), s.hot);
  s.lngLat = copyInto(new Float64Array(capacity * 2), s.lngLat);
  s.radiusM = copyInto(new Float64Array(capacity), s.radiusM);
  s.expires = copyInto(new Float64Array(capacity), s.expires);
  s.version = copyInto(new Float64Array(capacity), s.version);
  s.owner = copyInto(new Int32Array(capacity), s.owner);
  s.cell = copyInto(new Int32Array(capacity), s.cell);
  s.keyTerm = copyInto(new Int32Array(capacity), s.keyTerm);
  s.termStart = copyInto(new Int32Array(capacity), s.termStart);
  s.termCount = copyInto(new Int32Array(capacity), s.termCount);
  s.flags = copyInto(new Uint8Array(capacity), s.flags);
}

export function allocateSlot(s: ListingSlots, id: string): number {
  let slot = s.freeSlots.pop();
  if (slot === undefined) {
    slot = s.ids.length;
    if (slot === s.capacity) grow(s);
    s.ids.push(id);
  } else {
    s.ids[slot] = id;
  }
  s.slotOf.set(id, slot);
  s.flags[slot] = 0;
  s.termCount[slot] = 0;
  s.keyTerm[slot] = NONE;
  return slot;
}

/** Frees a slot; the caller has unfiled it first. */
export function releaseSlot(s: ListingSlots, slot: number): void {
  s.slotOf.delete(s.ids[slot]!);
  s.ids[slot] = '';
  s.flags[slot] = 0;
  s.termPoolGarbage += s.termCount[slot]!;
  s.termCount[slot] = 0;
  s.freeSlots.push(slot);
}

/** Owners as small numbers, compared instead of strings. */
export function ownerNumber(s: ListingSlots, ownerId: string): number {
  let n = s.ownerNumbers.get(ownerId);
  if (n === undefined) {
    n = s.ownerNumbers.size;
    s.ownerNumbers.set(ownerId, n);
  }
  return n;
}

/** Stores the slot's term ids (distinct, sorted). */
export function writeTerms(s: ListingSlots, slot: number, termIds: number[]): void {
  const old = s.termCount[slot]!;
  if (termIds.length > old) {
    s.termPoolGarbage += old;
    if (s.termPoolGarbage > 1 << 16 && s.termPoolGarbage * 2 > s.termPoolTop) compactTermPool(s);
    if (s.termPoolTop + termIds.length > s.termPool.length) {
      s.termPool = copyInto(new Int32Array(Math.max(s.termPool.length * 2, s.termPoolTop + termIds.length)), s.termPool);
    }
    s.termStart[slot] = s.termPoolTop;
    s.termPoolTop += termIds.length;
  } else {
    s.termPoolGarbage += old - termIds.length;
  }
  s.termPool.set(termIds, s.termStart[slot]!);
  s.termCount[slot] = termIds.length;
}

function compactTermPool(s: ListingSlots): void {
  const pool = new Int32Array(Math.max(1 << 16, (s.termPoolTop - s.termPoolGarbage) * 2));
  let top = 0;
  for (let slot = 0; slot < s.ids.length; slot++) {
    const n = s.termCount[slot]!;
    if (n === 0) continue;
    pool.set(s.termPool.subarray(s.termStart[slot]!, s.termStart[slot]! + n), top);
    s.termStart[slot] = top;
    top += n;
  }
  s.termPool = pool;
  s.termPoolTop = top;
  s.termPoolGarbage = 0;
}

/** Whether the sorted terms of slot `a` include every term of slot `b` except `known`: one merge pass. */
export function hasTermsOf(s: ListingSlots, a: number, b: number, known: number): boolean {
  const pool = s.termPool;
  let i = s.termStart[a]!;
  const aEnd = i + s.termCount[a]!;
  const bEnd = s.termStart[b]! + s.termCount[b]!;
  for (let j = s.termStart[b]!; j < bEnd; j++) {
    const t = pool[j]!;
    if (t === known) continue;
    while (i < aEnd && pool[i]! < t) i++;
    if (i === aEnd || pool[i] !== t) return false;
  }
  return true;
}

export function slotBytes(s: ListingSlots): number {
  const arrays = [s.hot, s.lngLat, s.radiusM, s.expires, s.version, s.owner, s.cell, s.keyTerm, s.termStart, s.termCount, s.flags, s.termPool];
  return arrays.reduce((sum, a) => sum + a.byteLength, 0);
}
