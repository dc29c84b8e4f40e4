/** Reads of the Mongo projections (the projector writes them: projection-writer.ts). */
import type { Listing, ListingKind, ListingStatus } from '@pushtech/listings';
import { findByIds } from '@pushtech/mongo';
import { cellsReader, dropStaleEntry, type CellEntry } from './listing-cells.ts';
import { toListing } from './listing-document.ts';
import type { MatchDocument } from './match-document.ts';
import type { CollectionPointer } from './projection-collections.ts';

export interface ListingStore {
  get(id: string): Promise<Listing | null>;
  /** The projection's version of a listing and the ids of its latest events. */
  version(id: string): Promise<{ version: number; eventIds: string[] } | null>;
  /** Listings of an owner, newest first (ids are UUIDv7), after `beforeId`; `limit + 1` to see if there is more. */
  byOwner(query: { ownerId: string; status?: ListingStatus; beforeId?: string; limit: number }): Promise<Listing[]>;
  /** A reader of the nearby index's entries of `kind` by H3 cells of NEARBY_RESOLUTION (listing-cells.ts), for one query. */
  cellsReader(kind: ListingKind): Promise<(cells: string[]) => Promise<CellEntry[]>>;
  /** Removes an entry the listing has left (if it is still there). */
  dropStale(entry: CellEntry): Promise<void>;
  /** The listings of `ids` that exist, in no particular order. */
  byIds(ids: string[]): Promise<Listing[]>;
  /** Pairs currently matched (`state: "found"`) where the listing is either side. */
  currentMatches(id: string): Promise<MatchDocument[]>;
}

export function createListingStore(pointer: CollectionPointer): ListingStore {
  const listings = async () => (await pointer.current()).listings;
  return {
    async get(id) {
      const doc = await (await listings()).findOne({ _id: id });
      return doc === null ? null : toListing(doc);
    },
    async version(id) {
      const doc = await (await listings()).findOne({ _id: id }, { projection: { version: 1, eventIds: 1 } });
      return doc === null ? null : { version: doc.version, eventIds: doc.eventIds ?? [] };
    },
    async byOwner({ ownerId, status, beforeId, limit }) {
      const filter: Record<string, unknown> = { ownerId };
      if (status !== undefined) filter.status = status;
      if (beforeId !== undefined) filter._id = { $lt: beforeId };
      const docs = await (await listings()).find(filter).sort({ _id: -1 }).limit(limit).toArray();
      return docs.map(toListing);
    },
    async cellsReader(kind) {
      return cellsReader((await pointer.current()).listingCells, kind);
    },
    async dropStale(entry) {
      await dropStaleEntry((await pointer.current()).listingCells, entry);
    },
    async byIds(ids) {
      return (await findByIds(await listings(), ids)).map(toListing);
    },
    async currentMatches(id) {
      const { matches } = await pointer.current();
      return matches.find({ $or: [{ searchId: id }, { offerId: id }], state: 'found' }).toArray();
    },
  };
}
