// The throttle's decisions on the local Mongo-wire server (FerretDB): two
// instances (two bridges, or one restarted) racing for the same pair or the
// same user's hour agree: exactly one wins a pair, exactly `cap` slots are taken.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, type Db, type MongoClient } from '@pushtech/mongo';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { createThrottle, hourOf, PAIRS_COLLECTION, USER_HOURS_COLLECTION, type Throttle } from './throttle.ts';

const WINDOW_S = 600;
const CAP = 4;
let mongo: MongoClient;
let db: Db;
let one: Throttle;
let two: Throttle;

beforeAll(async () => {
  mongo = await connectMongo(stackAddresses().mongoUrl, { appName: 'throttle-test' });
  db = mongo.db(uniqueName('throttle'));
  one = await createThrottle(db, { pairWindowS: WINDOW_S, userMaxPerHour: CAP });
  two = await createThrottle(db, { pairWindowS: WINDOW_S, userMaxPerHour: CAP }); // the indexes exist already
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => {});
  await mongo?.close();
});

const T = Date.UTC(2026, 0, 15, 10, 30);
const WINDOW_MS = WINDOW_S * 1_000;
const claim = (throttle: Throttle, decision: string, now = T, pair = 's|o', userId = 'alice') =>
  throttle.claimPair({ pair, userId, decision, uuid: `uuid-${decision}`, now });
const outcomes = (claims: { outcome: string }[]) => claims.map((c) => c.outcome).sort();

describe('pair window', () => {
  it('of many concurrent claims for a new pair, exactly one wins; the others are within the window', async () => {
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => claim(i % 2 === 0 ? one : two, `found:${i}:1`, T, 'race|o')));
    expect(outcomes(claims)).toEqual(['claimed', ...Array(11).fill('window')]);
    expect(await db.collection(PAIRS_COLLECTION).countDocuments({ pair: 'race|o' })).toBe(1);
  });

  it('of many concurrent claims after the window, exactly one wins too', async () => {
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => claim(i % 2 === 0 ? one : two, `found:${i + 20}:1`, T + WINDOW_MS, 'race|o')));
    expect(outcomes(claims)).toEqual(['claimed', ...Array(11).fill('window')]);
    expect((await db.collection(PAIRS_COLLECTION).find({ pair: 'race|o' }).sort({ seq: 1 }).toArray()).map((d) => d.seq)).toEqual([1, 2]);
  });

  it('the window runs from the claim: a second decision just before its end is refused, at its end claimed', async () => {
    expect(await claim(one, 'found:1:1')).toEqual({ outcome: 'claimed', key: 's|o|alice|1' });
    expect(await claim(two, 'found:2:1', T + WINDOW_MS - 1)).toEqual({ outcome: 'window', since: new Date(T) });
    expect(await claim(two, 'found:3:1', T + WINDOW_MS)).toEqual({ outcome: 'claimed', key: 's|o|alice|2' });
    expect(await db.collection(PAIRS_COLLECTION).findOne({ _id: 's|o|alice|2' } as never)).toEqual({
      _id: 's|o|alice|2', pair: 's|o', userId: 'alice', seq: 2, decision: 'found:3:1', uuid: 'uuid-found:3:1', status: 'claimed', sentAt: new Date(T + WINDOW_MS),
    });
  });

  it('another user of the same pair has a window of their own', async () => {
    expect(await claim(one, 'found:1:1', T, 's|o', 'bob')).toMatchObject({ outcome: 'claimed' });
  });

  it('the same decision claimed again resumes from where it stopped (claimed → sent / capped)', async () => {
    expect(await claim(one, 'found:7:7', T, 'p7|o')).toEqual({ outcome: 'claimed', key: 'p7|o|alice|1' });
    expect(await claim(two, 'found:7:7', T + 1_000, 'p7|o')).toEqual({ outcome: 'resume', key: 'p7|o|alice|1', status: 'claimed' });
    await one.settle(['p7|o|alice|1'], 'sent');
    expect(await claim(two, 'found:7:7', T + 2 * WINDOW_MS, 'p7|o')).toEqual({ outcome: 'resume', key: 'p7|o|alice|1', status: 'sent' });
    await one.settle(['p7|o|alice|1'], 'capped');
    expect(await claim(two, 'found:7:7', T + 2_000, 'p7|o')).toMatchObject({ outcome: 'resume', status: 'capped' });
  });
});

describe('per-user cap', () => {
  it('of many concurrent notifications for one user in one hour, exactly the cap get a slot', async () => {
    const slots = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).takeUserSlot('carl', T + i)));
    expect(slots.filter(Boolean)).toHaveLength(CAP);
    const docs = await db.collection(USER_HOURS_COLLECTION).find({ userId: 'carl' }).sort({ slot: 1 }).toArray();
    expect(docs.map((d) => [d.hour, d.slot])).toEqual([1, 2, 3, 4].map((slot) => [hourOf(T), slot]));
  });

  it('the next clock hour starts from zero', async () => {
    expect(await one.takeUserSlot('carl', T + 29 * 60_000)).toBe(false); // 10:59
    expect(await one.takeUserSlot('carl', T + 30 * 60_000)).toBe(true); // 11:00
  });
});

describe('prefetch', () => {
  it('claims and slots start from what the batch read; a read gone stale costs an insert conflict and a read again', async () => {
    // `one` reads: nothing claimed for (pf|o, erin) or (pf|o, fred), no slots taken; then `two` claims (pf|o, erin) and takes a slot.
    await one.prefetch([{ pair: 'pf|o', userId: 'erin' }, { pair: 'pf|o', userId: 'fred' }], T);
    expect(await claim(two, 'found:1:1', T, 'pf|o', 'erin')).toMatchObject({ outcome: 'claimed' });
    expect(await two.takeUserSlot('erin', T)).toBe(true);
    expect(await claim(one, 'found:2:1', T + 1_000, 'pf|o', 'erin')).toEqual({ outcome: 'window', since: new Date(T) });
    expect(await claim(one, 'found:2:1', T + 1_000, 'pf|o', 'fred')).toEqual({ outcome: 'claimed', key: 'pf|o|fred|1' });
    expect(await one.takeUserSlot('erin', T)).toBe(true);
    const slots = await db.collection(USER_HOURS_COLLECTION).find({ userId: 'erin' }).sort({ slot: 1 }).toArray();
    expect(slots.map((d) => d.slot)).toEqual([1, 2]);
  });

  it('starts from the latest of several claims, and resumes a decision it finds there', async () => {
    expect(await claim(one, 'found:1:1', T, 'pg|o')).toMatchObject({ outcome: 'claimed' });
    expect(await claim(one, 'found:2:1', T + WINDOW_MS, 'pg|o')).toMatchObject({ outcome: 'claimed' });
    await two.prefetch([{ pair: 'pg|o', userId: 'alice' }], T + WINDOW_MS + 1);
    expect(await claim(two, 'found:2:1', T + WINDOW_MS + 1, 'pg|o')).toEqual({ outcome: 'resume', key: 'pg|o|alice|2', status: 'claimed' });
  });
});

describe('cleanup', () => {
  it('deletes claims older than a day (or the window) and hours before the current one', async () => {
    const later = T + 2 * 86_400_000;
    expect(await claim(one, 'found:9:9', later, 'fresh|o')).toMatchObject({ outcome: 'claimed' });
    await one.takeUserSlot('dora', later);
    const deleted = await one.cleanup(later);
    expect(deleted).toEqual({ pairs: 10, hours: 7 }); // every claim and slot the tests above made
    expect((await db.collection(PAIRS_COLLECTION).find({}).toArray()).map((d) => d._id)).toEqual(['fresh|o|alice|1']);
    expect((await db.collection(USER_HOURS_COLLECTION).find({}).toArray()).map((d) => d.userId)).toEqual(['dora']);
  });
});
