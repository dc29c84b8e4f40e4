/** The matches projection, as the matcher reconciles with it. */
import type { Db } from '@pushtech/mongo';
import type { RecordedPair } from './matching.ts';

/** The pairs recorded as found in the matches projection, for the searches `wanted` accepts. */
export async function foundPairs(db: Db, collection: string, wanted: (searchId: string) => boolean): Promise<RecordedPair[]> {
  const fields = ['searchId', 'offerId', 'searchOwnerId', 'offerOwnerId', 'distanceM', 'searchVersion', 'offerVersion', 'state'];
  const cursor = db.collection(collection).find({ state: 'found' }, { projection: Object.fromEntries(fields.map((f) => [f, 1])), batchSize: 5_000 });
  const pairs: RecordedPair[] = [];
  for await (const doc of cursor) {
    if (typeof doc.searchId !== 'string' || !wanted(doc.searchId)) continue;
    pairs.push({
      searchId: doc.searchId,
      offerId: String(doc.offerId),
      searchOwnerId: String(doc.searchOwnerId ?? ''),
      offerOwnerId: String(doc.offerOwnerId ?? ''),
      distanceM: Number(doc.distanceM ?? 0),
      searchVersion: Number(doc.searchVersion ?? 0),
      offerVersion: Number(doc.offerVersion ?? 0),
      state: 'found',
    });
  }
  return pairs;
}
