// The throttle's decisions on the local Mongo-wire server (FerretDB): two
// instances (two bridges, or one restarted) racing for the same pair or the
// same user's hour agree: exactly one wins a pair, exactly `cap` slots are taken;
// and a batch's claims and slots are decided together.
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

const T = Date.UTC(2026, 0, 15, 10, 30); // a bucket boundary (10:30 is a multiple of 600 s)
const WINDOW_MS = WINDOW_S * 1_000;
const bucket = (now: number) => Math.floor(now / WINDOW_MS);
const input = (decision: string, now = T, pair = 's|o', userId = 'alice') => ({ pair, userId, decision, uuid: `uuid-${decision}`, now });
const claim = async (throttle: Throttle, decision: string, now = T, pair = 's|o', userId = 'alice') =>
  (await throttle.claimPairs([input(decision, now, pair, userId)]))[0]!;
const take = async (throttle: Throttle, userId: string, now = T) => (await throttle.takeUserSlots([userId], now))[0]!;
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
    expect((await db.collection(PAIRS_COLLECTION).find({ pair: 'race|o' }).toArray()).map((d) => d._id).sort())
      .toEqual([`race|o|alice|${bucket(T)}`, `race|o|alice|${bucket(T) + 1}`]);
  });

  it('the window runs from the claim: a second decision just before its end is refused, at its end claimed', async () => {
    expect(await claim(one, 'found:1:1')).toEqual({ outcome: 'claimed', key: `s|o|alice|${bucket(T)}` });
    expect(await claim(two, 'found:2:1', T + WINDOW_MS - 1)).toEqual({ outcome: 'window', since: new Date(T) });
    expect(await claim(two, 'found:3:1', T + WINDOW_MS)).toEqual({ outcome: 'claimed', key: `s|o|alice|${bucket(T) + 1}` });
    expect(await db.collection(PAIRS_COLLECTION).findOne({ _id: `s|o|alice|${bucket(T) + 1}` } as never)).toEqual({
      _id: `s|o|alice|${bucket(T) + 1}`, pair: 's|o', userId: 'alice', decision: 'found:3:1', uuid: 'uuid-found:3:1', status: 'claimed', sentAt: new Date(T + WINDOW_MS),
    });
  });

  it('a claim late in its bucket still holds the window into the next bucket', async () => {
    const late = T + WINDOW_MS - 10_000;
    expect(await claim(one, 'found:1:1', late, 'late|o')).toMatchObject({ outcome: 'claimed' });
    expect(await claim(two, 'found:2:1', T + WINDOW_MS + 1, 'late|o')).toEqual({ outcome: 'window', since: new Date(late) });
    expect(await claim(two, 'found:3:1', late + WINDOW_MS, 'late|o')).toEqual({ outcome: 'claimed', key: `late|o|alice|${bucket(T) + 1}` });
  });

  it('another user of the same pair has a window of their own', async () => {
    expect(await claim(one, 'found:1:1', T, 's|o', 'bob')).toMatchObject({ outcome: 'claimed' });
  });

  it('the same decision claimed again resumes from where it stopped (claimed → sent / capped)', async () => {
    expect(await claim(one, 'found:7:7', T, 'p7|o')).toEqual({ outcome: 'claimed', key: `p7|o|alice|${bucket(T)}` });
    expect(await claim(two, 'found:7:7', T + 1_000, 'p7|o')).toEqual({ outcome: 'resume', key: `p7|o|alice|${bucket(T)}`, status: 'claimed' });
    await one.settle([`p7|o|alice|${bucket(T)}`], 'sent');
    expect(await claim(two, 'found:7:7', T + WINDOW_MS + 5_000, 'p7|o')).toEqual({ outcome: 'resume', key: `p7|o|alice|${bucket(T)}`, status: 'sent' });
    await one.settle([`p7|o|alice|${bucket(T)}`], 'capped');
    expect(await claim(two, 'found:7:7', T + 2_000, 'p7|o')).toMatchObject({ outcome: 'resume', status: 'capped' });
  });

  it('a batch decides each of its claims: new, within the window, resumed', async () => {
    expect(await claim(one, 'found:1:1', T, 'b1|o')).toMatchObject({ outcome: 'claimed' });
    const claims = await two.claimPairs([input('found:1:1', T + 1, 'b1|o'), input('found:2:1', T + 1, 'b1|o', 'bob'), input('found:3:1', T + 1, 'b2|o')]);
    expect(claims).toEqual([
      { outcome: 'resume', key: `b1|o|alice|${bucket(T)}`, status: 'claimed' },
      { outcome: 'claimed', key: `b1|o|bob|${bucket(T)}` },
      { outcome: 'claimed', key: `b2|o|alice|${bucket(T)}` },
    ]);
  });

  it('with no window (0), every decision is claimed once', async () => {
    const noWindow = await createThrottle(db, { pairWindowS: 0, userMaxPerHour: CAP });
    expect(await claim(noWindow, 'found:1:1', T, 'nw|o')).toMatchObject({ outcome: 'claimed' });
    expect(await claim(noWindow, 'found:2:1', T + 1, 'nw|o')).toMatchObject({ outcome: 'claimed' });
    expect(await claim(noWindow, 'found:1:1', T + 2, 'nw|o')).toMatchObject({ outcome: 'resume', status: 'claimed' });
  });
});

describe('per-user cap', () => {
  it('of many concurrent notifications for one user in one hour, exactly the cap get a slot', async () => {
    const slots = await Promise.all(Array.from({ length: 10 }, (_, i) => take(i % 2 === 0 ? one : two, 'carl', T + i)));
    expect(slots.filter(Boolean)).toHaveLength(CAP);
    const docs = await db.collection(USER_HOURS_COLLECTION).find({ userId: 'carl' }).sort({ slot: 1 }).toArray();
    expect(docs.map((d) => [d.hour, d.slot])).toEqual([1, 2, 3, 4].map((slot) => [hourOf(T), slot]));
  });

  it('the next clock hour starts from zero', async () => {
    expect(await take(one, 'carl', T + 29 * 60_000)).toBe(false); // 10:59
    expect(await take(one, 'carl', T + 30 * 60_000)).toBe(true); // 11:00
  });

  it('a batch may hold one user several times: each gets the next slot, up to the cap', async () => {
    expect(await one.takeUserSlots(['dina', 'emil', 'dina', 'dina', 'dina', 'dina'], T)).toEqual([true, true, true, true, true, false]);
  });

  it('slots another instance took meanwhile cost a conflict and a read, not a slot too many', async () => {
    expect(await take(one, 'erin')).toBe(true); // one: slot 1, remembers 1
    expect(await two.takeUserSlots(['erin', 'erin'], T)).toEqual([true, true]); // two: 1 taken → reads → 2, then 3
    expect(await take(one, 'erin')).toBe(true); // one tries 2: taken → reads → 4
    expect(await take(one, 'erin')).toBe(false);
    const slots = await db.collection(USER_HOURS_COLLECTION).find({ userId: 'erin' }).sort({ slot: 1 }).toArray();
    expect(slots.map((d) => d.slot)).toEqual([1, 2, 3, 4]);
  });
});

describe('cleanup', () => {
  it('deletes claims older than a day (or two windows) and hours before the current one', async () => {
    const later = T + 2 * 86_400_000;
    expect(await claim(one, 'found:9:9', later, 'fresh|o')).toMatchObject({ outcome: 'claimed' });
    await take(one, 'dora', later);
    const deleted = await one.cleanup(later);
    expect(deleted).toEqual({ pairs: 13, hours: 14 }); // every claim and slot the tests above made
    expect((await db.collection(PAIRS_COLLECTION).find({}).toArray()).map((d) => d._id)).toEqual([`fresh|o|alice|${bucket(later)}`]);
    expect((await db.collection(USER_HOURS_COLLECTION).find({}).toArray()).map((d) => d.userId)).toEqual(['dora']);
  });
});
