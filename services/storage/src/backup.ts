/**
 * Backups of what storage keeps: its Mongo projection (every collection of MONGO_DB, as EJSON
 * lines, so types survive) and the log of record it is made from (the topics' records, by
 * partition), in a folder shaped like an object-storage prefix:
 *
 *   <to>/<UTC stamp>/manifest.json          written last: a folder without it is not a backup
 *   <to>/<UTC stamp>/mongo/<collection>.ndjson
 *   <to>/<UTC stamp>/kafka/<topic>/<partition>.ndjson   {offset, timestamp, key, value, headers}
 *
 * The projector's committed offsets are read before the collections are exported, so everything
 * before them is in the export; a restore puts the group back there and the projector applies
 * the events written since (applying an event twice changes nothing).
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createProducer, ensureTopics, readRange, retryRetriable, type Kafka, type PartitionOffset, type TopicSpec } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { BSON, type Db } from '@pushtech/mongo';

export const MANIFEST = 'manifest.json';

export interface Manifest {
  /** ISO time the backup started. */
  time: string;
  mongo: { db: string; collections: Record<string, number> };
  /** Per topic, per partition: the first and the next offset the backup holds records of. */
  kafka: Record<string, { partition: number; low: number; high: number; records: number }[]>;
  /** The projector group's committed offsets when the export began. */
  projector: { group: string; offsets: { topic: string; partitions: PartitionOffset[] }[] };
}

interface RecordLine {
  offset: string;
  timestamp: number;
  key: string | null;
  /** The value as UTF-8 (every topic holds JSON), or null for a tombstone. */
  value: string | null;
  headers?: Record<string, string | string[]>;
}

async function writeLines(file: string, lines: AsyncIterable<string> | Iterable<string>): Promise<number> {
  const out: WriteStream = createWriteStream(file);
  let count = 0;
  for await (const line of lines) {
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    count++;
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return count;
}

async function* readLines(file: string): AsyncIterable<string> {
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line !== '') yield line;
}

const stampOf = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace('.', '');

export interface BackupOptions {
  kafka: Kafka;
  db: Db;
  /** Where backups go: each one is a folder `<UTC stamp>` in it. */
  to: string;
  /** The topics to copy (the log the projection is made from, by default). */
  topics: string[];
  projectorGroup: string;
  /** The topics the projector reads (its offsets are kept). */
  projectorTopics: string[];
  logger: Logger;
}

export async function backup(options: BackupOptions): Promise<{ dir: string; manifest: Manifest }> {
  const { kafka, db, logger } = options;
  const started = new Date();
  const dir = join(options.to, stampOf(started));
  await mkdir(join(dir, 'mongo'), { recursive: true });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await retryRetriable(() => admin.fetchOffsets({ groupId: options.projectorGroup, topics: options.projectorTopics }));
    const collections: Record<string, number> = {};
    for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
      const cursor = db.collection(name).find({}).sort({ _id: 1 });
      collections[name] = await writeLines(join(dir, 'mongo', `${name}.ndjson`), (async function* () {
        for await (const doc of cursor) yield BSON.EJSON.stringify(doc, { relaxed: false });
      })());
      logger.info({ collection: name, documents: collections[name] }, 'collection exported');
    }
    const topics: Manifest['kafka'] = {};
    for (const topic of options.topics) {
      await mkdir(join(dir, 'kafka', topic), { recursive: true });
      const ends = await retryRetriable(() => admin.fetchTopicOffsets(topic));
      const lines = new Map<number, string[]>(ends.map((p) => [p.partition, []]));
      await readRange({
        kafka, logger, topic, name: 'backup',
        from: new Map(ends.map((p) => [p.partition, Number(p.low)])),
        to: new Map(ends.map((p) => [p.partition, Number(p.high)])),
        each: (messages) => {
          for (const m of messages) {
            const line: RecordLine = { offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value === null ? null : m.value.toString('utf8') };
            if (m.headers !== undefined) {
              line.headers = Object.fromEntries(Object.entries(m.headers).filter(([, v]) => v !== undefined)
                .map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]));
            }
            lines.get(m.partition)!.push(JSON.stringify(line));
          }
        },
      });
      topics[topic] = [];
      for (const p of ends) {
        const records = await writeLines(join(dir, 'kafka', topic, `${p.partition}.ndjson`), lines.get(p.partition)!);
        topics[topic].push({ partition: p.partition, low: Number(p.low), high: Number(p.high), records });
      }
      logger.info({ topic, records: topics[topic].reduce((n, p) => n + p.records, 0) }, 'topic copied');
    }
    const manifest: Manifest = {
      time: started.toISOString(),
      mongo: { db: db.databaseName, collections },
      kafka: topics,
      projector: { group: options.projectorGroup, offsets },
    };
    // Written last, and whole: a reader sees a complete backup or none.
    await writeFile(join(dir, `${MANIFEST}.tmp`), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST));
    return { dir, manifest };
  } finally {
    await admin.disconnect();
  }
}

/** The newest complete backup in `to` (a folder with a manifest), or undefined. */
export async function latestBackup(to: string): Promise<string | undefined> {
  const entries = (await readdir(to, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name).sort().reverse();
  for (const name of entries) {
    if (await readFile(join(to, name, MANIFEST)).then(() => true, () => false)) return join(to, name);
  }
  return undefined;
}

export interface RestoreOptions {
  /** A backup's folder (with its manifest). */
  from: string;
  logger: Logger;
  /** Replaces every collection of the backup in `db` with the backup's, and puts the projector group back to the offsets of the backup. Storage must be stopped: a group with members cannot be moved. */
  mongo?: { db: Db; kafka: Kafka };
  /** Writes the backup's records into topics that are empty (Kafka lost); then rebuild the projection. */
  kafka?: { kafka: Kafka; specs: TopicSpec[] };
}

export async function restore(options: RestoreOptions): Promise<Manifest> {
  const { from, logger } = options;
  const manifest = JSON.parse(await readFile(join(from, MANIFEST), 'utf8')) as Manifest;
  if (options.mongo) {
    const { db, kafka } = options.mongo;
    for (const name of Object.keys(manifest.mongo.collections)) {
      await db.collection(name).drop().catch(() => {});
      let batch: Record<string, unknown>[] = [];
      const flush = async () => {
        if (batch.length > 0) await db.collection(name).insertMany(batch, { ordered: true });
        batch = [];
      };
      for await (const line of readLines(join(from, 'mongo', `${name}.ndjson`))) {
        batch.push(BSON.EJSON.parse(line, { relaxed: false }) as Record<string, unknown>);
        if (batch.length === 1_000) await flush();
      }
      await flush();
      logger.info({ collection: name, documents: manifest.mongo.collections[name] }, 'collection restored');
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const { topic, partitions } of manifest.projector.offsets) {
        // A partition the group had committed nothing of then: nothing of it is in the export, so from its start.
        const low = new Map((await retryRetriable(() => admin.fetchTopicOffsets(topic))).map((p) => [p.partition, p.low]));
        const from = partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) >= 0 ? p.offset : low.get(p.partition) ?? '0' }));
        await admin.setOffsets({ groupId: manifest.projector.group, topic, partitions: from });
      }
    } finally {
      await admin.disconnect();
    }
  }
  if (options.kafka) {
    const { kafka } = options.kafka;
    const admin = kafka.admin();
    await admin.connect();
    const producer = await createProducer(kafka);
    try {
      for (const [topic, parts] of Object.entries(manifest.kafka)) {
        const existing = await admin.listTopics();
        if (existing.includes(topic)) {
          const ends = await retryRetriable(() => admin.fetchTopicOffsets(topic));
          if (ends.some((p) => Number(p.high) > 0)) throw new Error(`topic ${topic} is not empty: a restore writes only into empty topics`);
        } else {
          // As declared (retention, clean-up), and as many partitions as the backup has: a key stays on its partition.
          const spec = options.kafka.specs.find((s) => s.name === topic) ?? { name: topic, retentionMs: -1 };
          await ensureTopics(kafka, [{ ...spec, partitions: parts.length }]);
        }
        for (const { partition } of parts) {
          let batch: RecordLine[] = [];
          const flush = async () => {
            if (batch.length > 0) {
              await producer.send(topic, batch.map((r) => ({ key: r.key, value: r.value ?? '', partition, timestamp: String(r.timestamp), headers: r.headers })));
            }
            batch = [];
          };
          for await (const line of readLines(join(from, 'kafka', topic, `${partition}.ndjson`))) {
            batch.push(JSON.parse(line) as RecordLine);
            if (batch.length === 500) await flush();
          }
          await flush();
        }
        logger.info({ topic }, 'topic restored');
      }
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  }
  return manifest;
}
