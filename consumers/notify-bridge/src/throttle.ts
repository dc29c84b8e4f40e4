/**
 * The bridge's limits, kept in MongoDB so that restarts and several instances
 * agree. Every decision that must be taken once is an insert under a unique
 * `_id`: of two writers, exactly one inserts, the other gets a duplicate-key
 * error. (Conditional updates are not enough: on FerretDB 1.24, concurrent
 * `updateOne`/`findOneAndUpdate`/`replaceOne` with the same filter often all
 * "match", and concurrent `$inc`s lose increments — throttle.int.spec.ts
 * measures it. Unique inserts hold on FerretDB and on MongoDB alike.)
 *
 * - `notify_pairs`: claims, `_id` = `<pair>|<userId>|<seq>`. The user's latest
 *   claim of the pair (highest `seq`) decides: newer than the window → skip;
 *   otherwise insert `seq + 1` — a concurrent claimer inserting the same `seq`
 *   loses and reads again.
 * - `notify_user_hours`: one document per notification slot of a user in a UTC
 *   clock hour, `_id` = `<userId>|<hour>|<slot>` (slots 1 … cap, unique per
 *   (userId, hour, slot)). Taking a slot inserts the next free one; none free:
 *   the user is at the cap.
 *
 * Before a batch, `prefetch` reads in one query each the latest claims of the
 * batch's (pair, user)s and the slots its users took this hour; the claims and
 * slots of the batch start from there instead of reading per notification. A
 * read gone stale (another instance wrote since) only costs a failed insert
 * and a read again.
 *
 * A claim remembers its decision and `status` (`claimed` → `sent` or `capped`),
 * so a match event handled again after a crash resumes where it stopped instead
 * of counting as "within the window": at least once, never twice on purpose.
 */
import { ensureIndexes, isDuplicateKey, type Db, type IndexSpec } from '@pushtech/mongo';

export const PAIRS_COLLECTION = 'notify_pairs';
export const USER_HOURS_COLLECTION = 'notify_user_hours';

const HOUR_MS = 3_600_000;
const MAX_CLAIM_ATTEMPTS = 10;

export type PairStatus = 'claimed' | 'sent' | 'capped';

export interface PairDocument {
  /** `<pair>|<userId>|<seq>` */
  _id: string;
  pair: string;
  userId: string;
  /** 1, 2, …: the user's claims of the pair, in order. */
  seq: number;
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
  /** Reads what the next claims of these (pair, user)s and the slots of these users this hour start from. */
  prefetch(keys: { pair: string; userId: string }[], now: number): Promise<void>;
  claimPair(input: ClaimInput): Promise<PairClaim>;
  /** Takes one of the user's notifications of the hour of `now`; false at the cap. */
  takeUserSlot(userId: string, now: number): Promise<boolean>;
  /** Records how claims ended (their `key`s). */
  settle(keys: string[], status: Exclude<PairStatus, 'claimed'>): Promise<void>;
  /** Deletes what can no longer decide anything; returns the counts. */
  cleanup(now: number): Promise<{ pairs: number; hours: number }>;
}

export const hourOf = (now: number) => new Date(Math.floor(now / HOUR_MS) * HOUR_MS);

export function throttleIndexes(): IndexSpec[] {
  return [
    { collection: PAIRS_COLLECTION, key: { pair: 1, userId: 1, seq: -1 }, name: 'pairUserSeq' },
    { collection: PAIRS_COLLECTION, key: { sentAt: 1 }, name: 'sentAt' },
    { collection: USER_HOURS_COLLECTION, key: { userId: 1, hour: 1 }, name: 'userHour' },
  ];
}

async function inserted(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

export async function createThrottle(db: Db, options: { pairWindowS: number; userMaxPerHour: number; keepPairsS?: number }): Promise<Throttle> {
  await ensureIndexes(db, throttleIndexes());
  const pairs = db.collection<PairDocument>(PAIRS_COLLECTION);
  const hours = db.collection<UserHourDocument>(USER_HOURS_COLLECTION);
  const windowMs = options.pairWindowS * 1_000;
  // Claims are kept at least a day: a decision handled again later still finds its own claim.
  const keepPairsMs = Math.max(windowMs, (options.keepPairsS ?? 86_400) * 1_000);

  // Prefetched starting points, each used once: (pair, user) → latest claim or null; user|hour → slots taken.
  const latestClaims = new Map<string, PairDocument | null>();
  const slotsTaken = new Map<string, number>();
  const claimKey = (pair: string, userId: string) => `${pair}|${userId}`;
  const slotKey = (userId: string, hour: Date) => `${userId}|${hour.toISOString()}`;
  const used = <V>(map: Map<string, V>, key: string): V | undefined => {
    const value = map.get(key);
    map.delete(key);
    return value;
  };

  return {
    async prefetch(keys, now) {
      if (keys.length === 0) return;
      const hour = hourOf(now);
      const userIds = [...new Set(keys.map((k) => k.userId))];
      const [claims, slots] = await Promise.all([
        pairs.find({ pair: { $in: [...new Set(keys.map((k) => k.pair))] }, userId: { $in: userIds } }).toArray(),
        hours.find({ userId: { $in: userIds }, hour }, { projection: { userId: 1 } }).toArray(),
      ]);
      for (const { pair, userId } of keys) latestClaims.set(claimKey(pair, userId), null);
      for (const claim of claims) {
        const key = claimKey(claim.pair, claim.userId);
        const latest = latestClaims.get(key);
        if (latest !== undefined && (latest === null || latest.seq < claim.seq)) latestClaims.set(key, claim);
      }
      for (const userId of userIds) slotsTaken.set(slotKey(userId, hour), 0);
      for (const slot of slots) slotsTaken.set(slotKey(slot.userId, hour), slotsTaken.get(slotKey(slot.userId, hour))! + 1);
    },
    async claimPair({ pair, userId, decision, uuid, now }) {
      let prefetched = used(latestClaims, claimKey(pair, userId));
      for (let attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
        const latest = prefetched !== undefined ? prefetched : await pairs.findOne({ pair, userId }, { sort: { seq: -1 } });
        prefetched = undefined;
        if (latest !== null && latest.decision === decision) return { outcome: 'resume', key: latest._id, status: latest.status };
        if (latest !== null && latest.sentAt.getTime() > now - windowMs) return { outcome: 'window', since: latest.sentAt };
        const seq = (latest?.seq ?? 0) + 1;
        const key = `${pair}|${userId}|${seq}`;
        if (await inserted(pairs.insertOne({ _id: key, pair, userId, seq, decision, uuid, status: 'claimed', sentAt: new Date(now) }))) {
          return { outcome: 'claimed', key };
        }
        // Another claimer took `seq` first: read again.
      }
      throw new Error(`claiming ${pair} for ${userId}: still contended after ${MAX_CLAIM_ATTEMPTS} attempts`);
    },
    async takeUserSlot(userId, now) {
      const hour = hourOf(now);
      const taken = used(slotsTaken, slotKey(userId, hour)) ?? await hours.countDocuments({ userId, hour });
      for (let slot = taken + 1; slot <= options.userMaxPerHour; slot++) {
        if (await inserted(hours.insertOne({ _id: `${userId}|${hour.toISOString()}|${slot}`, userId, hour, slot }))) return true;
      }
      return false;
    },
    async settle(keys, status) {
      if (keys.length === 0) return;
      // One `_id` at a time: the filter the local FerretDB pushes down to SQLite (findByIds).
      await Promise.all(keys.map((_id) => pairs.updateOne({ _id }, { $set: { status } })));
    },
    async cleanup(now) {
      const oldPairs = await pairs.deleteMany({ sentAt: { $lt: new Date(now - keepPairsMs) } });
      const oldHours = await hours.deleteMany({ hour: { $lt: hourOf(now) } });
      return { pairs: oldPairs.deletedCount, hours: oldHours.deletedCount };
    },
  };
}
