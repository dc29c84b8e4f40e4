/**
 * Reads of storage's Mongo projection, in the collections `projection_meta`
 * names (@pushtech/contracts, projection/meta.ts: switched by a rebuild).
 */
import { collectionNamesOf, META_COLLECTION, META_ID, type CollectionNames, type ProjectionMetaDocument } from '@pushtech/contracts';
import type { Listing } from '@pushtech/listings';
import type { Logger } from '@pushtech/logging';
import type { Db } from '@pushtech/mongo';

/** The projection's collections now (read every time: callers that ask often cache it). */
export async function currentCollections(db: Db): Promise<CollectionNames> {
  return collectionNamesOf(await db.collection<ProjectionMetaDocument>(META_COLLECTION).findOne({ _id: META_ID }));
}

const LISTING_FIELDS = ['id', 'kind', 'ownerId', 'title', 'description', 'tags', 'location', 'radiusM', 'follow', 'status', 'imageIds', 'expiresAt', 'version'] as const;

/** The listing of a projection document: its own fields only, nulls dropped. */
export function listingOf(doc: Record<string, unknown>): Listing {
  const listing: Record<string, unknown> = {};
  for (const field of LISTING_FIELDS) if (doc[field] !== null && doc[field] !== undefined) listing[field] = doc[field];
  return listing as unknown as Listing;
}

export interface LoadProgress {
  loaded: number;
  total: number;
  perSecond: number;
  elapsedS: number;
}

/**
 * Every active or paused listing of the projection (and `filter`), in
 * batches, to `load`. Reports progress about every `progressEveryMs` and at
 * the end.
 */
export async function loadListings(options: {
  db: Db;
  collection: string;
  load: (listing: Listing) => void;
  logger: Logger;
  /** More conditions on the documents (e.g. `{ follow: true }`). */
  filter?: Record<string, unknown>;
  batchSize?: number;
  progressEveryMs?: number;
}): Promise<number> {
  const { db, collection, load, logger } = options;
  const filter = { ...options.filter, status: { $in: ['active', 'paused'] } };
  const listings = db.collection(collection);
  const total = await listings.countDocuments(filter);
  const started = Date.now();
  let reported = started;
  let loaded = 0;
  const progress = (): LoadProgress => {
    const elapsedS = (Date.now() - started) / 1000;
    return { loaded, total, perSecond: Math.round(loaded / Math.max(elapsedS, 0.001)), elapsedS: Math.round(elapsedS * 10) / 10 };
  };
  const projection = Object.fromEntries(LISTING_FIELDS.map((f) => [f, 1]));
  const cursor = listings.find(filter, { projection, batchSize: options.batchSize ?? 5_000 });
  for await (const doc of cursor) {
    load(listingOf(doc));
    loaded++;
    if (Date.now() - reported >= (options.progressEveryMs ?? 2_000)) {
      reported = Date.now();
      logger.info(progress(), `loading listings: ${loaded} / ${total}`);
    }
  }
  logger.info({ ...progress(), collection }, `loaded ${loaded} listings from the projection`);
  return loaded;
}

