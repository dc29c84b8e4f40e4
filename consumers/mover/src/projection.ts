/**
 * The collections of storage's projection: the ones `projection_meta` names
 * (`{ _id: "current", listings, matches }`, switched by a rebuild), else
 * `listings` — read at most once a second, as storage's own readers do.
 */
import type { Db } from '@pushtech/mongo';

export function projectionCollections(db: Db, cacheMs = 1_000) {
  let cached: { at: number; listings: string } | undefined;
  return {
    async listings(): Promise<string> {
      if (cached === undefined || Date.now() - cached.at >= cacheMs) {
        const meta = await db.collection<{ _id: string; listings?: string }>('projection_meta').findOne({ _id: 'current' });
        cached = { at: Date.now(), listings: meta?.listings ?? 'listings' };
      }
      return cached.listings;
    },
  };
}
