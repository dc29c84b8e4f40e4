/**
 * What the nearby index (services/storage/src/listing-cells.ts) costs the projector: the same
 * moves of following searches applied with `applyBatch` as the projector does, without and with
 * the index write, side by side in one run (alternating, twice each), on the local stack's Mongo.
 *
 *   npm run bench:projector [-- --listings 500 --rounds 4]
 *
 * Prints `name=value` lines: µs per projected move each way and their ratio.
 */
import { parseArgs } from 'node:util';
import type { Recorded } from '@pushtech/contracts';
import { destination, point, type Listing, type ListingEvent } from '@pushtech/listings';
import { connectMongo } from '@pushtech/mongo';
import { stackAddresses } from '@pushtech/testing';
import { writeListingCells, type CellsDocument } from '../services/storage/src/listing-cells.ts';
import type { ListingDocument } from '../services/storage/src/listing-document.ts';
import { applyBatch } from '../services/storage/src/projection-writer.ts';
import { listingProjection } from '../services/storage/src/projector.ts';

const { values } = parseArgs({ options: { listings: { type: 'string', default: '500' }, rounds: { type: 'string', default: '4' } } });
const count = Number(values.listings);
const rounds = Number(values.rounds);

const client = await connectMongo(stackAddresses().mongoUrl, { appName: 'bench-projector' });
const db = client.db(`bench_projector_${Date.now()}`);
let n = 0;
const recorded = (event: ListingEvent): Recorded<ListingEvent> => ({ eventId: `e${++n}`, time: new Date().toISOString(), event });

/** µs per move: `count` following searches created, then moved `rounds` times (30 m a step). */
async function perMove(withIndex: boolean, run: number): Promise<number> {
  const listings = db.collection<ListingDocument>(`listings_${run}`);
  const cells = db.collection<CellsDocument>(`listing_cells_${run}`);
  const options = { guardByRead: true, ...(withIndex ? { beforeWrite: (before: ListingDocument | null, after: ListingDocument) => writeListingCells(cells, before, after) } : {}) };
  const searches: Listing[] = Array.from({ length: count }, (_, i) => ({
    id: `s${i}`, kind: 'search', ownerId: `u${i}`, title: 'bike', tags: [], location: destination(point(13.405, 52.52), (i * 37) % 10_000, i),
    radiusM: 1_000, follow: true, status: 'active', imageIds: [], version: 1,
  }));
  await applyBatch(listings, listingProjection, searches.map((data) => recorded({ type: 'listing.created', data })), options);
  const started = performance.now();
  for (let version = 2; version < 2 + rounds; version++) {
    const moves = searches.map((s, i) => recorded({ type: 'listing.moved', data: { id: s.id, location: destination(s.location, version * 30, i), version } }));
    await applyBatch(listings, listingProjection, moves, options);
  }
  return ((performance.now() - started) * 1000) / (count * rounds);
}

try {
  const without: number[] = [];
  const withIndex: number[] = [];
  for (let run = 0; run < 4; run++) (run % 2 === 0 ? without : withIndex).push(await perMove(run % 2 === 1, run));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const line = (name: string, value: number) => process.stdout.write(`${name}=${value}\n`);
  line('projector_moves', count * rounds * 2);
  line('projector_move_us_without_index', Math.round(mean(without)));
  line('projector_move_us_with_index', Math.round(mean(withIndex)));
  line('projector_index_cost_ratio', Number((mean(withIndex) / mean(without)).toFixed(2)));
} finally {
  await db.dropDatabase();
  await client.close();
}
