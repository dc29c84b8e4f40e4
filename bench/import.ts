/**
 * Offer import figures.
 *
 * - `import_items_per_s`: `--sources` (1,000) feeds of `--items` (50) items each, served by
 *   local HTTP servers (one per 100 feeds, as distinct hosts), registered at once; the clock
 *   runs from the first due check until every source is imported — each item a
 *   `listing.created` on Kafka (acks=all) and the known items in Mongo. One offer server in
 *   this process, IMPORT_CONCURRENCY `--concurrency` (16).
 * - `due_check_ms_100k_sources`: `--registered` (100,000) sources as the scheduler leaves them
 *   (each due within its refresh, 15 minutes, and in the due index), 1% of them due now; the
 *   time of one due check (what the scheduler asks each time: a batch of IMPORT_BATCH_SIZE 50),
 *   the median of `--checks` (20).
 *
 *   node bench/import.ts [--sources 1000] [--items 50] [--concurrency 16] [--registered 100000] [--checks 20]
 *
 * Needs the local Kafka and MongoDB (KAFKA_BROKERS, MONGO_URL; default the stack's). Fresh
 * topic and databases, dropped at the end.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createLogger } from '@pushtech/logging';
import { connectMongo, ensureIndexes } from '@pushtech/mongo';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { offerserverService } from '../services/offerserver/src/offerserver.ts';
import { testSettings } from '../services/offerserver/src/test-offerserver.ts';
import { dueCollectionName } from '../services/offerserver/src/due-index.ts';
import { createSourceStore, initialState, SOURCES_COLLECTION, sourceIndexes, type SourceDocument } from '../services/offerserver/src/source-store.ts';

const { values: args } = parseArgs({
  options: {
    sources: { type: 'string', default: '1000' },
    items: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    registered: { type: 'string', default: '100000' },
    checks: { type: 'string', default: '20' },
  },
});
const SOURCES = Number(args.sources);
const ITEMS = Number(args.items);
const FEEDS_PER_HOST = 100;

function feedXml(feed: number): string {
  const items = Array.from({ length: ITEMS }, (_, i) => {
    const lat = 52.4 + ((feed * 7 + i * 13) % 1000) / 4000;
    const lng = 13.2 + ((feed * 11 + i * 17) % 1000) / 2500;
    return `<item><title>Angebot ${feed}-${i}: Fahrrad, Lampe oder Stuhl</title><link>https://feed${feed}.example/items/${i}</link><guid>f${feed}-i${i}</guid><description>Gut erhalten, abzuholen. Nummer ${i}.</description><georss:point>${lat.toFixed(5)} ${lng.toFixed(5)}</georss:point></item>`;
  }).join('');
  return `<?xml version="1.0"?><rss version="2.0" xmlns:georss="http://www.georss.org/georss"><channel><title>Feed ${feed}</title><link>https://feed${feed}.example/</link><description>bench</description>${items}</channel></rss>`;
}

async function startFeedServer(): Promise<{ server: Server; url: string }> {
  const bodies = new Map<string, string>();
  const server = createServer((request, response) => {
    const match = /^\/feed\/(\d+)$/.exec(request.url ?? '');
    if (match === null) return void response.writeHead(404).end();
    const body = bodies.get(match[1]!) ?? feedXml(Number(match[1]));
    bodies.set(match[1]!, body);
    response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function benchImport(): Promise<number> {
  const settings = testSettings({ IMPORT_CONCURRENCY: Number(args.concurrency), IMPORT_BATCH_SIZE: 100, FETCH_HOST_PER_MINUTE: 100_000 });
  const hosts = await Promise.all(Array.from({ length: Math.ceil(SOURCES / FEEDS_PER_HOST) }, startFeedServer));
  const service = await offerserverService({ loop: false }).start({ config: settings, logger: createLogger('bench-import', 'error'), listen: false });
  try {
    const running = await service.ready;
    const now = new Date();
    for (let i = 0; i < SOURCES; i += 1) {
      await running.deps.sources.insert(`bench-${String(i).padStart(6, '0')}`, {
        kind: 'feed', url: `${hosts[Math.floor(i / FEEDS_PER_HOST)]!.url}/feed/${i}`, refreshSeconds: 3_600, radiusM: 2_000, tags: [], ttlHours: 72, enabled: true,
      }, now);
    }
    const started = performance.now();
    const claimed = await running.scheduler.runOnce();
    const seconds = (performance.now() - started) / 1000;
    const created = (await running.deps.sources.sources.find({}, { projection: { 'state.itemsCreated': 1 } }).toArray()).reduce((sum, s) => sum + s.state.itemsCreated, 0);
    console.log(`import_sources=${claimed}`);
    console.log(`import_items_created=${created}`);
    console.log(`import_seconds=${seconds.toFixed(2)}`);
    if (created !== SOURCES * ITEMS) {
      const errors = await running.deps.sources.sources.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$state.lastError', n: { $sum: 1 } } }]).toArray();
      throw new Error(`expected ${SOURCES * ITEMS} listings, made ${created}; sources by last error: ${JSON.stringify(errors)}`);
    }
    return created / seconds;
  } finally {
    await service.stop();
    const client = await connectMongo(settings.MONGO_URL, { appName: 'bench-import' });
    await client.db(settings.MONGO_DB).dropDatabase().catch(() => {});
    await client.close();
    await Promise.all(hosts.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  }
}

async function benchDueCheck(): Promise<number> {
  const registered = Number(args.registered);
  const client = await connectMongo(stackAddresses().mongoUrl, { appName: 'bench-import' });
  const db = client.db(uniqueName('benchdue'));
  try {
    await ensureIndexes(db, sourceIndexes);
    const store = createSourceStore(db, { owner: 'bench', leaseMs: 60_000 });
    const now = Date.now();
    for (let start = 0; start < registered; start += 5_000) {
      const docs: SourceDocument[] = [];
      for (let i = start; i < Math.min(registered, start + 5_000); i += 1) {
        // 1% due (within the last 10 minutes), the rest within their refresh of 15 minutes; every 50th disabled.
        const due = i % 100 === 0 ? now - ((i * 7919) % 600_000) : now + 1_000 + ((i * 7919) % 900_000);
        docs.push({
          _id: `s${String(i).padStart(7, '0')}`, kind: 'feed', url: `https://host${i % 5_000}.example/feed/${i}`, refreshSeconds: 900, radiusM: 2_000, tags: [], ttlHours: 72,
          enabled: i % 50 !== 1, createdAt: new Date(now), updatedAt: new Date(now), nextDueAt: i % 50 === 1 ? null : new Date(due), state: initialState(),
        });
      }
      await db.collection<SourceDocument>(SOURCES_COLLECTION).insertMany(docs);
      const entries = Map.groupBy(docs.filter((d) => d.nextDueAt !== null), (d) => dueCollectionName(d.nextDueAt!));
      for (const [name, group] of entries) await db.collection<{ _id: string; dueAt: Date }>(name).insertMany(group.map((d) => ({ _id: d._id, dueAt: d.nextDueAt! })));
    }
    const times: number[] = [];
    for (let i = 0; i < Number(args.checks); i += 1) {
      const started = performance.now();
      const due = await store.due(new Date(now), 50);
      times.push(performance.now() - started);
      if (due.length !== 50) throw new Error(`expected a batch of 50 due sources, got ${due.length}`);
    }
    times.sort((a, b) => a - b);
    console.log(`due_check_registered=${registered}`);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    await db.dropDatabase().catch(() => {});
    await client.close();
  }
}

const itemsPerS = await benchImport();
console.log(`import_items_per_s=${Math.round(itemsPerS)}`);
const dueMs = await benchDueCheck();
console.log(`due_check_ms_100k_sources=${dueMs.toFixed(1)}`);
process.exit(0);
