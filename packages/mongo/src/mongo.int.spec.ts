import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { connectMongo, ensureIndexes, findByIds, isDuplicateKey, isFerretDb, pingMongo, type Db, type IndexSpec, type MongoClient } from './index.ts';

let client: MongoClient;
let db: Db;

const indexes: IndexSpec[] = [
  { collection: 'listings', key: { id: 1 }, name: 'id_unique', options: { unique: true } },
  { collection: 'listings', key: { cells: 1 }, name: 'cells' },
  { collection: 'matches', key: { pair: 1 }, name: 'pair_unique', options: { unique: true } },
];

beforeAll(async () => {
  client = await connectMongo(stackAddresses().mongoUrl, { appName: 'mongo-test' });
  db = client.db(uniqueName('mongotest'));
  await ensureIndexes(db, indexes);
});
afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

describe('mongo module', () => {
  it('answers ping and buildInfo through the official driver', async () => {
    await pingMongo(db);
    const info = await db.admin().buildInfo();
    expect(info.version).toMatch(/^\d+\.\d+/);
  });

  it('inserts and finds a document', async () => {
    await db.collection('listings').insertOne({ id: 'a', title: 'bike', cells: ['c1', 'c2'] });
    const found = await db.collection('listings').findOne({ id: 'a' }, { projection: { _id: 0 } });
    expect(found).toEqual({ id: 'a', title: 'bike', cells: ['c1', 'c2'] });
  });

  it('findByIds: the documents that exist, each once, with the projection asked for', async () => {
    const people = db.collection<{ _id: string; name: string; age: number }>('people');
    await people.insertMany([{ _id: 'p1', name: 'Ann', age: 30 }, { _id: 'p2', name: 'Ben', age: 40 }, { _id: 'p3', name: 'Cy', age: 50 }]);
    const found = await findByIds(people, ['p3', 'p1', 'p3', 'nobody'], { projection: { name: 1 } });
    expect(found.sort((a, b) => a._id.localeCompare(b._id))).toEqual([{ _id: 'p1', name: 'Ann' }, { _id: 'p3', name: 'Cy' }]);
    expect(await findByIds(people, [])).toEqual([]);
  });

  it('a lookup by _id uses the _id index (FerretDB: built with ferretdb_fix_id_lookups, which updates and deletes by _id share)', async () => {
    const things = db.collection<{ _id: string; n: number }>('things');
    await things.insertMany(Array.from({ length: 50 }, (_, n) => ({ _id: `t${n}`, n })));
    const explained = await db.command({ explain: { find: 'things', filter: { _id: 't7' } } });
    // FerretDB shows SQLite's plan ("SEARCH <table> USING INDEX …" or "SCAN <table>"); MongoDB its winning stage.
    const plan = JSON.stringify((await isFerretDb(db)) ? explained.queryPlanner?.Plan : explained.queryPlanner?.winningPlan);
    expect(plan).toMatch(/USING INDEX|IDHACK|EXPRESS|IXSCAN/);
    expect(plan).not.toMatch(/SCAN [a-z]|COLLSCAN/);
    expect((await things.findOne({ _id: 't7' }))?.n).toBe(7);
  });

  it('a unique index rejects a duplicate', async () => {
    await db.collection('matches').insertOne({ pair: 'x|y' });
    const duplicate = await db.collection('matches').insertOne({ pair: 'x|y' }).then(() => undefined, (err: unknown) => err);
    expect(isDuplicateKey(duplicate)).toBe(true);
    expect(await db.collection('matches').countDocuments({ pair: 'x|y' })).toBe(1);
  });

  it('a multikey index on an array field answers $in over its elements', async () => {
    const listings = db.collection('listings');
    await listings.insertMany([
      { id: 'm1', cells: ['r7a', 'r8a'] },
      { id: 'm2', cells: ['r7b', 'r8b'] },
      { id: 'm3', cells: ['r7a', 'r8c'] },
      { id: 'm4', cells: [] },
    ]);
    const hits = await listings.find({ cells: { $in: ['r7a', 'r8b'] } }, { projection: { _id: 0, id: 1 } }).sort({ id: 1 }).toArray();
    expect(hits.map((d) => d.id)).toEqual(['m1', 'm2', 'm3']);
    const names = (await listings.indexes()).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['id_unique', 'cells']));
  });

  it('index creation run twice is a no-op, and a later run adds only the new index', async () => {
    const before = await db.collection('listings').indexes();
    await ensureIndexes(db, indexes);
    await ensureIndexes(db, indexes);
    expect(await db.collection('listings').indexes()).toEqual(before);

    const added: IndexSpec = { collection: 'listings', key: { ownerId: 1 }, name: 'owner' };
    await ensureIndexes(db, [...indexes, added]);
    const names = (await db.collection('listings').indexes()).map((i) => i.name);
    expect(names.sort()).toEqual([...before.map((i) => i.name), 'owner'].sort());
  });

  it('creates indexes on a collection that does not exist yet', async () => {
    await ensureIndexes(db, [{ collection: 'fresh', key: { at: 1 }, name: 'at' }]);
    expect((await db.collection('fresh').indexes()).map((i) => i.name)).toContain('at');
  });
});
