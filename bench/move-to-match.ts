/**
 * Move-to-match latency: from a `listing.moved` written to Kafka to the
 * `match.found` / `match.lost` it causes written to Kafka, with the matcher
 * service running as it does in production (its own process, `main.ts`) and
 * location updates arriving at a steady 2,000/s.
 *
 *   node bench/move-to-match.ts [--rate 2000] [--seconds 25] [--warmup 3] [--clusters 2000] [--searches-per-offer 4] [--background 20000]
 *
 * Needs the local Kafka and Mongo wire server (KAFKA_BROKERS, MONGO_URL;
 * default the stack's). Everything it makes has a unique name and is deleted
 * at the end: two topics (`listings`, `matches`, 6 partitions each), three
 * consumer groups, a Mongo database.
 *
 * Population, written straight to the listings topic as `listing.created`
 * (the records storage writes), before the matcher starts (it has no
 * projection and no projector offsets, so it reads the log from the beginning):
 *
 * - `background` listings of the reference workload (reference-workload.ts,
 *   its seed, over its 50 × 50 km square): the index holds a real mix;
 * - `clusters` offers spread over the same square, each with
 *   `searchesPerOffer` following searches placed 5–25 m outside the offer's
 *   radius (the pair's edge) on bearings around it. A search's tag names its
 *   offer's cluster, so it matches that offer only and nothing of the
 *   background. At the start no search matches.
 *
 * Moves (the records the mover writes), round-robin over the following
 * searches: each crosses the edge, in (5–25 m inside) or out (5–25 m outside),
 * a step of at most 50 m as in the reference workload, so every move flips one
 * pair and causes exactly one decision: found, then lost, then found…
 *
 * Timing: both topics are created with `message.timestamp.type=LogAppendTime`,
 * so a record's timestamp is the moment the broker appended it ("written to
 * Kafka"), on one clock. A move's time comes from its produce response (the
 * append time of its partition's batch), a decision's from its record. The
 * decision carries `searchVersion`, the version the move gave the search, so
 * (search id, version) ties each decision to its move. Moves of the first
 * `warmup` seconds are not counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listingsTopic } from '@pushtech/contracts';
import { createKafka, createProducer, ensureTopics, runConsumer, type Kafka, type OutgoingMessage, type Producer, type RunningConsumer } from '@pushtech/kafka';
import { destination, point, type Listing, type Point } from '@pushtech/listings';
import { createLogger } from '@pushtech/logging';
import { REFERENCE_WORKLOAD, referenceListings } from '@pushtech/geo-index';
import { connectMongo } from '@pushtech/mongo';
import { seededRandom } from '@pushtech/random';
import { freePort, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { partitionOf } from '../consumers/matcher/src/service/shards.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const MATCHER_ENTRY = 'consumers/matcher/src/service/main.ts';
const PARTITIONS = 6;

export interface MoveToMatchBenchOptions {
  /** Location updates per second (default 2,000). */
  rate?: number;
  /** Seconds of moves measured, after the warm-up (default 25). */
  seconds?: number;
  /** Seconds of moves sent first and not measured (default 3). */
  warmupSeconds?: number;
  /** Offers each surrounded by following searches that cross its edge (default 2,000). */
  clusters?: number;
  searchesPerOffer?: number;
  /** Reference-workload listings besides the clusters (default 20,000). */
  background?: number;
  /** Moves are sent in one produce request per tick (default 10 ms). */
  tickMs?: number;
  kafkaBrokers?: string[];
  mongoUrl?: string;
  /** Progress lines; the figures are returned, not printed. */
  log?: (line: string) => void;
}

/** Figure name → value. */
export type Figures = Record<string, number>;

const logger = createLogger('bench-move-to-match', 'error');
const round = (value: number, digits = 0) => Number(value.toFixed(digits));

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A `listings` record as storage writes it: key = the listing id, CloudEvents envelope, subject = the id. */
function createdRecord(listing: Listing): OutgoingMessage {
  const { key, value } = listingsTopic.encode({ type: 'listing.created', data: listing });
  return { key, value };
}

interface MovingSearch {
  id: string;
  offer: Point;
  edgeM: number;
  bearing: number;
  version: number;
}

/** The clusters: one offer and its searches each; the searches start just outside the offer's radius. */
function clusterListings(clusters: number, perOffer: number, seed: number): { listings: Listing[]; searches: MovingSearch[] } {
  const random = seededRandom(seed);
  const [lng0, lat0] = REFERENCE_WORKLOAD.centre.coordinates;
  const degreesLat = REFERENCE_WORKLOAD.sideM / ((6_371_008.8 * Math.PI) / 180);
  const degreesLng = degreesLat / Math.cos((lat0 * Math.PI) / 180);
  const listings: Listing[] = [];
  const searches: MovingSearch[] = [];
  for (let k = 0; k < clusters; k++) {
    const tag = `mv${k.toString(36)}`;
    const at = point(lng0 + (random() - 0.5) * degreesLng, lat0 + (random() - 0.5) * degreesLat);
    const edgeM = REFERENCE_WORKLOAD.minRadiusM + random() * (REFERENCE_WORKLOAD.maxRadiusM - REFERENCE_WORKLOAD.minRadiusM);
    listings.push({
      id: `bench-offer-${k}`, kind: 'offer', ownerId: `bench-offerer-${k}`, title: 'bike', description: 'city bike', tags: [tag],
      location: at, radiusM: edgeM, follow: false, status: 'active', imageIds: [], version: 1,
    });
    for (let j = 0; j < perOffer; j++) {
      const bearing = (2 * Math.PI * (j + random() * 0.5)) / perOffer;
      const search: MovingSearch = { id: `bench-search-${k}-${j}`, offer: at, edgeM, bearing, version: 1 };
      searches.push(search);
      listings.push({
        id: search.id, kind: 'search', ownerId: `bench-seeker-${k}-${j}`, title: 'bike', tags: [tag],
        location: destination(at, edgeM + 5 + random() * 20, bearing),
        radiusM: edgeM + 200 + random() * 2_000, // the offer's radius is the pair's edge
        follow: true, status: 'active', imageIds: [], version: 1,
      });
    }
  }
  return { listings, searches };
}

interface ChildService {
  url: string;
  stop(): Promise<void>;
}

/** The matcher service as its own process (as e2e/services.ts starts services), killed if it does not stop in 20 s. */
async function startMatcherProcess(env: Record<string, string>, port: number): Promise<ChildService> {
  const child: ChildProcess = spawn(process.execPath, [MATCHER_ENTRY], {
    cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit');
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`${MATCHER_ENTRY} exited with ${child.exitCode}`);
      return (await fetch(`${url}/readyz`)).ok ? true : undefined;
    }, `${MATCHER_ENTRY} to be ready`, 90_000, 100);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/** The value of a Prometheus series (the first line starting with `name{` or `name `), or undefined. */
function metric(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(labels)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export async function benchMoveToMatch(options: MoveToMatchBenchOptions = {}): Promise<Figures> {
  const rate = options.rate ?? 2_000;
  const seconds = options.seconds ?? 25;
  const warmupSeconds = options.warmupSeconds ?? 3;
  const clusters = options.clusters ?? 2_000;
  const perOffer = options.searchesPerOffer ?? 4;
  const background = options.background ?? 20_000;
  const tickMs = options.tickMs ?? 10;
  const log = options.log ?? (() => {});
  const stack = stackAddresses();
  const brokers = options.kafkaBrokers ?? stack.kafkaBrokers;
  const mongoUrl = options.mongoUrl ?? stack.mongoUrl;

  const names = {
    listings: uniqueName('benchmovelistings'),
    matches: uniqueName('benchmovematches'),
    db: uniqueName('benchmove'),
    matcherGroup: uniqueName('benchmovematcher'),
    projectorGroup: uniqueName('benchmoveprojector'), // never used: no committed offsets
  };
  const kafka: Kafka = createKafka({ clientId: 'bench-move-to-match', brokers, logger });
  const admin = kafka.admin();
  await admin.connect();
  let producer: Producer | undefined;
  let matcher: ChildService | undefined;
  let reader: RunningConsumer | undefined;
  const readerGroup = uniqueName('benchmovereader');
  const figures: Figures = {};
  try {
    // LogAppendTime: every record's timestamp is when the broker wrote it.
    await ensureTopics(kafka, [names.listings, names.matches].map((name) => (
      { name, partitions: PARTITIONS, retentionMs: 3_600_000, configs: { 'message.timestamp.type': 'LogAppendTime' } })));
    const listingsProducer = await createProducer(kafka);
    producer = listingsProducer;
    const send = (messages: OutgoingMessage[]) => listingsProducer.send(names.listings, messages);

    // 1. The population, on the log before the matcher starts.
    let started = performance.now();
    const { listings: clusterPopulation, searches } = clusterListings(clusters, perOffer, REFERENCE_WORKLOAD.seed + 1);
    let chunk: OutgoingMessage[] = [];
    let written = 0;
    const flush = async () => { await send(chunk); written += chunk.length; chunk = []; };
    for (const listing of referenceListings({ listings: background })) {
      chunk.push(createdRecord(listing));
      if (chunk.length === 1_000) await flush();
    }
    for (const listing of clusterPopulation) {
      chunk.push(createdRecord(listing));
      if (chunk.length === 1_000) await flush();
    }
    await flush();
    log(`population: ${written} listing.created (${background} reference + ${clusters} offers × ${perOffer} following searches) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // 2. The matcher, from the log (empty db, no projector offsets), until it is ready and has reconciled.
    started = performance.now();
    matcher = await startMatcherProcess({
      KAFKA_BROKERS: brokers.join(','), MONGO_URL: mongoUrl, MONGO_DB: names.db,
      LISTINGS_TOPIC: names.listings, MATCHES_TOPIC: names.matches,
      MATCHER_GROUP: names.matcherGroup, PROJECTOR_GROUP: names.projectorGroup,
    }, await freePort());
    const matcherUrl = matcher.url;
    const reconciled = await waitFor(async () => {
      const text = await (await fetch(`${matcherUrl}/metrics`)).text();
      const done = metric(text, 'matcher_reconcile_seconds_count') ?? 0;
      return done >= 1 && metric(text, 'matcher_owned_shards') === PARTITIONS ? text : undefined;
    }, 'the matcher to own every shard and reconcile them', 60_000, 200);
    const held = metric(reconciled, 'matcher_listings_held') ?? 0;
    if (held !== written) throw new Error(`the matcher holds ${held} listings, ${written} were written`);
    const reconcileFound = metric(reconciled, 'matcher_matches_total', 'cause="reconcile"') ?? 0;
    log(`matcher: ready with ${held} listings in ${((performance.now() - started) / 1000).toFixed(1)} s (reconciliation: ${reconcileFound} background matches found)`);

    // 3. The decisions, as they are written: (search id, search version) and the append time.
    const decisionKeys: string[] = [];
    const decisionTimes: number[] = [];
    let decisionsFromMoves = 0;
    reader = await runConsumer({
      kafka, logger, groupId: readerGroup, topics: [names.matches], fromBeginning: true,
      eachBatch: async (batch) => {
        for (const message of batch) {
          const { data } = JSON.parse(message.value!.toString('utf8')) as { data: { searchId: string; searchVersion: number } };
          if (data.searchVersion < 2) continue; // a creation's (the reconciliation of the background)
          decisionsFromMoves++;
          decisionKeys.push(`${data.searchId}#${data.searchVersion}`);
          decisionTimes.push(message.timestamp);
        }
      },
    });

    // 4. Moves at `rate`, one produce request per tick with every move due (more when a request took longer).
    const moveAppend = new Map<string, number>(); // (id#version) → append time of the move, ms
    const measuredMoves = new Set<string>();
    let cursor = 0;
    let sentMoves = 0;
    let measuredSent = 0;
    let ticks = 0;
    let lateTicks = 0;
    const random = seededRandom(REFERENCE_WORKLOAD.seed + 2);
    const t0 = performance.now();
    const warmEnd = t0 + warmupSeconds * 1000;
    const end = warmEnd + seconds * 1000;
    let measuredLastSentAt = warmEnd;
    let inFlight: Promise<void> | undefined;
    log(`moves: ${rate}/s for ${warmupSeconds} s warm-up + ${seconds} s measured, over ${searches.length} following searches`);
    for (let next = t0; next < end; next += tickMs) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      ticks++;
      if (inFlight !== undefined) {
        lateTicks++;
        continue; // the moves due pile up for the next request
      }
      const now = performance.now();
      const due = Math.min(Math.floor(((Math.min(now, end) - t0) / 1000) * rate), Math.round(((end - t0) / 1000) * rate)) - sentMoves;
      if (due <= 0) continue;
      const measured = now >= warmEnd;
      const messages: (OutgoingMessage & { partition: number })[] = [];
      const keys: string[] = [];
      for (let i = 0; i < due; i++) {
        const search = searches[cursor]!;
        cursor = (cursor + 1) % searches.length;
        search.version++;
        const inside = search.version % 2 === 0;
        const distance = search.edgeM + (inside ? -1 : 1) * (5 + random() * 20);
        const moved = { id: search.id, location: destination(search.offer, distance, search.bearing), version: search.version };
        const { key, value } = listingsTopic.encode({ type: 'listing.moved', data: moved }, { source: 'mover' });
        messages.push({ key, value, partition: partitionOf(search.id, PARTITIONS) });
        keys.push(`${search.id}#${search.version}`);
      }
      sentMoves += due;
      if (measured) {
        measuredSent += due;
        measuredLastSentAt = now;
      }
      inFlight = send(messages).then((metadata) => {
        const appendTimes = new Map(metadata.map((m) => [m.partition, Number(m.logAppendTime)]));
        for (let i = 0; i < keys.length; i++) {
          const appended = appendTimes.get(messages[i]!.partition);
          if (appended === undefined || !(appended > 0)) throw new Error('no log append time in the produce response: is the topic LogAppendTime?');
          moveAppend.set(keys[i]!, appended);
          if (measured) measuredMoves.add(keys[i]!);
        }
      }).finally(() => { inFlight = undefined; });
    }
    await inFlight;
    const sendSeconds = (measuredLastSentAt - warmEnd) / 1000;
    log(`moves: ${sentMoves} sent (${measuredSent} measured, ${(measuredSent / sendSeconds).toFixed(0)}/s); ${lateTicks} of ${ticks} ticks found the previous request still in flight`);

    // 5. Every move flips one pair: wait for all their decisions (bounded).
    await waitFor(() => (decisionsFromMoves >= sentMoves ? true : undefined), `${sentMoves} decisions`, 30_000, 100)
      .catch(() => log(`only ${decisionsFromMoves} of ${sentMoves} decisions arrived in 30 s`));

    const latencies: number[] = [];
    let unknown = 0;
    for (let i = 0; i < decisionKeys.length; i++) {
      const key = decisionKeys[i]!;
      const moved = moveAppend.get(key);
      if (moved === undefined) unknown++;
      else if (measuredMoves.has(key)) latencies.push(decisionTimes[i]! - moved);
    }
    const sorted = Float64Array.from(latencies).sort();
    figures.move_to_match_p50_ms = round(percentile(sorted, 50), 1);
    figures.move_to_match_p95_ms = round(percentile(sorted, 95), 1);
    figures.move_to_match_p99_ms = round(percentile(sorted, 99), 1);
    figures.move_to_match_max_ms = round(sorted.at(-1) ?? NaN, 1);
    figures.move_updates_per_s_sent = round(measuredSent / sendSeconds);
    figures.move_updates_target_per_s = rate;
    figures.move_decisions_measured = sorted.length;
    figures.move_decisions_missing = sentMoves - (decisionKeys.length - unknown);
    figures.move_decisions_unattributed = unknown;
    figures.move_population_listings = written;
    log(`latency over ${sorted.length} decisions: p50 ${figures.move_to_match_p50_ms} ms, p95 ${figures.move_to_match_p95_ms} ms, p99 ${figures.move_to_match_p99_ms} ms, max ${figures.move_to_match_max_ms} ms`);
    return figures;
  } finally {
    await reader?.stop().catch(() => {});
    await matcher?.stop().catch(() => {});
    await producer?.disconnect().catch(() => {});
    await admin.deleteTopics({ topics: [names.listings, names.matches] }).catch((err: unknown) => log(`topics not deleted: ${String(err)}`));
    await admin.deleteGroups([readerGroup, names.matcherGroup]).catch(() => {});
    await admin.disconnect();
    const mongo = await connectMongo(mongoUrl, { appName: 'bench-move-to-match' }).catch(() => undefined);
    await mongo?.db(names.db).dropDatabase().catch(() => {});
    await mongo?.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string' },
      clusters: { type: 'string' }, 'searches-per-offer': { type: 'string' }, background: { type: 'string' },
    },
  });
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  try {
    const figures = await benchMoveToMatch({
      rate: number(values.rate),
      seconds: number(values.seconds),
      warmupSeconds: number(values.warmup),
      clusters: number(values.clusters),
      searchesPerOffer: number(values['searches-per-offer']),
      background: number(values.background),
      log: (line) => console.log(line),
    });
    console.log('');
    for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
