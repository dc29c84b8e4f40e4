/**
 * Which Mongo collections hold the projections right now: the pointer in
 * `projection_meta` (@pushtech/contracts, projection/meta.ts). A rebuild fills
 * fresh collections and then switches it; the API and the projector read it
 * (cached for `cacheMs`), so they follow the switch within that time.
 */
import {
  collectionNamesOf, META_COLLECTION, META_ID, type CollectionNames, type DeviceDocument, type ProjectionMetaDocument,
} from '@pushtech/contracts';
import type { Collection, Db, IndexSpec } from '@pushtech/mongo';
import type { CellsDocument } from './listing-cells.ts';
import type { ListingDocument } from './listing-document.ts';
import type { MatchDocument } from './match-document.ts';

export interface ProjectionCollections {
  names: CollectionNames;
  listings: Collection<ListingDocument>;
  matches: Collection<MatchDocument>;
  devices: Collection<DeviceDocument>;
  listingCells: Collection<CellsDocument>;
}

/** Every index the projections need (created on start and by a rebuild, before the switch). */
export function projectionIndexes(names: CollectionNames): IndexSpec[] {
  return [
    { collection: names.listings, key: { ownerId: 1 }, name: 'ownerId' },
    { collection: names.matches, key: { pair: 1 }, name: 'pair', options: { unique: true } },
    { collection: names.matches, key: { searchId: 1 }, name: 'searchId' },
    { collection: names.matches, key: { offerId: 1 }, name: 'offerId' },
    { collection: names.devices, key: { userId: 1 }, name: 'userId' },
  ];
}

/** The collections of `names`. */
export function projectionCollections(db: Db, names: CollectionNames): ProjectionCollections {
  return {
    names,
    listings: db.collection<ListingDocument>(names.listings),
    matches: db.collection<MatchDocument>(names.matches),
    devices: db.collection<DeviceDocument>(names.devices),
    listingCells: db.collection<CellsDocument>(names.listingCells),
  };
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
  const meta = db.collection<ProjectionMetaDocument>(META_COLLECTION);
  let cached: { at: number; value: ProjectionCollections } | undefined;

  const collections = (names: CollectionNames) => projectionCollections(db, names);

  async function read(): Promise<CollectionNames> {
    return collectionNamesOf(await meta.findOne({ _id: META_ID }));
  }

  const sameNames = (a: CollectionNames, b: CollectionNames) => (Object.keys(a) as (keyof CollectionNames)[]).every((k) => a[k] === b[k]);

  return {
    read,
    async current() {
      const now = Date.now();
      if (cached === undefined || now - cached.at >= cacheMs) {
        const names = await read();
        const same = cached !== undefined && sameNames(cached.value.names, names);
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
