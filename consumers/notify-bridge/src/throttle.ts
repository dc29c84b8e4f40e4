/**
 * The bridge's limits, kept in MongoDB so that restarts and several instances
 * agree. Every decision that must be taken once is an insert under a unique
 * `_id`: of two writers, exactly one inserts, the other gets a duplicate-key
 * error. (Conditional updates are not enough: on FerretDB 1.24, concurrent
 * `updateOne`/`findOneAndUpdate`/`replaceOne` with the same filter often all
 * "match", and concurrent `$inc`s lose increments — throttle.int.spec.ts
 * measures it. Unique inserts hold on FerretDB and on MongoDB alike.)
 *
 * Every read is by `_id` and every batch's writes are one command each: the
 * local FerretDB (SQLite) pushes down nothing but an `_id` equality, and its
 * concurrent writers queue on SQLite's write lock.
 *
 * - `notify_pairs`: claims, `_id` = `<pair>|<userId>|<bucket>` where the bucket
 *   is `floor(now / window)`. A claim in the current bucket is within the
 *   window by construction; one in the previous bucket is when its `sentAt` is
 *   less than a window ago; older ones never are. So a claim reads one `_id`
 *   (the previous bucket) and inserts the current one — a concurrent claimer
 *   of the same bucket loses the insert and reads what won. With no window
 *   (0), the bucket is the decision itself: each decision is claimed once.
 * - `notify_user_hours`: one document per notification slot of a user in a UTC
 *   clock hour, `_id` = `<userId>|<hour>|<slot>` (slots 1 … cap). Taking a slot
 *   inserts the next one this instance believes free (remembered per user and
 *   hour, 1 at first); taken already → the slots are read and the next free
 *   one inserted; none free: the user is at the cap.
 *
 * A claim remembers its decision and `status` (`claimed` → `sent` or `capped`),
 * so a match event handled again after a crash resumes where it stopped instead
 * of counting as "within the window": at least once, never twice on purpose.
 */
import { ensureIndexes, findByIds, type Collection, type Db, type IndexSpec } from '@pushtech/mongo';

export const PAIRS_COLLECTION = 'notify_pairs';
export const USER_HOURS_COLLECTION = 'notify_user_hours';

const HOUR_MS = 3_600_000;

export type PairStatus = 'claimed' | 'sent' | 'capped';

export interface PairDocument {
  /** `<pair>|<userId>|<bucket>` */
  _id: string;
  pair: string;
  userId: string;
  /** The decision that claimed it (`decisionKey`). */
  decision: string;
  /** The request's uuid. */
  uuid: string;
  status: PairStatus;
  /** When the claim was made: the window runs from here. */
  sentAt: Date;
}

export interface UserHourDocument {
  /** `<userId>|<hour>|<slot>` */
  _id: string;
  userId: string;
  /** Start of the UTC hour. */
  hour: Date;
  /** 1 … USER_MAX_PER_HOUR */
  slot: number;
}

export type PairClaim =
  /** Ours (`key` for `settle`): go on (per-user cap, then send). */
  | { outcome: 'claimed'; key: string }
  /** Another decision was notified within the window (since `since`). */
  | { outcome: 'window'; since: Date }
  /** This decision claimed it before (handled again): go on from `status`. */
  | { outcome: 'resume'; key: string; status: PairStatus };

export interface ClaimInput {
  pair: string;
  userId: string;
  decision: string;
  uuid: string;
  /** Milliseconds since the epoch. */
  now: number;
}

export interface Throttle {
  /** Claims each (pair, user) for its decision: one `_id` read each, one insert for all. */
  claimPairs(inputs: ClaimInput[]): Promise<PairClaim[]>;
  /** Takes one notification of the hour of `now` for each entry (a user may come several times); false at the cap. */
  takeUserSlots(userIds: string[], now: number): Promise<boolean[]>;
  /** Records how claims ended (their `key`s). */
  settle(keys: string[], status: Exclude<PairStatus, 'claimed'>): Promise<void>;
  /** Deletes what can no longer decide anything; returns the counts. */
  cleanup(now: number): Promise<{ pairs: number; hours: number }>;
}

export const hourOf = (now: number) => new Date(Math.floor(now / HOUR_MS) * HOUR_MS);

export function throttleIndexes(): IndexSpec[] {
  return [
    { collection: PAIRS_COLLECTION, key: { sentAt: 1 }, name: 'sentAt' },
    { collection: USER_HOURS_COLLECTION, key: { hour: 1 }, name: 'hour' },
  ];
}

/** Inserts `docs` in one command; returns the indexes of those another writer had inserted first. */
async function insertAll<D extends { _id: string }>(collection: Collection<D>, docs: D[]): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await collection.insertMany(docs as never[], { ordered: false });
    return new Set();
  } catch (err) {
    const writeErrors = (err as { writeErrors?: { code?: number; index: number }[] | { code?: number; index: number } }).writeErrors;
    const errors = Array.isArray(writeErrors) ? writeErrors : writeErrors === undefined ? [] : [writeErrors];
    if (errors.length === 0 || errors.some((e) => e.code !== 11000)) throw err;
    return new Set(errors.map((e) => e.index));
  }
}

export async function createThrottle(db: Db, options: { pairWindowS: number; userMaxPerHour: number; keepPairsS?: number }): Promise<Throttle> {
  await ensureIndexes(db, throttleIndexes());
  const pairs = db.collection<PairDocument>(PAIRS_COLLECTION);
  const hours = db.collection<UserHourDocument>(USER_HOURS_COLLECTION);
  const windowMs = options.pairWindowS * 1_000;
  // Kept at least a day (a decision handled again later still finds its own claim), and two buckets.
  const keepPairsMs = Math.max(2 * windowMs, (options.keepPairsS ?? 86_400) * 1_000);
  // The last slot this instance took or saw taken, per `<userId>|<hour>`: where the next insert starts.
  const lastSlots = new Map<string, number>();

  const claimId = (input: ClaimInput, bucketsBack = 0) => windowMs === 0
    ? `${input.pair}|${input.userId}|${input.decision}`
    : `${input.pair}|${input.userId}|${Math.floor(input.now / windowMs) - bucketsBack}`;

  /** What `latest` (the newest claim found, or null) means for `input`; a document to insert when it is free. */
  function decide(input: ClaimInput, latest: PairDocument | null): PairClaim | PairDocument {
    if (latest !== null && latest.decision === input.decision) return { outcome: 'resume', key: latest._id, status: latest.status };
    if (latest !== null && latest.sentAt.getTime() > input.now - windowMs) return { outcome: 'window', since: latest.sentAt };
    const { pair, userId, decision, uuid, now } = input;
    return { _id: claimId(input), pair, userId, decision, uuid, status: 'claimed', sentAt: new Date(now) };
  }

  const slotId = (userId: string, hour: Date, slot: number) => `${userId}|${hour.toISOString()}|${slot}`;

  /** The slow way, after a lost insert: reads the user's slots of the hour and inserts the next free ones, one at a time. */
  async function takeAfterConflict(userId: string, hour: Date): Promise<boolean> {
    const ids = Array.from({ length: options.userMaxPerHour }, (_, i) => slotId(userId, hour, i + 1));
    const taken = new Set((await findByIds(hours, ids, { projection: { _id: 1 } })).map((d) => d._id));
    for (let slot = 1; slot <= options.userMaxPerHour; slot++) {
      if (taken.has(slotId(userId, hour, slot))) continue;
      const conflicts = await insertAll(hours, [{ _id: slotId(userId, hour, slot), userId, hour, slot }]);
      if (conflicts.size === 0) {
        lastSlots.set(`${userId}|${hour.toISOString()}`, slot);
        return true;
      }
    }
    lastSlots.set(`${userId}|${hour.toISOString()}`, options.userMaxPerHour);
    return false;
  }

  return {
    async claimPairs(inputs) {
      const previous = windowMs === 0 ? [] : await findByIds(pairs, inputs.map((input) => claimId(input, 1)));
      const previousById = new Map(previous.map((doc) => [doc._id, doc]));
      const decided = inputs.map((input) => decide(input, windowMs === 0 ? null : previousById.get(claimId(input, 1)) ?? null));
      const toInsert = decided.flatMap((d, i) => ('outcome' in d ? [] : [{ i, doc: d }]));
      const conflicts = await insertAll(pairs, toInsert.map((t) => t.doc));
      const claims = decided as PairClaim[];
      const lost: number[] = [];
      toInsert.forEach(({ i, doc }, j) => {
        if (conflicts.has(j)) lost.push(i);
        else claims[i] = { outcome: 'claimed', key: doc._id };
      });
      // Another claimer inserted the current bucket first: what it holds decides (never free, as it is there).
      const winners = new Map((await findByIds(pairs, lost.map((i) => claimId(inputs[i]!)))).map((doc) => [doc._id, doc]));
      for (const i of lost) {
        const winner = winners.get(claimId(inputs[i]!));
        if (winner === undefined) throw new Error(`claim ${claimId(inputs[i]!)} was taken but cannot be read`);
        claims[i] = decide(inputs[i]!, winner) as PairClaim;
      }
      return claims;
    },
    async takeUserSlots(userIds, now) {
      const hour = hourOf(now);
      const cap = options.userMaxPerHour;
      const tries = userIds.map((userId) => {
        const key = `${userId}|${hour.toISOString()}`;
        const slot = (lastSlots.get(key) ?? 0) + 1;
        if (slot <= cap) lastSlots.set(key, slot);
        return { userId, slot };
      });
      const toInsert = tries.flatMap((t, i) => (t.slot <= cap ? [{ i, doc: { _id: slotId(t.userId, hour, t.slot), userId: t.userId, hour, slot: t.slot } }] : []));
      const conflicts = await insertAll(hours, toInsert.map((t) => t.doc)).catch((err: unknown) => {
        for (const { userId } of tries) lastSlots.delete(`${userId}|${hour.toISOString()}`); // unknown now: read on the next conflict
        throw err;
      });
      const granted = tries.map(() => false);
      const retry: number[] = [];
      toInsert.forEach(({ i }, j) => {
        if (conflicts.has(j)) retry.push(i);
        else granted[i] = true;
      });
      for (const i of retry) granted[i] = await takeAfterConflict(userIds[i]!, hour);
      return granted;
    },
    async settle(keys, status) {
      if (keys.length === 0) return;
      await pairs.bulkWrite(keys.map((_id) => ({ updateOne: { filter: { _id }, update: { $set: { status } } } })), { ordered: false });
    },
    async cleanup(now) {
      const oldPairs = await pairs.deleteMany({ sentAt: { $lt: new Date(now - keepPairsMs) } });
      const oldHours = await hours.deleteMany({ hour: { $lt: hourOf(now) } });
      const current = hourOf(now).toISOString();
      for (const key of lastSlots.keys()) if (!key.endsWith(`|${current}`)) lastSlots.delete(key);
      return { pairs: oldPairs.deletedCount, hours: oldHours.deletedCount };
    },
  };
}
