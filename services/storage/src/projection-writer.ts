/**
 * Applies a batch of events to a projection collection: per document, fold
 * the batch's events in log order with the projection's `evolve`, then write
 * once, guarded by what was read (`eventIds` unchanged), so two writers (the
 * live projector and a rebuild catching up) never overwrite each other: a
 * guarded write that finds the document changed reads it again and refolds.
 * Idempotent: events the document already reflects change nothing.
 */
import { findByIds, isDuplicateKey, type Collection } from '@pushtech/mongo';
import type { Recorded } from './records.ts';

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
      if (doc === original || doc === null || await write(collection, original, doc)) {
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
async function write<D extends ProjectedDocument>(collection: Collection<D>, original: D | null, doc: D): Promise<boolean> {
  if (original === null) {
    try {
      await collection.insertOne(doc as never);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
  const result = await collection.replaceOne({ _id: original._id, eventIds: original.eventIds } as never, doc);
  return result.matchedCount === 1;
}
