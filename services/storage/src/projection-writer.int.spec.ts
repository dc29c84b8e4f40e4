// The projection writer's guard on the local Mongo-wire server: a document
// another writer changed between the batch's read and its write is read again
// and refolded, never overwritten — with the guard in the replace's filter
// (MongoDB) and checked on an `_id` read (FerretDB).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recorded } from '@pushtech/contracts';
import { connectMongo, isFerretDb, type Collection, type Db, type MongoClient } from '@pushtech/mongo';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { applyBatch, type Projection } from './projection-writer.ts';

interface Tally {
  _id: string;
  eventIds: string[];
}

/** The simplest projection: a document remembers the ids of its events. */
const tally: Projection<Tally, { key: string }> = {
  keyOf: (event) => event.key,
  evolve: (doc, record) => (doc?.eventIds.includes(record.eventId) ? doc : { _id: record.event.key, eventIds: [...(doc?.eventIds ?? []), record.eventId] }),
};
const recorded = (key: string, eventId: string): Recorded<{ key: string }> => ({ eventId, time: new Date().toISOString(), event: { key } });

/** The collection, except that another writer changes `key` right after the first read (the batch's). */
function withInterloper(collection: Collection<Tally>, key: string, eventId: string): Collection<Tally> {
  let reads = 0;
  return new Proxy(collection, {
    get(target, name, receiver) {
      if (name !== 'findOne') return Reflect.get(target, name, receiver);
      return async (...args: Parameters<Collection<Tally>['findOne']>) => {
        const doc = await target.findOne(...args);
        if (reads++ === 0) await target.updateOne({ _id: key }, { $push: { eventIds: eventId } });
        return doc;
      };
    },
  });
}

let mongo: MongoClient;
let db: Db;

beforeAll(async () => {
  mongo = await connectMongo(stackAddresses().mongoUrl, { appName: 'projection-writer-test' });
  db = mongo.db(uniqueName('writer'));
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => {});
  await mongo?.close();
});

describe.each([
  { guard: 'in the filter', guardByRead: false },
  { guard: 'on an _id read', guardByRead: true },
])('the write guard $guard', ({ guardByRead }) => {
  it('a document changed since the batch read it is read again and refolded: both writers\' events stay', async () => {
    const tallies = db.collection<Tally>(uniqueName('tallies'));
    await tallies.insertOne({ _id: 'k', eventIds: ['e1'] });
    const collection = withInterloper(tallies, 'k', 'other');

    const outcome = await applyBatch(collection, tally, [recorded('k', 'e2'), recorded('k', 'e3')], { guardByRead });

    expect(outcome).toEqual({ applied: 2, ignored: 0, keys: ['k'] });
    expect(await tallies.findOne({ _id: 'k' })).toEqual({ _id: 'k', eventIds: ['e1', 'other', 'e2', 'e3'] });
  });

  it('an unchanged document is replaced once', async () => {
    const tallies = db.collection<Tally>(uniqueName('tallies'));
    await tallies.insertOne({ _id: 'k', eventIds: ['e1'] });
    await applyBatch(tallies, tally, [recorded('k', 'e2')], { guardByRead });
    expect(await tallies.findOne({ _id: 'k' })).toEqual({ _id: 'k', eventIds: ['e1', 'e2'] });
  });
});

it('the local stack\'s Mongo-wire server is FerretDB (storage checks its guards by read there)', async () => {
  expect(await isFerretDb(db)).toBe(true);
});
