/**
 * The nearby index (collection `listing_cells`, named in `projection_meta`): for each kind and H3
 * cell of NEARBY_RESOLUTION, one document holding the active listings located there,
 *
 *   { _id: "offer:871f1d489ffffff", m: { <listing id, base64url>: "<version> <lng> <lat> <expiresAt ms|-> <term> <term> …" } }
 *
 * A nearby query reads the cells around its centre ring by ring (nearby.ts), each one by `_id`.
 * Why not a multikey index on the listings: the local FerretDB answers only an `_id` equality from
 * an index, so `{cells: {$in}}` decoded the whole listings collection on every query (13.7 s p50 on
 * 10,000 listings); `_id` reads are what every Mongo-wire server answers fast. Entries are strings
 * because FerretDB decodes a string ~5× faster than a nested document.
 *
 * Beside them, for each kind and H3 cell of OCCUPANCY_RESOLUTION, the cells under it that have held
 * a listing of that kind:
 *
 *   { _id: "offer:occupied:841f1d5ffffffff", occupied: ["871f1d489ffffff", …] }
 *
 * so a wide query far from any listing reads a few dozen occupancy documents instead of thousands of
 * empty cells (100 km: ~7,000 cells of NEARBY_RESOLUTION). A cell is added when a listing enters
 * it and never removed (removing could race with a listing entering); an emptied cell costs one
 * `_id` read, and `rebuild` starts the set afresh.
 *
 * The projector writes a listing's occupancy and entry before the listing's document (so a write
 * answered by read-your-writes is already findable), on every change of the listing: an entry's
 * version is its document's. An entry left behind in another cell (a crash between the writes, two
 * writers during a rebalance) is dropped by the query that meets it (`dropStaleEntry`).
 */
import type { Collection } from '@pushtech/mongo';
import { cellFor, parentCell, point, type Listing, type ListingKind, type Point } from '@pushtech/listings';
import type { ListingDocument } from './listing-document.ts';

/** Edge ≈ 1.4 km, area ≈ 5 km²: a 500 m query reads up to 7 cells, a 25 km one a few hundred at most. */
export const NEARBY_RESOLUTION = 7;
/** Edge ≈ 26 km: a cell of it holds 343 of NEARBY_RESOLUTION; a 100 km query meets a few dozen. */
export const OCCUPANCY_RESOLUTION = 4;

/** A cells document (`m`: its entries) or an occupancy document (`occupied`: its cells that have held a listing). */
export interface CellsDocument {
  _id: string;
  m?: Record<string, string>;
  occupied?: string[];
}

/** A listing as the nearby index holds it. */
export interface CellEntry {
  id: string;
  /** `_id` of the cells document it was read from. */
  cellsId: string;
  version: number;
  location: Point;
  expiresAtMs: number;
  terms: string[];
  /** The entry as stored (the guard of `dropStaleEntry`). */
  raw: string;
}

export const cellsIdOf = (kind: ListingKind, cell: string) => `${kind}:${cell}`;
const occupancyIdOf = (kind: ListingKind, cell: string) => `${kind}:occupied:${parentCell(cell, OCCUPANCY_RESOLUTION)}`;

/** The cells document a listing at its location belongs to (when active). */
export const cellsIdOfListing = (listing: Pick<Listing, 'kind' | 'location'>) => cellsIdOf(listing.kind, cellFor(listing.location, NEARBY_RESOLUTION));
const entryKey = (id: string) => Buffer.from(id).toString('base64url');
const idOfKey = (key: string) => Buffer.from(key, 'base64url').toString();

/** Where a listing belongs in the index and what its entry says; null when it is not active. */
export function placeOf(doc: Pick<ListingDocument, 'kind' | 'status' | 'location' | 'version' | 'expiresAt' | 'terms'> | null): { cellsId: string; cell: string; occupancyId: string; entry: string } | null {
  if (doc === null || doc.status !== 'active') return null;
  const [lng, lat] = doc.location.coordinates;
  const expires = doc.expiresAt === undefined || doc.expiresAt === null ? '-' : String(Date.parse(doc.expiresAt));
  const cell = cellFor(doc.location, NEARBY_RESOLUTION);
  return {
    cellsId: cellsIdOf(doc.kind, cell),
    cell,
    occupancyId: occupancyIdOf(doc.kind, cell),
    entry: [doc.version, lng, lat, expires, ...doc.terms].join(' '),
  };
}

function parseEntry(cellsId: string, key: string, raw: string): CellEntry {
  const [version, lng, lat, expires, ...terms] = raw.split(' ');
  return {
    id: idOfKey(key),
    cellsId,
    version: Number(version),
    location: point(Number(lng), Number(lat)),
    expiresAtMs: expires === '-' ? Infinity : Number(expires),
    terms,
    raw,
  };
}

/** Moves a listing's entry from where `before` put it to where `after` puts it (either may be nowhere). */
export async function writeListingCells(cells: Collection<CellsDocument>, before: ListingDocument | null, after: ListingDocument): Promise<void> {
  const from = placeOf(before);
  const to = placeOf(after);
  const field = `m.${entryKey(after._id)}`;
  const entering = to !== null && to.cellsId !== from?.cellsId;
  if (entering) await cells.updateOne({ _id: to.occupancyId }, { $addToSet: { occupied: to.cell } }, { upsert: true });
  if (to !== null) await cells.updateOne({ _id: to.cellsId }, { $set: { [field]: to.entry } }, { upsert: true });
  if (from !== null && from.cellsId !== to?.cellsId) await cells.updateOne({ _id: from.cellsId }, { $unset: { [field]: '' } });
}

/**
 * A reader of one kind's entries, for one query: called with cells, it gives their entries,
 * reading only the cells that have held a listing (one `_id` read each, all at once). It keeps the
 * occupancy documents it has read, so a query reading ring after ring reads each once.
 */
export function cellsReader(cells: Collection<CellsDocument>, kind: ListingKind): (cellIds: string[]) => Promise<CellEntry[]> {
  const occupancy = new Map<string, Promise<Set<string>>>();
  const occupiedUnder = (cell: string) => {
    const id = occupancyIdOf(kind, cell);
    let occupied = occupancy.get(id);
    if (occupied === undefined) {
      occupied = cells.findOne({ _id: id }).then((doc) => new Set(doc?.occupied));
      occupancy.set(id, occupied);
    }
    return occupied;
  };
  return async (cellIds) => {
    const occupied = await Promise.all(cellIds.map(async (cell) => (await occupiedUnder(cell)).has(cell)));
    const docs = await Promise.all(cellIds.filter((_, i) => occupied[i]).map((cell) => cells.findOne({ _id: cellsIdOf(kind, cell) })));
    const entries: CellEntry[] = [];
    for (const doc of docs) {
      if (doc?.m === undefined) continue;
      for (const [key, raw] of Object.entries(doc.m)) entries.push(parseEntry(doc._id, key, raw));
    }
    return entries;
  };
}

/** Removes `entry` if it is still what its cells document holds (a newer entry written meanwhile stays). */
export async function dropStaleEntry(cells: Collection<CellsDocument>, entry: CellEntry): Promise<void> {
  const field = `m.${entryKey(entry.id)}`;
  await cells.updateOne({ _id: entry.cellsId, [field]: entry.raw }, { $unset: { [field]: '' } });
}

/**
 * Fills an empty index from the listings collection: a projection written before the index
 * existed. Runs on start; writes nothing when the index has a document or there is no listing.
 * Entries are written a cell at a time (one `$set` of all its entries in a chunk of listings);
 * `onChunk` hears how many listings are in after each chunk (a large projection takes minutes).
 */
export async function fillListingCells(
  cells: Collection<CellsDocument>,
  listings: Collection<ListingDocument>,
  options: { chunk?: number; onChunk?: (filled: number) => void } = {},
): Promise<number> {
  const chunk = options.chunk ?? 5_000;
  if (await cells.findOne({}) !== null) return 0;
  let filled = 0;
  let byCell = new Map<string, Record<string, string>>();
  let byOccupancy = new Map<string, Set<string>>();
  const flush = async () => {
    // Occupancy first, as the projector writes it: a cell's entries are never where a query would not look.
    await Promise.all([...byOccupancy].map(([id, occupied]) => cells.updateOne({ _id: id }, { $addToSet: { occupied: { $each: [...occupied] } } }, { upsert: true })));
    await Promise.all([...byCell].map(([cellsId, entries]) => cells.updateOne({ _id: cellsId }, { $set: entries }, { upsert: true })));
    byCell = new Map();
    byOccupancy = new Map();
  };
  for await (const doc of listings.find({ status: 'active' })) {
    const place = placeOf(doc);
    if (place === null) continue;
    const entries = byCell.get(place.cellsId) ?? {};
    entries[`m.${entryKey(doc._id)}`] = place.entry;
    byCell.set(place.cellsId, entries);
    byOccupancy.set(place.occupancyId, (byOccupancy.get(place.occupancyId) ?? new Set()).add(place.cell));
    if (++filled % chunk === 0) {
      await flush();
      options.onChunk?.(filled);
    }
  }
  await flush();
  return filled;
}
