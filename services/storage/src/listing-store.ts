/** Reads of the Mongo projections (the projector writes them: projection-writer.ts). */
import type { Listing, ListingKind, ListingStatus, Point } from '@pushtech/listings';
import { toListing, type ListingDocument } from './listing-document.ts';
import type { MatchDocument } from './match-document.ts';
import type { CollectionPointer } from './projection-collections.ts';

/** What the nearby query needs of a candidate before it picks a page. */
export interface NearbyCandidate {
  id: string;
  location: Point;
  expiresAt?: string;
}

export interface ListingStore {
  get(id: string): Promise<Listing | null>;
  /** The projection's version of a listing and the ids of its latest events. */
  version(id: string): Promise<{ version: number; eventIds: string[] } | null>;
  /** Listings of an owner, newest first (ids are UUIDv7), after `beforeId`; `limit + 1` to see if there is more. */
  byOwner(query: { ownerId: string; status?: ListingStatus; beforeId?: string; limit: number }): Promise<Listing[]>;
  /** Active listings of `kind` in any of `cells` having every one of `terms`. */
  candidates(query: { kind: ListingKind; cells: string[]; terms: string[] }): Promise<NearbyCandidate[]>;
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
    async candidates({ kind, cells, terms }) {
      const filter: Record<string, unknown> = { kind, status: 'active', cells: { $in: cells } };
      if (terms.length > 0) filter.terms = { $all: terms };
      const docs = await (await listings())
        .find(filter, { projection: { _id: 1, location: 1, expiresAt: 1 } })
        .toArray() as Pick<ListingDocument, '_id' | 'location' | 'expiresAt'>[];
      return docs.map((d) => (d.expiresAt == null ? { id: d._id, location: d.location } : { id: d._id, location: d.location, expiresAt: d.expiresAt }));
    },
    async byIds(ids) {
      if (ids.length === 0) return [];
      const docs = await (await listings()).find({ _id: { $in: ids } }).toArray();
      return docs.map(toListing);
    },
    async currentMatches(id) {
      const { matches } = await pointer.current();
      return matches.find({ $or: [{ searchId: id }, { offerId: id }], state: 'found' }).toArray();
    },
  };
}
