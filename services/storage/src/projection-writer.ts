/**
 * Applies a batch of events to a projection collection: per document, fold
 * the batch's events in log order with the projection's `evolve`, then write
 * once, guarded by what was read (`eventIds` unchanged), so two writers (the
 * live projector and a rebuild catching up) never overwrite each other: a
 * guarded write that finds the document changed reads it again and refolds.
 * Idempotent: events the document already reflects change nothing.
 *
 * The guard is in the replace's filter (`{_id, eventIds}`: atomic on MongoDB),
 * or, with `guardByRead`, checked on an `_id` read just before a replace by
 * `_id` — for FerretDB, which would otherwise decode the whole collection for
 * that filter and then do the same read-then-write itself (see `isFerretDb`).
 */
import type { Recorded } from '@pushtech/contracts';
import { findByIds, isDuplicateKey, type Collection } from '@pushtech/mongo';

export interface ProjectedDocument {
  _id: string;
  eventIds: string[];
}

export interface Projection<D extends ProjectedDocument, E> {
  /** The document an event belongs to. */
  keyOf(event: E): string;
  /** The document after the event; the same object when it changes nothing. */
  evolve(doc: D | null, record: Recorded<E>): D | null;
}

export interface WriteOptions<D = never> {
  guardByRead?: boolean;
  /** Runs before each write of a changed document (`before`: as read, null when new), again if the write must be refolded. */
  beforeWrite?: (before: D | null, after: D) => Promise<void>;
}

export interface BatchOutcome {
  /** Events that changed their document. */
  applied: number;
  /** Duplicates, old versions, events for unknown documents. */
  ignored: number;
  /** Every document key the batch touched. */
  keys: string[];
}

const MAX_ATTEMPTS = 10;

export async function applyBatch<D extends ProjectedDocument, E>(
  collection: Collection<D>,
  projection: Projection<D, E>,
  records: Recorded<E>[],
  options: WriteOptions<D> = {},
): Promise<BatchOutcome> {
  const byKey = Map.groupBy(records, (r) => projection.keyOf(r.event));
  const keys = [...byKey.keys()];
  const found = await findByIds(collection, keys);
  const loaded = new Map(found.map((doc) => [doc._id, doc]));
  let applied = 0;
  let ignored = 0;
  for (const [key, events] of byKey) {
    let original = loaded.get(key) ?? null;
    for (let attempt = 1; ; attempt++) {
      let doc = original;
      let changes = 0;
      for (const record of events) {
        const next = projection.evolve(doc, record);
        if (next !== doc) changes++;
        doc = next;
      }
      if (doc !== original && doc !== null) await options.beforeWrite?.(original, doc);
      if (doc === original || doc === null || await write(collection, original, doc, options)) {
        applied += changes;
        ignored += events.length - changes;
        break;
      }
      if (attempt === MAX_ATTEMPTS) throw new Error(`projection of ${key}: the document kept changing under ${MAX_ATTEMPTS} attempts`);
      // `as never`: the driver's filter types do not follow a generic document type.
      original = await collection.findOne({ _id: key } as never) as D | null;
    }
  }
  return { applied, ignored, keys };
}

/** Inserts or replaces `doc`; false when someone else changed the document since `original` was read. */
async function write<D extends ProjectedDocument>(collection: Collection<D>, original: D | null, doc: D, options: WriteOptions<D>): Promise<boolean> {
  if (original === null) {
    try {
      await collection.insertOne(doc as never);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
  if (options.guardByRead) {
    const current = await collection.findOne({ _id: original._id } as never, { projection: { eventIds: 1 } });
    if (current === null || !sameIds(current.eventIds, original.eventIds)) return false;
    return (await collection.replaceOne({ _id: original._id } as never, doc)).matchedCount === 1;
  }
  const result = await collection.replaceOne({ _id: original._id, eventIds: original.eventIds } as never, doc);
  return result.matchedCount === 1;
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
