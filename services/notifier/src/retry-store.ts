/**
 * What must survive a restart: requests waiting for a retry (and the ones
 * still queued when the notifier stops), and the current version of each
 * response topic. MongoDB collections `notifier_retries` and
 * `notifier_versions`; an in-memory twin for unit tests.
 */
import type { PushRequest } from '@pushtech/contracts';
import type { WebDevice } from './web-devices.ts';
import type { Db, IndexSpec } from '@pushtech/mongo';

/** A request the notifier holds outside Kafka: due for an attempt at `dueAt`. */
export interface StoredRequest {
  uuid: string;
  request: PushRequest;
  /** Attempts made so far (0 for a request parked at shutdown before its first). */
  attempts: number;
  /** ms since the epoch; null before the first attempt. */
  firstAttemptAt: number | null;
  /** ms since the epoch. */
  dueAt: number;
  /** What the last attempt got, for people looking at the collection. */
  lastError?: string;
  /** The style entry of the last attempt's status class had `ignore_version`. */
  ignoreVersion?: boolean;
  /** A Web Push delivery of the request: to this browser subscription, not to OneSignal. */
  web?: WebDevice;
}

export interface RetryStore {
  /** Inserts or replaces (by uuid). */
  save(entry: StoredRequest): Promise<void>;
  saveMany(entries: StoredRequest[]): Promise<void>;
  remove(uuid: string): Promise<void>;
  loadAll(): Promise<StoredRequest[]>;
}

export interface VersionStore {
  loadAll(): Promise<Map<string, number>>;
  /** Sets the version of `topic` to `version` unless it already has a newer one. */
  raise(topic: string, version: number): Promise<void>;
}

export const RETRIES = 'notifier_retries';
export const VERSIONS = 'notifier_versions';

export const notifierIndexes: IndexSpec[] = [
  { collection: RETRIES, key: { dueAt: 1 }, name: 'dueAt' },
];

interface RetryDocument {
  _id: string;
  /** The request as JSON text: its `data` may hold keys MongoDB would not store as field names. */
  request: string;
  responseTopic: string | null;
  attempts: number;
  firstAttemptAt: Date | null;
  dueAt: Date;
  lastError?: string;
  ignoreVersion?: boolean;
  web?: WebDevice;
  storedAt: Date;
}

function toDocument(entry: StoredRequest): RetryDocument {
  return {
    _id: entry.uuid,
    request: JSON.stringify(entry.request),
    responseTopic: entry.request.responseTopic ?? null,
    attempts: entry.attempts,
    firstAttemptAt: entry.firstAttemptAt === null ? null : new Date(entry.firstAttemptAt),
    dueAt: new Date(entry.dueAt),
    ...(entry.lastError === undefined ? {} : { lastError: entry.lastError }),
    ...(entry.ignoreVersion ? { ignoreVersion: true } : {}),
    ...(entry.web ? { web: entry.web } : {}),
    storedAt: new Date(),
  };
}

function fromDocument(doc: RetryDocument): StoredRequest {
  return {
    uuid: doc._id,
    request: JSON.parse(doc.request) as PushRequest,
    attempts: doc.attempts,
    firstAttemptAt: doc.firstAttemptAt === null ? null : doc.firstAttemptAt.getTime(),
    dueAt: doc.dueAt.getTime(),
    ...(doc.lastError === undefined ? {} : { lastError: doc.lastError }),
    ...(doc.ignoreVersion ? { ignoreVersion: true } : {}),
    ...(doc.web ? { web: doc.web } : {}),
  };
}

export function createMongoRetryStore(db: Db): RetryStore {
  const retries = db.collection<RetryDocument>(RETRIES);
  return {
    async save(entry) {
      const doc = toDocument(entry);
      await retries.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },
    async saveMany(entries) {
      if (entries.length === 0) return;
      await retries.bulkWrite(
        entries.map((e) => {
          const doc = toDocument(e);
          return { replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } };
        }),
        { ordered: false },
      );
    },
    async remove(uuid) {
      await retries.deleteOne({ _id: uuid });
    },
    async loadAll() {
      const docs = await retries.find({}).sort({ dueAt: 1 }).toArray();
      return docs.map(fromDocument);
    },
  };
}

export function createMongoVersionStore(db: Db): VersionStore {
  const versions = db.collection<{ _id: string; versionUtcSeconds: number }>(VERSIONS);
  return {
    async loadAll() {
      const docs = await versions.find({}).toArray();
      return new Map(docs.map((d) => [d._id, d.versionUtcSeconds]));
    },
    async raise(topic, version) {
      await versions.updateOne({ _id: topic }, { $max: { versionUtcSeconds: version } }, { upsert: true });
    },
  };
}

/** In-memory stores for unit tests: they outlive a notifier, like the collections. */
export function createMemoryStores(): { retries: RetryStore & { entries: Map<string, StoredRequest> }; versions: VersionStore & { values: Map<string, number> } } {
  const entries = new Map<string, StoredRequest>();
  const values = new Map<string, number>();
  const copy = (e: StoredRequest): StoredRequest => structuredClone(e);
  return {
    retries: {
      entries,
      async save(entry) {
        entries.set(entry.uuid, copy(entry));
      },
      async saveMany(list) {
        for (const e of list) entries.set(e.uuid, copy(e));
      },
      async remove(uuid) {
        entries.delete(uuid);
      },
      async loadAll() {
        return [...entries.values()].map(copy).sort((a, b) => a.dueAt - b.dueAt);
      },
    },
    versions: {
      values,
      async loadAll() {
        return new Map(values);
      },
      async raise(topic, version) {
        values.set(topic, Math.max(values.get(topic) ?? -Infinity, version));
      },
    },
  };
}
