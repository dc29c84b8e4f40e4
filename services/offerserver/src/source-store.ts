/**
 * Sources in MongoDB (`offer_sources`), their claims (`offer_source_claims`) and the hosts that
 * asked us to wait (`offer_hosts`).
 *
 * `nextDueAt` is the truth of when a source is due; a source that must not be fetched (disabled,
 * gone) has `nextDueAt: null`. The due check reads the due index (due-index.ts), kept beside it.
 *
 * Claims are unique inserts, not conditional updates (on FerretDB 1.24 concurrent conditional
 * updates can all "match"; a unique `_id` holds on FerretDB and MongoDB alike). A claim's `_id`
 * is the source, the due time it claims and the lease window: `<id>|<nextDueAtMs>|<window>`,
 * window = ⌊(now − nextDueAt) / lease⌋. One instance wins each window; when it finishes it moves
 * `nextDueAt`, so nobody can claim that due time again. An instance that dies holding a claim
 * loses it when the window ends: the next window's claim is free.
 */
import type { Collection, Db, IndexSpec } from '@pushtech/mongo';
import { isDuplicateKey } from '@pushtech/mongo';
import type { Point } from '@pushtech/listings';
import { createDueIndex } from './due-index.ts';
import type { Mapping, SourceKind } from './source-input.ts';

export const SOURCES_COLLECTION = 'offer_sources';
export const CLAIMS_COLLECTION = 'offer_source_claims';
export const HOSTS_COLLECTION = 'offer_hosts';
export const ITEMS_COLLECTION = 'offer_source_items';

export interface SourceState {
  lastFetchAt: Date | null;
  lastSuccessAt: Date | null;
  consecutiveErrors: number;
  lastError: string | null;
  /** HTTP status of the last answer (304 included), null before the first or after a network error. */
  lastStatus: number | null;
  /** 404/410 answers in a row; at IMPORT_GONE_AFTER the source is `gone`. */
  goneCount: number;
  gone: boolean;
  etag: string | null;
  lastModified: string | null;
  itemsSeen: number;
  itemsCreated: number;
  itemsUpdated: number;
  itemsClosed: number;
}

export interface SourceDocument {
  _id: string;
  kind: SourceKind;
  url: string;
  refreshSeconds: number;
  defaultLocation?: Point;
  radiusM: number;
  tags: string[];
  ttlHours: number;
  enabled: boolean;
  mapping?: Mapping;
  createdAt: Date;
  updatedAt: Date;
  nextDueAt: Date | null;
  state: SourceState;
}

export type NewSource = Omit<SourceDocument, '_id' | 'createdAt' | 'updatedAt' | 'nextDueAt' | 'state'>;

export function initialState(): SourceState {
  return {
    lastFetchAt: null, lastSuccessAt: null, consecutiveErrors: 0, lastError: null, lastStatus: null,
    goneCount: 0, gone: false, etag: null, lastModified: null,
    itemsSeen: 0, itemsCreated: 0, itemsUpdated: 0, itemsClosed: 0,
  };
}

/** Every query of the sources is by `_id` (the due check reads the due index); none needed beyond it. */
export const sourceIndexes: IndexSpec[] = [];

interface ClaimDocument {
  _id: string;
  sourceId: string;
  owner: string;
  claimedAt: Date;
}

interface HostDocument {
  _id: string;
  blockedUntil: Date;
}

/** A claimed source: fetch it, then `finish` (or `release`) the claim. */
export interface Claim {
  id: string;
  source: SourceDocument;
}

export function createSourceStore(db: Db, options: { owner: string; leaseMs: number }) {
  const sources: Collection<SourceDocument> = db.collection(SOURCES_COLLECTION);
  const claims: Collection<ClaimDocument> = db.collection(CLAIMS_COLLECTION);
  const hosts: Collection<HostDocument> = db.collection(HOSTS_COLLECTION);
  const dueIndex = createDueIndex(db);

  return {
    sources,
    dueIndex,
    async insert(id: string, source: NewSource, now: Date): Promise<SourceDocument> {
      const doc: SourceDocument = { _id: id, ...source, createdAt: now, updatedAt: now, nextDueAt: source.enabled ? now : null, state: initialState() };
      await dueIndex.reschedule(id, null, doc.nextDueAt, () => sources.insertOne(doc));
      return doc;
    },
    get: (id: string) => sources.findOne({ _id: id }),
    list: (limit: number, afterId?: string) =>
      sources.find(afterId === undefined ? {} : { _id: { $gt: afterId } }).sort({ _id: 1 }).limit(limit).toArray(),
    /** Writes `doc` over `before` (a PATCH). */
    async replace(before: SourceDocument, doc: SourceDocument): Promise<void> {
      await dueIndex.reschedule(doc._id, before.nextDueAt, doc.nextDueAt, () => sources.replaceOne({ _id: doc._id }, doc));
    },
    async remove(source: SourceDocument): Promise<boolean> {
      let deleted = false;
      await dueIndex.reschedule(source._id, source.nextDueAt, null, async () => {
        deleted = (await sources.deleteOne({ _id: source._id })).deletedCount === 1;
      });
      return deleted;
    },
    /** Up to `limit` due sources, earliest first (ids and due times only). */
    due: (now: Date, limit: number, skip?: ReadonlySet<string>) => dueIndex.due(now, limit, skip),
    /** Claims the source at the due time read, or undefined when another instance has it (or it moved). */
    async claim(sourceId: string, dueAt: Date, now: Date): Promise<Claim | undefined> {
      const window = Math.max(0, Math.floor((now.getTime() - dueAt.getTime()) / options.leaseMs));
      const id = `${sourceId}|${dueAt.getTime()}|${window}`;
      try {
        await claims.insertOne({ _id: id, sourceId, owner: options.owner, claimedAt: now });
      } catch (err) {
        if (isDuplicateKey(err)) return undefined;
        throw err;
      }
      // Read after claiming: an instance that finished this due time moved nextDueAt.
      const source = await sources.findOne({ _id: sourceId });
      if (source === null || !source.enabled || source.nextDueAt?.getTime() !== dueAt.getTime()) {
        // A stale entry of the due index: the source's own entry (if any) is at its nextDueAt.
        await dueIndex.reschedule(sourceId, dueAt, source?.enabled ? source.nextDueAt : null, async () => {});
        await claims.deleteOne({ _id: id });
        return undefined;
      }
      return { id, source };
    },
    /** Writes the fetch's outcome (only the scheduler's fields: an API change made meanwhile stays) and drops the claim; `deleted` when the source was deleted meanwhile. */
    async finish(claim: Claim, update: { nextDueAt: Date | null; state: SourceState }): Promise<{ deleted: boolean }> {
      let found = false;
      await dueIndex.reschedule(claim.source._id, claim.source.nextDueAt, update.nextDueAt, async () => {
        found = (await sources.updateOne({ _id: claim.source._id }, { $set: { nextDueAt: update.nextDueAt, state: update.state } })).matchedCount === 1;
      });
      if (!found && update.nextDueAt !== null) await dueIndex.remove(claim.source._id, update.nextDueAt);
      await claims.deleteOne({ _id: claim.id });
      return { deleted: !found };
    },
    async release(claim: Claim, nextDueAt: Date): Promise<void> {
      await dueIndex.reschedule(claim.source._id, claim.source.nextDueAt, nextDueAt, () => sources.updateOne({ _id: claim.source._id }, { $set: { nextDueAt } }));
      await claims.deleteOne({ _id: claim.id });
    },
    async hostBlockedUntil(host: string): Promise<Date | undefined> {
      return (await hosts.findOne({ _id: host }))?.blockedUntil;
    },
    async blockHost(host: string, until: Date): Promise<void> {
      await hosts.updateOne({ _id: host }, { $max: { blockedUntil: until } }, { upsert: true });
    },
  };
}

export type SourceStore = ReturnType<typeof createSourceStore>;
