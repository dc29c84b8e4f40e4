/** What the offer server knows of each source's items: one document per source in `offer_source_items`. */
import type { Collection, Db } from '@pushtech/mongo';
import { ITEMS_COLLECTION } from './source-store.ts';
import type { KnownItem } from './sync-items.ts';

interface ItemsDocument {
  _id: string;
  items: KnownItem[];
}

export function createItemStore(db: Db) {
  const collection: Collection<ItemsDocument> = db.collection(ITEMS_COLLECTION);
  return {
    async get(sourceId: string): Promise<KnownItem[]> {
      return (await collection.findOne({ _id: sourceId }))?.items ?? [];
    },
    async put(sourceId: string, items: KnownItem[]): Promise<void> {
      await collection.replaceOne({ _id: sourceId }, { items }, { upsert: true });
    },
    async remove(sourceId: string): Promise<void> {
      await collection.deleteOne({ _id: sourceId });
    },
  };
}

export type ItemStore = ReturnType<typeof createItemStore>;
