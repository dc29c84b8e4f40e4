import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { createDueIndex, DUE_PREFIX } from './due-index.ts';

let client: MongoClient;
let db: Db;

beforeAll(async () => {
  client = await connectMongo(stackAddresses().mongoUrl, { appName: 'due-index-test' });
  db = client.db(uniqueName('due'));
});
afterAll(async () => {
  await db?.dropDatabase().catch(() => {});
  await client?.close();
});

const MIN = 60_000;
const at = (ms: number) => new Date(ms);

describe('the due index', { timeout: 120_000 }, () => {
  it('answers the sources due by now, earliest first, reading only minutes begun; moves entries; drops old empty minutes', async () => {
    const due = createDueIndex(db);
    const t0 = Math.floor(Date.now() / MIN) * MIN;
    await due.put('late', at(t0 + 30_000));
    await due.put('early', at(t0 - 5 * MIN));
    await due.put('future', at(t0 + 10 * MIN));
    await due.put('old', at(t0 - 10 * MIN));
    expect(await due.due(at(t0 + 40_000), 10)).toEqual([
      { _id: 'old', nextDueAt: at(t0 - 10 * MIN) },
      { _id: 'early', nextDueAt: at(t0 - 5 * MIN) },
      { _id: 'late', nextDueAt: at(t0 + 30_000) },
    ]);
    expect((await due.due(at(t0 + 40_000), 2)).map((d) => d._id)).toEqual(['old', 'early']);
    // Sources being fetched (or whose claim holds) do not take a place in the batch.
    expect((await due.due(at(t0 + 40_000), 2, new Set(['old']))).map((d) => d._id)).toEqual(['early', 'late']);

    let written = false;
    await due.reschedule('old', at(t0 - 10 * MIN), at(t0 + 20 * MIN), async () => { written = true; });
    expect(written).toBe(true);
    await due.reschedule('early', at(t0 - 5 * MIN), null, async () => {});
    expect((await due.due(at(t0 + 40_000), 10)).map((d) => d._id)).toEqual(['late']);
    // The minutes of `old` and `early` are empty and past: dropped by that check.
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith(DUE_PREFIX));
    expect(names.sort()).toEqual([t0, t0 + 10 * MIN, t0 + 20 * MIN].map((ms) => `${DUE_PREFIX}${ms / MIN}`).sort());
  });
});
