/**
 * Matching benchmark on the reference workload (DESIGN.md): the matcher's
 * in-memory index next to brute force (the match rule over every listing) and
 * Redis GEOSEARCH on the same points and circles (a geo-only peer: Redis knows
 * nothing of terms, owners or the other side's radius).
 *
 *   node --expose-gc --max-old-space-size=4096 bench/match.ts [--listings 1000000] [--updates 200000] [--queries 50000] [--resolution 7]
 *
 * Needs Redis at REDIS_URL (default the stack's, redis://127.0.0.1:16379); the
 * points go under a unique key, deleted at the end. Figures are printed at the
 * end, one `name=value` line each.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { ListingEvent } from '@pushtech/listings';
import { createBruteForce, createListingIndex, INDEX_RESOLUTION, moveStep, REFERENCE_WORKLOAD, referenceListings } from '@pushtech/geo-index';
import { seededRandom } from '@pushtech/random';
import { stackAddresses, uniqueName } from '@pushtech/testing';

const thisFile = fileURLToPath(import.meta.url);

export interface MatchBenchOptions {
  listings?: number;
  /** H3 resolution of the index (default INDEX_RESOLUTION). */
  resolution?: number;
  /** Index queries timed (random listings, half offers and half searches). */
  queries?: number;
  /** Location updates timed (a following search moves 0–50 m, then is re-matched). */
  updates?: number;
  /** Brute-force queries (each scans every listing of the other kind). */
  bruteForceQueries?: number;
  /** GEOSEARCH queries sent to Redis, and how many are in flight at once. */
  geoQueries?: number;
  geoInFlight?: number;
  redisUrl?: string;
  log?: (line: string) => void;
}

/** Figure name → value. */
export type Figures = Record<string, number>;

const round = (value: number, digits = 0) => Number(value.toFixed(digits));

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? exposeGc();
  gc();
  gc();
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export async function benchMatch(options: MatchBenchOptions = {}): Promise<Figures> {
  const n = options.listings ?? REFERENCE_WORKLOAD.listings;
  const queryCount = options.queries ?? 50_000;
  const updateCount = options.updates ?? 200_000;
  const bruteCount = options.bruteForceQueries ?? 30;
  const geoCount = options.geoQueries ?? 2_000;
  const log = options.log ?? (() => {});
  const figures: Figures = { listings: n, index_resolution: options.resolution ?? INDEX_RESOLUTION };
  const now = Date.now();
  const redis = await connectRedis(options.redisUrl ?? stackAddresses().redisUrl); // before the long build: fail fast

  // 1. Build the index from the workload, streamed: only what the bench itself needs is kept.
  const rssBefore = process.memoryUsage().rss;
  const index = createListingIndex({ resolution: options.resolution });
  const ids: string[] = [];
  const lngLat = new Float64Array(n * 2);
  const radiusM = new Float64Array(n);
  const following: number[] = [];
  let started = performance.now();
  let i = 0;
  for (const listing of referenceListings({ listings: n })) {
    index.evolve({ type: 'listing.created', data: listing });
    ids.push(listing.id);
    [lngLat[i * 2], lngLat[i * 2 + 1]] = listing.location.coordinates;
    radiusM[i] = listing.radiusM;
    if (listing.follow) following.push(i);
    i++;
  }
  const buildS = (performance.now() - started) / 1000;
  collectGarbage();
  const memory = process.memoryUsage();
  figures.matcher_build_listings_per_s = round(n / buildS);
  figures.matcher_rss_mb = round(memory.rss / 2 ** 20);
  figures.matcher_heap_used_mb = round(memory.heapUsed / 2 ** 20);
  figures.matcher_external_mb = round(memory.external / 2 ** 20); // typed arrays live here, outside the JS heap
  const held = index.memory();
  figures.matcher_index_typed_arrays_mb = round(held.typedArrayBytes / 2 ** 20);
  log(`built the index of ${n} listings in ${buildS.toFixed(1)} s; rss ${figures.matcher_rss_mb} MB (${round(rssBefore / 2 ** 20)} MB before), heap ${figures.matcher_heap_used_mb} MB, typed arrays ${figures.matcher_index_typed_arrays_mb} MB; ${held.cells} cells, ${held.offerKeys + held.searchKeys} posting lists, ${held.offerRecords + held.searchRecords} records`);

  // 2. Index queries: random listings, each matched against the other kind.
  const random = seededRandom(99);
  const sample = Array.from({ length: queryCount }, () => Math.floor(random() * n));
  for (let q = 0; q < Math.min(5_000, queryCount); q++) index.collectMatches(ids[sample[q]!]!, now); // warm-up
  let before = { ...index.stats };
  started = performance.now();
  for (const s of sample) index.collectMatches(ids[s]!, now);
  let seconds = (performance.now() - started) / 1000;
  figures.index_queries_per_s = round(queryCount / seconds);
  figures.index_lookups_per_query = round((index.stats.lookups - before.lookups) / queryCount, 1);
  figures.index_candidates_per_query = round((index.stats.candidates - before.candidates) / queryCount, 1);
  figures.index_matches_per_query = round((index.stats.matches - before.matches) / queryCount, 1);
  log(`index: ${figures.index_queries_per_s} queries/s, ${figures.index_candidates_per_query} candidates and ${figures.index_matches_per_query} matches per query`);

  // 3. Location updates: a following search moves 0–50 m; apply the event, then re-match it.
  const moves = seededRandom(7);
  const versions = new Map<number, number>();
  const nextMove = (): ListingEvent => {
    const s = following[Math.floor(moves() * following.length)]!;
    const location = moveStep({ type: 'Point', coordinates: [lngLat[s * 2]!, lngLat[s * 2 + 1]!] }, moves);
    [lngLat[s * 2], lngLat[s * 2 + 1]] = location.coordinates;
    const version = (versions.get(s) ?? 1) + 1;
    versions.set(s, version);
    return { type: 'listing.moved', data: { id: ids[s]!, location, version } };
  };
  const events = Array.from({ length: updateCount }, nextMove); // generated ahead: the timing is the matcher's alone
  for (let u = 0; u < Math.min(5_000, updateCount); u++) {
    // warm-up on moves the timed run does not repeat
    const event = nextMove();
    index.evolve(event);
    index.collectMatches(event.data.id, now);
  }
  before = { ...index.stats };
  const cpuBefore = process.cpuUsage();
  started = performance.now();
  for (const event of events) {
    index.evolve(event);
    index.collectMatches(event.data.id, now);
  }
  seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  figures.matcher_updates_per_s = round(updateCount / seconds);
  // Per second of this process's CPU time: steadier than wall time when other work shares the cores.
  figures.matcher_updates_per_cpu_s = round(updateCount / ((cpu.user + cpu.system) / 1e6));
  figures.update_lookups_avg = round((index.stats.lookups - before.lookups) / updateCount, 1);
  figures.update_candidates_avg = round((index.stats.candidates - before.candidates) / updateCount, 1);
  figures.update_matches_avg = round((index.stats.matches - before.matches) / updateCount, 1);
  log(`updates: ${figures.matcher_updates_per_s}/s (${figures.matcher_updates_per_cpu_s} per CPU second), ${figures.update_lookups_avg} posting lists, ${figures.update_candidates_avg} candidates and ${figures.update_matches_avg} matches per update`);

  // Latency of one update (apply + re-match) in process, on fresh moves.
  const latencies = new Float64Array(Math.min(50_000, updateCount));
  for (let u = 0; u < latencies.length; u++) {
    const event = nextMove();
    const t0 = performance.now();
    index.evolve(event);
    index.collectMatches(event.data.id, now);
    latencies[u] = performance.now() - t0;
  }
  latencies.sort();
  figures.matcher_update_p50_us = round(latencies[Math.floor(latencies.length * 0.5)]! * 1000);
  figures.matcher_update_p99_us = round(latencies[Math.floor(latencies.length * 0.99)]! * 1000);
  log(`update latency in process: p50 ${figures.matcher_update_p50_us} µs, p99 ${figures.matcher_update_p99_us} µs`);

  // 4. Brute force on a sample, from the same (moved) listings; it also checks the index.
  const brute = createBruteForce();
  i = 0;
  for (const listing of referenceListings({ listings: n })) {
    listing.location = { type: 'Point', coordinates: [lngLat[i * 2]!, lngLat[i * 2 + 1]!] };
    brute.upsert(listing);
    i++;
  }
  const bruteSample = sample.slice(0, bruteCount);
  for (const s of bruteSample.slice(0, 3)) brute.matchesFor(ids[s]!, now); // warm-up
  started = performance.now();
  const bruteMatches = bruteSample.map((s) => brute.matchesFor(ids[s]!, now));
  seconds = (performance.now() - started) / 1000;
  figures.brute_force_queries_per_s = round(bruteCount / seconds, 1);
  let mismatches = 0;
  bruteSample.forEach((s, k) => {
    const expected = bruteMatches[k]!.map((m) => m.id).sort();
    const actual = index.matchesFor(ids[s]!, now).map((m) => m.id).sort();
    if (expected.join() !== actual.join()) mismatches++;
  });
  figures.index_vs_brute_force_mismatches = mismatches;
  log(`brute force: ${figures.brute_force_queries_per_s} queries/s; the index agrees on ${bruteCount - mismatches} of ${bruteCount}`);

  // 5. Redis GEOSEARCH, the same points and the same query circles.
  const key = uniqueName('bench:match:geo:');
  try {
    started = performance.now();
    const batch = 1_000;
    for (let from = 0; from < n; from += batch * 50) {
      const pipeline = redis.pipeline();
      for (let b = from; b < Math.min(n, from + batch * 50); b += batch) {
        const args: (string | number)[] = [];
        for (let k = b; k < Math.min(n, b + batch); k++) args.push(lngLat[k * 2]!, lngLat[k * 2 + 1]!, ids[k]!);
        pipeline.geoadd(key, ...args);
      }
      await pipeline.exec();
    }
    log(`redis: loaded ${n} points in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const geoSample = sample.slice(0, geoCount);
    const search = (s: number) => redis.call('GEOSEARCH', key, 'FROMLONLAT', lngLat[s * 2]!, lngLat[s * 2 + 1]!, 'BYRADIUS', radiusM[s]!, 'm') as Promise<string[]>;
    await Promise.all(geoSample.slice(0, 50).map(search)); // warm-up
    let results = 0;
    let next = 0;
    started = performance.now();
    const inFlight = options.geoInFlight ?? 16;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < geoSample.length) {
          const found = await search(geoSample[next++]!);
          results += found.length;
        }
      }),
    );
    seconds = (performance.now() - started) / 1000;
    figures.redis_geosearch_queries_per_s = round(geoCount / seconds);
    figures.redis_geosearch_results_per_query = round(results / geoCount);
    log(`redis GEOSEARCH (geo only): ${figures.redis_geosearch_queries_per_s} queries/s, ${figures.redis_geosearch_results_per_query} points per query`);
  } finally {
    await redis.del(key);
    redis.disconnect();
  }

  figures.index_vs_geosearch_ratio = round(figures.index_queries_per_s! / figures.redis_geosearch_queries_per_s!, 1);
  figures.index_vs_brute_force_ratio = round(figures.index_queries_per_s! / figures.brute_force_queries_per_s!);
  return figures;
}

async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {}); // reported by connect() below
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis is needed for the GEOSEARCH peer and is not reachable at ${url} (start the stack, or set REDIS_URL): ${String(err)}`);
  }
}

function argument(args: string[], name: string): number | undefined {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : undefined;
}

if (process.argv[1] === thisFile) {
  const args = process.argv.slice(2);
  try {
    const figures = await benchMatch({
      listings: argument(args, 'listings'),
      updates: argument(args, 'updates'),
      queries: argument(args, 'queries'),
      resolution: argument(args, 'resolution'),
      log: (line) => console.log(line),
    });
    console.log('');
    for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
    // The service's move → match latency (bench/move-to-match.ts; Kafka and Mongo needed): progress on stderr, figures after these.
    if (!args.includes('--skip-latency')) {
      const { benchMoveToMatch } = await import('./move-to-match.ts');
      for (const [name, value] of Object.entries(await benchMoveToMatch({ log: (line) => console.error(line) }))) console.log(`${name}=${value}`);
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
