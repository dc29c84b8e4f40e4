/**
 * Which Mongo collections hold the projections right now. A rebuild fills
 * fresh collections and then switches this pointer; the API and the projector
 * read it (cached for `cacheMs`), so they follow the switch within that time.
 *
 * `projection_meta` holds one document:
 * `{ _id: "current", listings: "listings_…", matches: "matches_…", switchedAt }`.
 * Without it the collections are `listings` and `matches`.
 */
import type { Collection, Db, IndexSpec } from '@pushtech/mongo';
import type { ListingDocument } from './listing-document.ts';
import type { MatchDocument } from './match-document.ts';

export const META_COLLECTION = 'projection_meta';
const META_ID = 'current';

export interface CollectionNames {
  listings: string;
  matches: string;
}

export const DEFAULT_COLLECTIONS: CollectionNames = { listings: 'listings', matches: 'matches' };

interface MetaDocument extends CollectionNames {
  _id: string;
  switchedAt: string;
}

export interface ProjectionCollections {
  names: CollectionNames;
  listings: Collection<ListingDocument>;
  matches: Collection<MatchDocument>;
}

/** Every index the projections need (created on start and by a rebuild, before the switch). */
export function projectionIndexes(names: CollectionNames): IndexSpec[] {
  return [
    { collection: names.listings, key: { cells: 1 }, name: 'cells' },
    { collection: names.listings, key: { ownerId: 1 }, name: 'ownerId' },
    { collection: names.matches, key: { pair: 1 }, name: 'pair', options: { unique: true } },
    { collection: names.matches, key: { searchId: 1 }, name: 'searchId' },
    { collection: names.matches, key: { offerId: 1 }, name: 'offerId' },
  ];
}

export interface CollectionPointer {
  /** The current collections (read from `projection_meta` at most every `cacheMs`). */
  current(): Promise<ProjectionCollections>;
  /** Points everyone at `names`. */
  switchTo(names: CollectionNames): Promise<void>;
  /** The names in `projection_meta`, read now. */
  read(): Promise<CollectionNames>;
}

export function collectionPointer(db: Db, options: { cacheMs?: number } = {}): CollectionPointer {
  const cacheMs = options.cacheMs ?? 1_000;
  const meta = db.collection<MetaDocument>(META_COLLECTION);
  let cached: { at: number; value: ProjectionCollections } | undefined;

  const collections = (names: CollectionNames): ProjectionCollections => ({
    names,
    listings: db.collection<ListingDocument>(names.listings),
    matches: db.collection<MatchDocument>(names.matches),
  });

  async function read(): Promise<CollectionNames> {
    const doc = await meta.findOne({ _id: META_ID });
    return doc === null ? DEFAULT_COLLECTIONS : { listings: doc.listings, matches: doc.matches };
  }

  return {
    read,
    async current() {
      const now = Date.now();
      if (cached === undefined || now - cached.at >= cacheMs) {
        const names = await read();
        const same = cached !== undefined && cached.value.names.listings === names.listings && cached.value.names.matches === names.matches;
        cached = { at: now, value: same ? cached!.value : collections(names) };
      }
      return cached.value;
    },
    async switchTo(names) {
      await meta.updateOne({ _id: META_ID }, { $set: { ...names, switchedAt: new Date().toISOString() } }, { upsert: true });
      cached = { at: Date.now(), value: collections(names) };
    },
  };
}
