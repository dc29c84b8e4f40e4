/**
 * Listings filed by (cell, term). Each key owns a block of fixed-size records
 * in one shared arena, and a record carries what a candidate check needs, so a
 * query reads its candidates sequentially instead of chasing each listing's
 * fields across memory:
 *
 *   [0..2] position relative to the cell's centre (unit-sphere offsets, float32:
 *          ~1e-11 of the sphere, well under a millimetre, at these distances)
 *   [3]    the listing's radius as a squared chord (float32)
 *   [4]    slot   [5] owner   [6] expiry (seconds since 2020, int32)
 *   [7]    term signature (a 32-bit summary of terms, see listing-index.ts)
 *
 * Keys live in an open-addressing hash table (linear probing, backward-shift
 * deletion) of 4 ints per entry: cell, term, block start, length << 5 | size
 * class. Blocks hold a power of two of records; freed blocks go to one free list
 * per size, threaded through the arena. A million listings are a few typed
 * arrays, not millions of objects for the garbage collector.
 *
 * A plain record and functions over it: the query loops read it directly.
 */
export interface PostingTable {
  mask: number;
  keys: number;
  entries: Int32Array;
  /** Two views of the arena: ints and floats of the same records. */
  ints: Int32Array;
  floats: Float32Array;
  /** Records allocated so far (free blocks included). */
  arenaTop: number;
  freeBlocks: Int32Array;
}

export const RECORD = 8;
export const DX = 0;
export const DY = 1;
export const DZ = 2;
export const THRESHOLD = 3;
export const SLOT = 4;
export const OWNER = 5;
export const EXPIRES = 6;
export const SIGNATURE = 7;

const ENTRY = 4;
const EMPTY = -1;
const MAX_LOAD = 0.6;
const CLASS_BITS = 5;
const CLASS_MASK = (1 << CLASS_BITS) - 1;

export function createPostingTable(initialKeys = 1024): PostingTable {
  const size = 2 ** Math.ceil(Math.log2(Math.max(16, initialKeys / MAX_LOAD)));
  const table: PostingTable = {
    mask: size - 1,
    keys: 0,
    entries: emptyEntries(size),
    ints: new Int32Array(0),
    floats: new Float32Array(0),
    arenaTop: 0,
    freeBlocks: new Int32Array(32).fill(EMPTY),
  };
  growArena(table, 1024);
  return table;
}

function emptyEntries(size: number): Int32Array {
  const entries = new Int32Array(size * ENTRY);
  for (let i = 0; i < entries.length; i += ENTRY) entries[i] = EMPTY;
  return entries;
}

function hash(cell: number, term: number): number {
  let h = Math.imul(cell, 0x9e3779b1) ^ Math.imul(term ^ 0x5bd1e995, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 13);
}

/**
 * The entry of key (cell, term), or -1. Its records start at int offset
 * `blockStart(table, e) * RECORD`; there are `blockLength(table, e)` of them.
 */
export function findPostings(table: PostingTable, cell: number, term: number): number {
  const { entries, mask } = table;
  for (let i = hash(cell, term) & mask; ; i = (i + 1) & mask) {
    const c = entries[i * ENTRY]!;
    if (c === cell && entries[i * ENTRY + 1] === term) return i;
    if (c === EMPTY) return -1;
  }
}

export function blockStart(table: PostingTable, entry: number): number {
  return table.entries[entry * ENTRY + 2]!;
}

export function blockLength(table: PostingTable, entry: number): number {
  return table.entries[entry * ENTRY + 3]! >>> CLASS_BITS;
}

/**
 * Appends `slot`'s record to key (cell, term) and returns its int offset, for
 * the caller to fill the other fields. The arena may have grown: read
 * `table.ints` / `table.floats` after the call.
 */
export function addPosting(table: PostingTable, cell: number, term: number, slot: number): number {
  if ((table.keys + 1) / (table.mask + 1) > MAX_LOAD) rehash(table, (table.mask + 1) * 2);
  const { mask } = table;
  let i = hash(cell, term) & mask;
  for (; ; i = (i + 1) & mask) {
    const c = table.entries[i * ENTRY]!;
    if (c === EMPTY || (c === cell && table.entries[i * ENTRY + 1] === term)) break;
  }
  const e = i * ENTRY;
  if (table.entries[e] === EMPTY) {
    table.entries[e] = cell;
    table.entries[e + 1] = term;
    table.entries[e + 2] = allocateBlock(table, 0);
    table.entries[e + 3] = 0;
    table.keys++;
  }
  const packed = table.entries[e + 3]!;
  const length = packed >>> CLASS_BITS;
  if (length === 1 << (packed & CLASS_MASK)) moveBlock(table, i, (packed & CLASS_MASK) + 1);
  table.entries[e + 3] = table.entries[e + 3]! + (1 << CLASS_BITS);
  const r = (table.entries[e + 2]! + length) * RECORD;
  table.ints[r + SLOT] = slot;
  return r;
}

/** The int offset of `slot`'s record under key (cell, term), or -1. */
export function findRecord(table: PostingTable, cell: number, term: number, slot: number): number {
  const i = findPostings(table, cell, term);
  if (i < 0) return -1;
  const from = blockStart(table, i) * RECORD;
  const to = from + blockLength(table, i) * RECORD;
  const ints = table.ints;
  for (let r = from; r < to; r += RECORD) if (ints[r + SLOT] === slot) return r;
  return -1;
}

/** Removes `slot`'s record from key (cell, term); false when it was not there. */
export function removePosting(table: PostingTable, cell: number, term: number, slot: number): boolean {
  const i = findPostings(table, cell, term);
  if (i < 0) return false;
  const e = i * ENTRY;
  const start = table.entries[e + 2]!;
  const length = table.entries[e + 3]! >>> CLASS_BITS;
  const sizeClass = table.entries[e + 3]! & CLASS_MASK;
  const ints = table.ints;
  const last = (start + length - 1) * RECORD;
  let r = start * RECORD;
  while (r <= last && ints[r + SLOT] !== slot) r += RECORD;
  if (r > last) return false;
  if (r !== last) ints.copyWithin(r, last, last + RECORD);
  table.entries[e + 3] = ((length - 1) << CLASS_BITS) | sizeClass;
  if (length === 1) {
    freeBlock(table, start, sizeClass);
    deleteEntry(table, i);
  } else if (sizeClass > 2 && length - 1 <= 1 << (sizeClass - 2)) {
    moveBlock(table, i, sizeClass - 1);
  }
  return true;
}

/** Records filed under all keys. */
export function postingCount(table: PostingTable): number {
  let total = 0;
  for (let e = 0; e < table.entries.length; e += ENTRY) if (table.entries[e] !== EMPTY) total += table.entries[e + 3]! >>> CLASS_BITS;
  return total;
}

export function postingBytes(table: PostingTable): number {
  return table.entries.byteLength + table.ints.byteLength;
}

function moveBlock(table: PostingTable, i: number, sizeClass: number): void {
  const e = i * ENTRY;
  const target = allocateBlock(table, sizeClass);
  const start = table.entries[e + 2]!;
  const length = table.entries[e + 3]! >>> CLASS_BITS;
  table.ints.copyWithin(target * RECORD, start * RECORD, (start + length) * RECORD);
  freeBlock(table, start, table.entries[e + 3]! & CLASS_MASK);
  table.entries[e + 2] = target;
  table.entries[e + 3] = (length << CLASS_BITS) | sizeClass;
}

function allocateBlock(table: PostingTable, sizeClass: number): number {
  const free = table.freeBlocks[sizeClass]!;
  if (free !== EMPTY) {
    table.freeBlocks[sizeClass] = table.ints[free * RECORD]!;
    return free;
  }
  const size = 1 << sizeClass;
  if ((table.arenaTop + size) * RECORD > table.ints.length) growArena(table, Math.max(Math.ceil(table.arenaTop * 1.5), table.arenaTop + size));
  const start = table.arenaTop;
  table.arenaTop += size;
  return start;
}

function growArena(table: PostingTable, records: number): void {
  const buffer = new ArrayBuffer(records * RECORD * 4);
  const ints = new Int32Array(buffer);
  ints.set(table.ints);
  table.ints = ints;
  table.floats = new Float32Array(buffer);
}

function freeBlock(table: PostingTable, start: number, sizeClass: number): void {
  table.ints[start * RECORD] = table.freeBlocks[sizeClass]!;
  table.freeBlocks[sizeClass] = start;
}

function deleteEntry(table: PostingTable, hole: number): void {
  const { entries, mask } = table;
  let i = hole;
  for (let j = (i + 1) & mask; entries[j * ENTRY] !== EMPTY; j = (j + 1) & mask) {
    const home = hash(entries[j * ENTRY]!, entries[j * ENTRY + 1]!) & mask;
    // Entry j may fill the hole at i unless its home lies cyclically in (i, j].
    const stays = i <= j ? i < home && home <= j : i < home || home <= j;
    if (stays) continue;
    entries.copyWithin(i * ENTRY, j * ENTRY, j * ENTRY + ENTRY);
    i = j;
  }
  entries[i * ENTRY] = EMPTY;
  table.keys--;
}

function rehash(table: PostingTable, size: number): void {
  const old = table.entries;
  const entries = emptyEntries(size);
  const mask = size - 1;
  for (let e = 0; e < old.length; e += ENTRY) {
    if (old[e] === EMPTY) continue;
    let i = hash(old[e]!, old[e + 1]!) & mask;
    while (entries[i * ENTRY] !== EMPTY) i = (i + 1) & mask;
    entries.set(old.subarray(e, e + ENTRY), i * ENTRY);
  }
  table.entries = entries;
  table.mask = mask;
}
