/**
 * The website's figures (issue 14):
 *
 * - the weight of the home page's first load: its JS and CSS as they travel (brotli, and gzip
 *   for browsers without it), every file the page loads before it can show results (the entry
 *   script, the chunks it imports, the style sheets); budget 150 KB;
 * - the time to first results on a city of 10,000 listings: p50/p99 of `GET /listings/nearby`
 *   through nginx, as the page calls it (kind, lat, lng, radiusM, limit 20), at the page's
 *   default radius (5 km) and its largest (25 km), one request at a time; and the storage API's
 *   widest (100 km) from 60 km outside the city, where the nearest listings are 50 km away.
 *
 *   npm run bench:web [-- --listings 10000 --requests 100]
 *
 * Runs storage (with its projector), the imageserver and the website as processes behind the
 * compose file's nginx.conf over HTTPS on the local stack (services/website/src/test-site.ts); the city
 * (uniform over 20 × 20 km around Berlin's centre, half offers, half searches) is written into
 * storage's projection as the projector writes it (`writeCity`). Prints `name=value` lines.
 */
import { request } from 'node:https';
import { parseArgs } from 'node:util';
import { listingsTopic } from '@pushtech/contracts';
import { newId } from '@pushtech/events';
import { point, type Listing } from '@pushtech/listings';
import { connectMongo } from '@pushtech/mongo';
import { seededRandom } from '@pushtech/random';
import { stackAddresses } from '@pushtech/testing';
import { fillListingCells } from '../services/storage/src/listing-cells.ts';
import { evolveListingDocument } from '../services/storage/src/listing-document.ts';
import { collectionPointer } from '../services/storage/src/projection-collections.ts';
import { startTestSite, type TestSite } from '../services/website/src/test-site.ts';

const BUDGET_BYTES = 150 * 1024;
const CENTRE = { lat: 52.52, lng: 13.405 };
const SIDE_M = 20_000;
const WORDS = ['bike', 'chair', 'lamp', 'table', 'sofa', 'book', 'guitar', 'piano', 'pram', 'drill', 'ladder', 'tent', 'kettle', 'desk', 'plant', 'mirror'];

const { values } = parseArgs({ options: { listings: { type: 'string', default: '10000' }, requests: { type: 'string', default: '100' } } });
const listingCount = Number(values.listings);
const requests = Number(values.requests);

/** The raw bytes of a GET as they travel (not decoded), with the encoding asked for. */
function rawGet(url: string, encoding: string): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'accept-encoding': encoding } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks), headers: response.headers }));
      response.on('error', reject);
    }).on('error', reject).end();
  });
}

/** The JS and CSS the home page loads first: its `<script>` and `<link rel=stylesheet>`, and the modules they import. */
async function firstLoadAssets(base: string): Promise<string[]> {
  const html = (await rawGet(`${base}/`, 'identity')).body.toString('utf8');
  const found = new Set<string>();
  const queue = [...html.matchAll(/<script[^>]+src="([^"]+)"|<link rel="stylesheet" href="([^"]+)"/g)].map((m) => (m[1] ?? m[2])!);
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (found.has(path)) continue;
    found.add(path);
    if (!path.endsWith('.js')) continue;
    const source = (await rawGet(`${base}${path}`, 'identity')).body.toString('utf8');
    // Static imports only (`import{a}from"./chunk-X.js"`, `import"./chunk-Y.js"`); import() is loaded later.
    for (const m of source.matchAll(/(?:^|[;}\n])\s*import\s*(?:[^"'()]*?from\s*)?["'](\.\/[^"']+)["']/g)) {
      queue.push(new URL(m[1]!, `${base}${path}`).pathname);
    }
  }
  return [...found];
}

async function weight(base: string): Promise<Record<string, number>> {
  const files = await firstLoadAssets(base);
  const figures: Record<string, number> = { home_first_load_files: files.length };
  for (const encoding of ['br', 'gzip', 'identity'] as const) {
    let total = 0;
    for (const path of files) {
      const answer = await rawGet(`${base}${path}`, encoding);
      if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}`);
      if (encoding !== 'identity' && answer.headers['content-encoding'] !== encoding) throw new Error(`${path} was not sent ${encoding}`);
      total += answer.body.length;
    }
    figures[`home_js_css_${encoding}_bytes`] = total;
  }
  figures.home_js_css_budget_bytes = BUDGET_BYTES;
  figures.home_js_css_within_budget = figures.home_js_css_br_bytes! <= BUDGET_BYTES && figures.home_js_css_gzip_bytes! <= BUDGET_BYTES ? 1 : 0;
  return figures;
}

function cityListings(count: number): Listing[] {
  const random = seededRandom(14);
  const degLat = SIDE_M / 111_320;
  const degLng = degLat / Math.cos((CENTRE.lat * Math.PI) / 180);
  return Array.from({ length: count }, (_, i) => {
    const word = WORDS[Math.floor(random() * WORDS.length)]!;
    return {
      id: newId(), kind: i % 2 === 0 ? 'offer' : 'search', ownerId: `bench-web-${i % 500}`, title: `${word} ${i}`, tags: [word],
      location: point(CENTRE.lng + (random() - 0.5) * degLng, CENTRE.lat + (random() - 0.5) * degLat),
      radiusM: 500 + Math.floor(random() * 4_500), follow: false, status: 'active', imageIds: [], version: 1,
    };
  });
}

/**
 * The city as storage's projection holds it: each listing's document exactly as the projector
 * makes it from its `listing.created` record (`evolveListingDocument`), inserted in bulk into the
 * current listings collection, then the nearby index filled from them (`fillListingCells`). Applying
 * 10,000 records one by one through the projector takes minutes on this shared machine, and the
 * figures here are of the read path.
 */
async function writeCity(site: TestSite): Promise<number> {
  const { mongoUrl } = stackAddresses();
  const started = performance.now();
  const client = await connectMongo(mongoUrl, { appName: 'bench-web' });
  try {
    const { listings, listingCells } = await collectionPointer(client.db(site.mongoDb)).current();
    const documents = cityListings(listingCount).map((listing) => {
      const { value } = listingsTopic.encode({ type: 'listing.created', data: listing });
      const record = listingsTopic.decode(Buffer.from(value));
      if (!record.ok) throw new Error(`a city listing breaks the schema: ${JSON.stringify(record.errors)}`);
      return evolveListingDocument(null, record.value)!;
    });
    for (let i = 0; i < documents.length; i += 1_000) await listings.insertMany(documents.slice(i, i + 1_000));
    if (await listings.countDocuments({}) < listingCount) throw new Error('the listings collection holds fewer listings than written');
    // The nearby index, as storage fills it on start from listings projected before it existed.
    if (await fillListingCells(listingCells, listings) !== listingCount) throw new Error('the nearby index holds fewer listings than written');
  } finally {
    await client.close();
  }
  return performance.now() - started;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

const M_PER_DEGREE_LAT = 111_320;
const M_PER_DEGREE_LNG = M_PER_DEGREE_LAT * Math.cos((CENTRE.lat * Math.PI) / 180);
/** A place in the city's inner half, as someone in town asks. */
const inTown = (random: () => number) => ({
  lat: CENTRE.lat + ((random() - 0.5) * SIDE_M) / 2 / M_PER_DEGREE_LAT,
  lng: CENTRE.lng + ((random() - 0.5) * SIDE_M) / 2 / M_PER_DEGREE_LNG,
});
/** A place 60 km from the city's centre, where no listing is: a 100 km query has to look far for its page. */
const inTheCountry = (random: () => number) => {
  const bearing = random() * 2 * Math.PI;
  return { lat: CENTRE.lat + (60_000 * Math.cos(bearing)) / M_PER_DEGREE_LAT, lng: CENTRE.lng + (60_000 * Math.sin(bearing)) / M_PER_DEGREE_LNG };
};

async function nearbyLatency(base: string, name: string, radiusM: number, requests: number, place = inTown): Promise<Record<string, number>> {
  const random = seededRandom(radiusM);
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < requests; i++) {
    const { lat, lng } = place(random);
    const kind = i % 2 === 0 ? 'offer' : 'search';
    const started = performance.now();
    const answer = await fetch(`${base}/listings/nearby?kind=${kind}&lat=${lat.toFixed(5)}&lng=${lng.toFixed(5)}&radiusM=${radiusM}&limit=20`);
    const text = await answer.text();
    times.push(performance.now() - started);
    if (answer.status !== 200) throw new Error(`nearby answered ${answer.status}: ${text.slice(0, 300)}`);
    items += (JSON.parse(text) as { items: unknown[] }).items.length;
  }
  times.sort((a, b) => a - b);
  return { [`${name}_p50_ms`]: Number(percentile(times, 50).toFixed(1)), [`${name}_p99_ms`]: Number(percentile(times, 99).toFixed(1)), [`${name}_items_avg`]: Number((items / requests).toFixed(1)) };
}

const print = (figures: Record<string, number>) => {
  for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
};

const site = await startTestSite();
// Interrupted: stop the processes it started (a signal skips the `finally`).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void site.stop().finally(() => process.exit(130)));
try {
  print(await weight(site.base));
  print({ city_listings: listingCount, city_written_s: Number(((await writeCity(site)) / 1000).toFixed(1)) });
  await nearbyLatency(site.base, 'warm_up', 5_000, Math.min(10, requests)); // connections, Mongo's caches
  print({ nearby_requests: requests, ...await nearbyLatency(site.base, 'nearby_5km', 5_000, requests) });
  print(await nearbyLatency(site.base, 'nearby_25km', 25_000, requests));
  print(await nearbyLatency(site.base, 'nearby_100km_from_60km_out', 100_000, requests, inTheCountry));
} finally {
  await site.stop();
}
