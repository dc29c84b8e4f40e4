/**
 * Reads of storage's Mongo projection: listing titles, and the devices (loaded
 * once at start: device-owners.ts).
 * The collections are the ones `projection_meta` names (`{ _id: "current",
 * listings, matches, devices }`, switched by a rebuild), else `listings` and
 * `devices` — read at most once a second, as storage's own readers do
 * (services/storage/src/projection-collections.ts).
 */
import { findByIds, type Db } from '@pushtech/mongo';
import type { DeviceDocument } from '@pushtech/storage';

export const META_COLLECTION = 'projection_meta';

interface MetaDocument {
  _id: string;
  listings?: string;
  devices?: string;
}

export interface StorageProjection {
  /** Titles of the listings the projection has, by id. */
  titles(ids: string[]): Promise<Map<string, string>>;
  /** Every document of the devices collection, in batches. */
  devices(): AsyncIterable<DeviceDocument>;
}

export function storageProjection(db: Db, now: () => number = Date.now, cacheMs = 1_000): StorageProjection {
  let cached: { at: number; listings: string; devices: string } | undefined;
  async function names() {
    if (cached === undefined || now() - cached.at >= cacheMs) {
      const meta = await db.collection<MetaDocument>(META_COLLECTION).findOne({ _id: 'current' });
      cached = { at: now(), listings: meta?.listings ?? 'listings', devices: meta?.devices ?? 'devices' };
    }
    return cached;
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
