/**
 * Location-to-push latency: from a `location` event accepted by the tracker to
 * the push arriving at the OneSignal stand-in, with the whole pipeline running
 * (as e2e/push.e2e.spec.ts starts it, each service its own process: storage,
 * matcher, mover, notify bridge, notifier, tracker, kafkastore; the stand-in in
 * this process) and 1,000 users reporting a location every second.
 *
 *   node bench/location-to-push.ts [--pairs 500] [--seconds 80] [--seed 7]
 *
 * tracker → Redis → kafkastore → `events` → mover → `listings` → matcher → `matches`
 *   → notify bridge → `notify.requests` → notifier → OneSignal stand-in
 *
 * Population: `pairs` offers spread over a 20 × 20 km square of Berlin, each
 * owned by its own user, and as many following searches, each owned by its own
 * user and tagged like its offer only (so it matches that offer and nothing
 * else). Every user registers a device. A search starts 30–60 m outside its
 * offer's radius (the pair's edge: the search's radius is larger) and its owner
 * walks straight towards the offer at 1.5 m/s, a location every second through
 * the tracker (`POST /t/location?userId=…`), starting 0–20 s into the run; the
 * offer owners report their (fixed) place every second too. Reports are spread
 * evenly over each second.
 *
 * The crossing location: the mover (production settings) moves a following
 * listing only when its owner is at least MIN_MOVE_M (25 m) from it, so at
 * 1.5 m/s the listing follows in ~25 m jumps. The bench replays that rule and
 * takes as the crossing location the first report that the mover applies
 * (≥ 25 m from where the listing is) and that is within the offer's radius —
 * the location that brings the search within range. Its time is when the
 * tracker answered 204 for it; a push's time is when the stand-in received it
 * (both `Date.now()` of this process). Both pushes of a pair (the search's
 * owner and the offer's owner, matched by `data.pair`) are samples. Missing:
 * pushes not received within `drainSeconds` after the last report. For
 * reference it also logs the latency from the first report within the radius
 * (which includes waiting for the mover's 25 m step).
 *
 * Where the time goes: each stage's p50/p99 from the records' Kafka
 * timestamps (kafkastore, mover, matcher, bridge, notifier), logged before
 * the figures.
 *
 * Everything has a unique name and is deleted at the end: topics, the Redis
 * stream, the Mongo database.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import { createKafka } from '@pushtech/kafka';
import { pairKey } from '@pushtech/contracts';
import { destination, haversineM, point, type Point } from '@pushtech/listings';
import { createLogger } from '@pushtech/logging';
import { connectMongo } from '@pushtech/mongo';
import { seededRandom } from '@pushtech/random';
import { createRedis } from '@pushtech/redis';
import { startStandin } from '@pushtech/onesignal-standin';
import { signToken } from '@pushtech/auth';
import { freePort, readTopic, stackAddresses, uniqueName, waitFor, type TopicReader } from '@pushtech/testing';
import { startService, type RunningService } from '../e2e/services.ts';

// The reports go out over keep-alive sockets with node:http, which costs this process about half
// the CPU of fetch per request: the load generator shares the two cores with every service.
const reportAgent = new Agent({ keepAlive: true, maxSockets: 256 });

function postJson(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpRequest(url, { method: 'POST', agent: reportAgent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export interface LocationToPushBenchOptions {
  /** Offer/search pairs: 2 × pairs users (default 500 → 1,000 users). */
  pairs?: number;
  /** Seconds every user reports (default 80). */
  seconds?: number;
  /** Seconds to wait for the last pushes after the reports end (default 20). */
  drainSeconds?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** Figure name → value. */
export type Figures = Record<string, number>;

const JWT_SECRET = 'bench-push-secret-0123456789abcdefghijklmn';
const ONESIGNAL_APP_ID = '2f4c5b1e-8a9d-4e6f-b3c2-1d0e9f8a7b6c';
const ONESIGNAL_API_KEY = 'bench-standin-key';
const SPEED_M_S = 1.5;
const MIN_MOVE_M = 25; // the mover's default
const CENTRE = point(13.405, 52.52);
const SIDE_M = 20_000;
const logger = createLogger('bench-location-to-push', 'error');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Pair {
  k: number;
  tag: string;
  seeker: string;
  offerer: string;
  offerAt: Point;
  radiusM: number;
  bearing: number;
  startOutsideM: number;
  /** Second of the run of the walker's first report. */
  startS: number;
  /** Phase of this pair's reports within each second (ms). */
  phaseMs: number;
  /** Index of the walker's report that brings the search within range (mover rule). */
  crossing: number;
  /** Index of the walker's first report within the radius. */
  firstInRange: number;
  searchId?: string;
  offerId?: string;
  crossingAcceptedAt?: number;
  firstInRangeAcceptedAt?: number;
}

/** Where the walker is at report `i` (stops 30 m inside the radius). */
function walkerAt(pair: Pair, i: number): Point {
  const walked = Math.min(i * SPEED_M_S, pair.startOutsideM + 30);
  return destination(pair.offerAt, pair.radiusM + pair.startOutsideM - walked, pair.bearing);
}

/** Replays the mover's MIN_MOVE_M rule: the report that moves the search within range, and the first report within range. */
function crossingOf(pair: Pair): { crossing: number; firstInRange: number } {
  let listingAt = walkerAt(pair, 0);
  let firstInRange = -1;
  for (let i = 1; i < 1_000; i++) {
    const p = walkerAt(pair, i);
    const inRange = haversineM(p, pair.offerAt) <= pair.radiusM;
    if (inRange && firstInRange < 0) firstInRange = i;
    if (haversineM(p, listingAt) >= MIN_MOVE_M) {
      listingAt = p;
      if (inRange) return { crossing: i, firstInRange };
    }
  }
  throw new Error(`pair ${pair.k} never crosses`);
}

function makePairs(count: number, seed: number, runId: string): Pair[] {
  const random = seededRandom(seed);
  const pairs: Pair[] = [];
  for (let k = 0; k < count; k++) {
    const offerAt = destination(destination(CENTRE, (random() - 0.5) * SIDE_M, 0), (random() - 0.5) * SIDE_M, Math.PI / 2);
    const pair: Pair = {
      k, tag: `lp${k.toString(36)}`, seeker: `${runId}-seeker-${k}`, offerer: `${runId}-offerer-${k}`,
      offerAt, radiusM: 200 + Math.round(random() * 800), bearing: random() * 2 * Math.PI,
      startOutsideM: 30 + random() * 30, startS: Math.floor(random() * 20), phaseMs: Math.floor(random() * 1_000),
      crossing: 0, firstInRange: 0,
    };
    Object.assign(pair, crossingOf(pair));
    pairs.push(pair);
  }
  return pairs;
}

/**
 * Each stage's share, from the records' Kafka timestamps (one clock: this
 * machine's): accepted → `events` (kafkastore) → `listing.moved` (mover) →
 * `match.found` (matcher) → request (bridge) → push (notifier).
 */
function logStages(
  crossed: Pair[], [events, listings, matches, requests]: TopicReader[],
  pushedAt: Map<string, { seeker?: number; offerer?: number }>, log: (line: string) => void,
): void {
  const firstAt = (reader: TopicReader, accept: (key: string | null, value: any) => boolean, after = 0): number | undefined =>
    reader.messages.find((m) => m.timestamp >= after && accept(m.key, JSON.parse(m.value!.toString('utf8'))))?.timestamp;
  const stages: Record<string, number[]> = { kafkastore: [], mover: [], matcher: [], bridge: [], notifier: [] };
  for (const pair of crossed) {
    const [lng, lat] = walkerAt(pair, pair.crossing).coordinates;
    const key = pairKey(pair.searchId!, pair.offerId!);
    const event = firstAt(events!, (k, v) => k === pair.seeker && v.data?.lng === lng && v.data?.lat === lat);
    const moved = event && firstAt(listings!, (k, v) => k === pair.searchId && v.type === 'listing.moved', event);
    const found = firstAt(matches!, (k, v) => k === key && v.type === 'match.found');
    const request = found && firstAt(requests!, (_k, v) => JSON.stringify(v).includes(key), found);
    const pushed = Math.min(pushedAt.get(key)?.seeker ?? Infinity, pushedAt.get(key)?.offerer ?? Infinity);
    const steps = [pair.crossingAcceptedAt, event, moved, found, request, Number.isFinite(pushed) ? pushed : undefined];
    Object.values(stages).forEach((samples, i) => {
      if (steps[i] !== undefined && steps[i + 1] !== undefined) samples.push(steps[i + 1]! - steps[i]!);
    });
  }
  for (const [stage, samples] of Object.entries(stages)) {
    samples.sort((a, b) => a - b);
    log(`    ${stage.padEnd(10)} p50 ${percentile(samples, 50)} ms, p99 ${percentile(samples, 99)} ms (${samples.length} samples)`);
  }
}

/** `concurrency` workers over `items`. */
async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

export async function benchLocationToPush(options: LocationToPushBenchOptions = {}): Promise<Figures> {
  const pairCount = options.pairs ?? 500;
  const seconds = options.seconds ?? 80;
  const drainSeconds = options.drainSeconds ?? 20;
  const log = options.log ?? (() => {});
  const { kafkaBrokers, redisUrl, mongoUrl } = stackAddresses();
  const names = {
    listings: uniqueName('listings'), matches: uniqueName('matches'), users: uniqueName('users'), events: uniqueName('events'),
    requests: uniqueName('requests'), responses: uniqueName('responses'), stream: uniqueName('bench:stream:'), db: uniqueName('benchl2p'),
    projector: uniqueName('projector'), matcher: uniqueName('matcher'), mover: uniqueName('mover'), bridge: uniqueName('bridge'), notifier: uniqueName('notifier'),
  };
  const pairs = makePairs(pairCount, options.seed ?? 7, uniqueName('l2p'));
  const byPair = new Map<string, Pair>();
  /** pair key → [search owner push at, offer owner push at]. */
  const pushedAt = new Map<string, { seeker?: number; offerer?: number }>();
  let unexpected = 0;

  const standin = await startStandin({
    appId: ONESIGNAL_APP_ID, apiKey: ONESIGNAL_API_KEY, host: '127.0.0.1', maxRecorded: 10,
    onCall: (call) => {
      const now = Date.now();
      if (call.duplicate || call.status !== 200) return;
      const body = call.body as { include_aliases?: { external_id?: string[] }; data?: { pair?: string } };
      const key = body.data?.pair;
      const pair = key === undefined ? undefined : byPair.get(key);
      const user = body.include_aliases?.external_id?.[0];
      if (pair === undefined || (user !== pair.seeker && user !== pair.offerer)) { unexpected++; return; }
      const times = pushedAt.get(key!) ?? {};
      if (user === pair.seeker) times.seeker ??= now; else times.offerer ??= now;
      pushedAt.set(key!, times);
    },
  });
  const services: RunningService[] = [];
  const readers: TopicReader[] = [];
  let storage: RunningService | undefined;
  try {
    log(`location-to-push: ${pairCount * 2} users (${pairCount} walking searches, ${pairCount} offers), a location per user per second for ${seconds} s`);
    const kafka = { KAFKA_BROKERS: kafkaBrokers.join(',') };
    const mongo = { MONGO_URL: mongoUrl, MONGO_DB: names.db };
    const startedAt = performance.now();
    storage = await startService('services/storage/src/index.ts', {
      ...kafka, ...mongo, PORT: String(await freePort()), JWT_SECRET,
      LISTINGS_TOPIC: names.listings, MATCHES_TOPIC: names.matches, USERS_TOPIC: names.users, PROJECTOR_GROUP: names.projector,
    });
    services.push(...await Promise.all([
      startService('services/tracker/src/index.ts', { PORT: String(await freePort()), REDIS_URL: redisUrl, REDIS_STREAM: names.stream, TRACKER_ID: 'bench' }),
      startService('services/kafkastore/src/index.ts', {
        ...kafka, PORT: String(await freePort()), REDIS_URL: redisUrl, REDIS_STREAM: names.stream,
        EVENTS_TOPIC: names.events, DLQ_TOPIC: `${names.events}.dlq`, CONSUMER_NAME: 'bench',
      }),
      startService('consumers/mover/src/index.ts', {
        ...kafka, ...mongo, PORT: String(await freePort()), EVENTS_TOPIC: names.events, LISTINGS_TOPIC: names.listings, MOVER_GROUP: names.mover, PROJECTOR_GROUP: names.projector,
      }),
      startService('consumers/matcher/src/service/main.ts', {
        ...kafka, ...mongo, PORT: String(await freePort()),
        LISTINGS_TOPIC: names.listings, MATCHES_TOPIC: names.matches, MATCHER_GROUP: names.matcher, PROJECTOR_GROUP: names.projector,
      }),
      startService('consumers/notify-bridge/src/index.ts', {
        ...kafka, ...mongo, PORT: String(await freePort()),
        MATCHES_TOPIC: names.matches, REQUESTS_TOPIC: names.requests, RESPONSE_TOPIC: names.responses, BRIDGE_GROUP: names.bridge,
        USERS_TOPIC: names.users, PROJECTOR_GROUP: names.projector, PAIR_WINDOW_S: '0', USER_MAX_PER_HOUR: '100000',
      }),
      startService('services/notifier/src/index.ts', {
        ...kafka, ...mongo, PORT: String(await freePort()), REQUESTS_TOPIC: names.requests, NOTIFIER_GROUP: names.notifier,
        ONESIGNAL_API_ROOT: standin.apiRoot, ONESIGNAL_APP_ID, ONESIGNAL_API_KEY, ONESIGNAL_CLIENT: 'fetch', ONESIGNAL_AUTH_SCHEME: 'Key',
      }),
    ]));
    const trackerUrl = services[0]!.url;
    // Where the time goes: every stage's record, with its Kafka (create) timestamp.
    const kafkaClient = createKafka({ clientId: 'bench-location-to-push', brokers: kafkaBrokers, logger });
    readers.push(...await Promise.all([names.events, names.listings, names.matches, names.requests].map((topic) => readTopic(kafkaClient, topic, logger))));
    log(`  services ready after ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);

    // Users, devices, listings (through storage, as the app does).
    const as = async (userId: string, path: string, body: unknown): Promise<any> => {
      const res = await fetch(`${storage!.url}${path}`, {
        method: 'POST', headers: { authorization: `Bearer ${await signToken(userId, JWT_SECRET)}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      if (res.status !== 201 && res.status !== 202) throw new Error(`POST ${path} as ${userId}: ${res.status} ${await res.text()}`);
      return res.json(); // 202: recorded, projected later (waited for below)
    };
    const setupAt = performance.now();
    await pool(pairs, 16, async (pair) => {
      await as(pair.seeker, '/me/devices', { subscriptionId: randomUUID(), platform: 'ios' });
      await as(pair.offerer, '/me/devices', { subscriptionId: randomUUID(), platform: 'android' });
      pair.offerId = (await as(pair.offerer, '/listings', {
        kind: 'offer', title: 'bike', description: 'city bike', tags: [pair.tag], location: pair.offerAt, radiusM: pair.radiusM, follow: false,
      })).id;
      pair.searchId = (await as(pair.seeker, '/listings', {
        kind: 'search', title: 'bike', tags: [pair.tag], location: walkerAt(pair, 0), radiusM: pair.radiusM + 500, follow: true,
      })).id;
      byPair.set(`${pair.searchId}|${pair.offerId}`, pair);
    });
    // The mover and the bridge read storage's projection: wait until it holds everything.
    const client = await connectMongo(mongoUrl, { appName: 'bench-location-to-push' });
    try {
      const db = client.db(names.db);
      await waitFor(async () => {
        const [listings, devices] = await Promise.all([db.collection('listings').countDocuments({}), db.collection('devices').countDocuments({})]);
        return listings >= 2 * pairCount && devices >= 2 * pairCount ? true : undefined;
      }, 'the projection', 60_000, 250);
    } finally {
      await client.close();
    }
    log(`  ${pairCount * 2} devices and listings in ${((performance.now() - setupAt) / 1000).toFixed(1)} s`);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the matcher's index catches up

    // The run: every user reports once a second, at its pair's phase (the offerer half a second later).
    type Report = { pair: Pair; walker: boolean; i: number };
    const slots = new Map<number, Report[]>(); // 10 ms slot of the run → reports
    for (const pair of pairs) {
      for (let s = 0; s < seconds; s++) {
        const add = (ms: number, report: Report) => { const slot = Math.floor(ms / 10); (slots.get(slot) ?? slots.set(slot, []).get(slot)!).push(report); };
        if (s >= pair.startS) add(s * 1_000 + pair.phaseMs, { pair, walker: true, i: s - pair.startS });
        else add(s * 1_000 + pair.phaseMs, { pair, walker: true, i: 0 });
        add(s * 1_000 + ((pair.phaseMs + 500) % 1_000), { pair, walker: false, i: s });
      }
    }
    let failed = 0;
    let sent = 0;
    const inFlight = new Set<Promise<void>>();
    const report = async ({ pair, walker, i }: Report): Promise<void> => {
      const [lng, lat] = (walker ? walkerAt(pair, i) : pair.offerAt).coordinates;
      try {
        const status = await postJson(`${trackerUrl}/t/location?userId=${encodeURIComponent(walker ? pair.seeker : pair.offerer)}`, { lng, lat });
        const at = Date.now();
        if (status !== 204) { failed++; return; }
        if (walker && i === pair.crossing) pair.crossingAcceptedAt ??= at;
        if (walker && i === pair.firstInRange) pair.firstInRangeAcceptedAt ??= at;
      } catch {
        failed++;
      }
    };
    const runStart = performance.now();
    const lastSlot = Math.max(...slots.keys());
    for (let slot = 0; slot <= lastSlot; slot++) {
      const wait = runStart + slot * 10 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      for (const r of slots.get(slot) ?? []) {
        sent++;
        const p = report(r).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (slot % 1_000 === 0 && slot > 0) log(`  ${slot / 100} s: ${sent} reports, ${failed} failed, ${[...pushedAt.values()].length} pairs pushed`);
    }
    await Promise.all(inFlight);
    const lag = (performance.now() - runStart) / 1000 - seconds;
    log(`  ${sent} reports in ${seconds} s (+${lag.toFixed(1)} s lag), ${failed} failed`);

    const crossed = pairs.filter((pair) => pair.crossingAcceptedAt !== undefined);
    const complete = () => crossed.every((pair) => { const t = pushedAt.get(`${pair.searchId}|${pair.offerId}`); return t?.seeker !== undefined && t.offerer !== undefined; });
    await waitFor(() => (complete() ? true : undefined), 'the last pushes', drainSeconds * 1_000, 250).catch(() => {});

    const latencies: number[] = [];
    const fromFirstInRange: number[] = [];
    let missing = 0;
    for (const pair of crossed) {
      const t = pushedAt.get(`${pair.searchId}|${pair.offerId}`) ?? {};
      for (const at of [t.seeker, t.offerer]) {
        if (at === undefined) { missing++; continue; }
        latencies.push(at - pair.crossingAcceptedAt!);
        if (pair.firstInRangeAcceptedAt !== undefined) fromFirstInRange.push(at - pair.firstInRangeAcceptedAt);
      }
    }
    latencies.sort((a, b) => a - b);
    fromFirstInRange.sort((a, b) => a - b);
    const early = latencies.filter((ms) => ms < 0).length;
    log(`  ${crossed.length} of ${pairCount} pairs crossed during the run; ${latencies.length} pushes measured, ${missing} missing, ${unexpected} unexpected, ${early} before their crossing report`);
    log(`  from the crossing report: p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms`);
    log(`  from the first report within the radius (incl. the mover's ${MIN_MOVE_M} m step): p50 ${percentile(fromFirstInRange, 50)} ms, p99 ${percentile(fromFirstInRange, 99)} ms`);
    logStages(crossed, readers, pushedAt, log);
    return {
      location_to_push_p50_ms: percentile(latencies, 50),
      location_to_push_p95_ms: percentile(latencies, 95),
      location_to_push_p99_ms: percentile(latencies, 99),
      location_to_push_measured: latencies.length,
      location_to_push_missing: missing + (pairCount - crossed.length) * 2,
    };
  } finally {
    reportAgent.destroy();
    await Promise.all(readers.map((reader) => reader.stop().catch(() => {})));
    await Promise.all(services.map((service) => service.stop().catch(() => {})));
    await storage?.stop().catch(() => {});
    await standin.close();
    const admin = createKafka({ clientId: 'bench-location-to-push', brokers: kafkaBrokers, logger }).admin();
    await admin.connect();
    await admin.deleteTopics({
      topics: [names.listings, names.matches, names.users, names.events, `${names.events}.dlq`, names.requests, names.responses],
    }).catch(() => {});
    await admin.deleteGroups([names.projector, names.matcher, names.mover, names.bridge, names.notifier]).catch(() => {});
    await admin.disconnect();
    const redis = createRedis(redisUrl, { connectionName: 'bench-location-to-push' });
    await redis.del(names.stream).catch(() => {});
    redis.disconnect();
    const client = await connectMongo(mongoUrl, { appName: 'bench-location-to-push' });
    await client.db(names.db).dropDatabase().catch(() => {});
    await client.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: '500' },
      seconds: { type: 'string', default: '80' },
      seed: { type: 'string', default: '7' },
    },
  });
  const figures = await benchLocationToPush({ pairs: Number(values.pairs), seconds: Number(values.seconds), seed: Number(values.seed), log: (line) => console.log(line) });
  console.log('');
  for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
  process.exit(0);
}
