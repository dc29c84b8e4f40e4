/**
 * Reads of storage's Mongo projection: listing titles, and the devices (loaded
 * once at start: device-owners.ts), in the collections `projection_meta`
 * names (switched by a rebuild) — read at most once a second, as storage's own
 * readers do.
 */
import type { CollectionNames, DeviceDocument } from '@pushtech/contracts';
import { currentCollections } from '@pushtech/listing-log';
import { findByIds, type Db } from '@pushtech/mongo';

export interface StorageProjection {
  /** Titles of the listings the projection has, by id. */
  titles(ids: string[]): Promise<Map<string, string>>;
  /** Every document of the devices collection, in batches. */
  devices(): AsyncIterable<DeviceDocument>;
}

export function storageProjection(db: Db, now: () => number = Date.now, cacheMs = 1_000): StorageProjection {
  let cached: { at: number; names: CollectionNames } | undefined;
  async function names(): Promise<CollectionNames> {
    if (cached === undefined || now() - cached.at >= cacheMs) cached = { at: now(), names: await currentCollections(db) };
    return cached.names;
  }
  return {
    async titles(ids) {
      if (ids.length === 0) return new Map();
      const docs = await findByIds(db.collection<{ _id: string; title?: unknown }>((await names()).listings), ids, { projection: { title: 1 } });
      return new Map(docs.filter((d) => typeof d.title === 'string').map((d) => [d._id, d.title as string]));
    },
    async *devices() {
      yield* db.collection<DeviceDocument>((await names()).devices).find({}, { batchSize: 5_000 });
    },
  };
}
