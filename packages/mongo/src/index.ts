import { MongoClient, type Collection, type CreateIndexesOptions, type Db, type FindOptions, type IndexSpecification } from 'mongodb';

export type { Db, Collection, MongoClient } from 'mongodb';
/** EJSON (`BSON.EJSON`): documents as JSON lines that keep their BSON types (backups). */
export { BSON } from 'mongodb';

export interface IndexSpec {
  collection: string;
  key: IndexSpecification;
  name: string;
  options?: Omit<CreateIndexesOptions, 'name'>;
}

export async function connectMongo(url: string, options: { appName: string; timeoutMs?: number }): Promise<MongoClient> {
  const client = new MongoClient(url, {
    appName: options.appName,
    serverSelectionTimeoutMS: options.timeoutMs ?? 10_000,
    connectTimeoutMS: options.timeoutMs ?? 10_000,
  });
  await client.connect();
  return client;
}

/**
 * The "migrations": every index a service needs, created on start, only those
 * missing. Safe to run on every start and from several instances. (Asking
 * FerretDB 1.24 to create an index that already exists drops the connection,
 * so existing ones are listed first rather than re-declared.)
 */
export async function ensureIndexes(db: Db, indexes: IndexSpec[]): Promise<void> {
  const byCollection = Map.groupBy(indexes, (i) => i.collection);
  for (const [name, specs] of byCollection) {
    const collection = db.collection(name);
    const existing = await collection.indexes().catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 26) return []; // NamespaceNotFound: no collection yet
      throw err;
    });
    const existingNames = new Set(existing.map((i) => i.name));
    const missing = specs.filter((s) => !existingNames.has(s.name));
    if (missing.length === 0) continue;
    await collection.createIndexes(
      missing.map((s) => ({ key: s.key as Record<string, 1 | -1>, name: s.name, ...s.options })),
    );
  }
}

export async function pingMongo(db: Db): Promise<void> {
  await db.command({ ping: 1 });
}

/** True for a duplicate-key error (a unique index rejected a write). */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * The documents of `ids` (those that exist), read one `_id` at a time, all at
 * once. On the local FerretDB (SQLite) an `_id` equality is the only filter
 * answered from an index; `{ _id: { $in } }` decodes every document of the
 * collection. On MongoDB both use the `_id` index.
 */
export async function findByIds<D extends { _id: string }>(collection: Collection<D>, ids: string[], options: FindOptions = {}): Promise<D[]> {
  // `as never`: the driver's filter types do not follow a generic document type.
  const docs = await Promise.all([...new Set(ids)].map((id) => collection.findOne({ _id: id } as never, options) as Promise<D | null>));
  return docs.filter((doc) => doc !== null);
}

/**
 * True when the server is FerretDB (its `buildInfo` has `ferretdbVersion`).
 * FerretDB 1.x pushes down to its storage only a filter that is a lone `_id`
 * equality (anything else decodes the whole collection), and runs a filtered
 * update as a find followed by a write, not atomically.
 */
export async function isFerretDb(db: Db): Promise<boolean> {
  const info = await db.admin().command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string';
}
