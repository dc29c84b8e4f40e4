/**
 * Which sources are due, without scanning the sources: one small collection per minute of due
 * time (`offer_due_<minute>`), holding `{_id: sourceId, dueAt}` for each source due in that
 * minute. A due check lists the collections (a metadata read) and reads only those of minutes
 * already begun, earliest first; the cost follows the number of due sources, not of registered
 * ones. Every write is by `_id` (an upsert or a delete): the local FerretDB answers nothing else
 * from an index (a filter on `nextDueAt` would decode the whole sources collection, ~0.5 ms a
 * source), and MongoDB answers it the same way.
 *
 * The sources collection stays the truth (`nextDueAt`): an entry is a hint that a claim checks
 * (source-store.ts), and a stale one (the source moved on, was disabled or deleted) is removed
 * when met. A minute's collection is dropped once it is empty and more than two minutes old
 * (writers only write due times from now on, so nothing is written there any more).
 */
import type { Collection, Db } from '@pushtech/mongo';

export const DUE_PREFIX = 'offer_due_';
const BUCKET_MS = 60_000;

interface DueEntry {
  _id: string;
  dueAt: Date;
}

export interface DueSource {
  _id: string;
  nextDueAt: Date;
}

const bucketOf = (dueAt: Date) => Math.floor(dueAt.getTime() / BUCKET_MS);

/** The collection that holds the entries due in the minute of `dueAt`. */
export const dueCollectionName = (dueAt: Date) => `${DUE_PREFIX}${bucketOf(dueAt)}`;

export function createDueIndex(db: Db) {
  const bucket = (n: number): Collection<DueEntry> => db.collection(`${DUE_PREFIX}${n}`);

  async function buckets(): Promise<number[]> {
    const names = await db.listCollections({}, { nameOnly: true }).toArray();
    return names
      .map((c) => c.name)
      .filter((name) => name.startsWith(DUE_PREFIX))
      .map((name) => Number(name.slice(DUE_PREFIX.length)))
      .filter(Number.isInteger)
      .sort((a, b) => a - b);
  }

  return {
    async put(sourceId: string, dueAt: Date): Promise<void> {
      await bucket(bucketOf(dueAt)).replaceOne({ _id: sourceId }, { dueAt }, { upsert: true });
    },
    async remove(sourceId: string, dueAt: Date | null): Promise<void> {
      if (dueAt !== null) await bucket(bucketOf(dueAt)).deleteOne({ _id: sourceId });
    },
    /**
     * Moves the entry from one due time to another (null: none) around `write`, the change of the
     * source itself: the new entry first, the old one removed last, so that a crash in between
     * leaves a stale entry (removed when met) rather than a due source without one.
     */
    async reschedule(sourceId: string, from: Date | null, to: Date | null, write: () => Promise<unknown>): Promise<void> {
      if (to !== null) await this.put(sourceId, to);
      await write();
      if (from !== null && (to === null || bucketOf(from) !== bucketOf(to))) await this.remove(sourceId, from);
    },
    /** Up to `limit` entries due at `now`, earliest minute first, none of `skip`; drops old empty minutes. */
    async due(now: Date, limit: number, skip: ReadonlySet<string> = new Set()): Promise<DueSource[]> {
      const current = bucketOf(now);
      const found: DueSource[] = [];
      for (const n of await buckets()) {
        if (n > current || found.length >= limit) break;
        // A past minute is due whole: read only what the batch still needs. The current one is read whole (some of it is not due yet).
        const cursor = bucket(n).find({});
        const entries = (await (n < current ? cursor.limit(limit - found.length + skip.size) : cursor).toArray()).filter((e) => !skip.has(e._id));
        if (entries.length === 0 && n < current - 1) {
          await bucket(n).drop().catch(() => {}); // another instance dropped it first
          continue;
        }
        entries.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
        for (const entry of entries) if (entry.dueAt.getTime() <= now.getTime()) found.push({ _id: entry._id, nextDueAt: entry.dueAt });
      }
      return found.slice(0, limit);
    },
  };
}

export type DueIndex = ReturnType<typeof createDueIndex>;
