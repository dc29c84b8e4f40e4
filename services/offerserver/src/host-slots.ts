/**
 * At most `perMinute` requests per host per clock minute, counted across every offer server
 * instance on the same database. A request to host H in minute W takes one of the minute's
 * slots by inserting `{_id: "H|k"}` (k = 0…N−1) into that minute's collection
 * (`offer_host_slots_<W>`): a unique insert succeeds for one instance only, a duplicate key
 * means the slot is taken. No slot left: wait for the next minute. Unique inserts, not a
 * counter with a conditional update: on FerretDB 1.24 concurrent conditional updates can all
 * "match" (see source-store.ts, the claims).
 *
 * Each instance remembers the next slot to try per host (so it does not insert 0, 1, … again),
 * and that a host is full for the rest of the minute (no Mongo round trip then). Minutes older
 * than the one before are dropped whole, once per minute by each instance (like the due index).
 * Instances' clocks should agree to a second or so: a skewed clock only shifts its minute.
 */
import { isDuplicateKey, type Collection, type Db } from '@pushtech/mongo';

export const SLOTS_PREFIX = 'offer_host_slots_';
const WINDOW_MS = 60_000;

interface SlotDocument {
  _id: string;
  takenAt: Date;
}

export function createHostSlots(db: Db, options: { perMinute: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const window = (n: number): Collection<SlotDocument> => db.collection(`${SLOTS_PREFIX}${n}`);
  /** Per host: the minute and the next slot of it this instance tries (≥ perMinute: full). */
  const next = new Map<string, { minute: number; k: number }>();
  let sweptMinute = -1;

  /** Drops the collections of minutes before the previous one (and forgets their hints). */
  async function sweep(minute: number): Promise<void> {
    sweptMinute = minute;
    for (const [host, hint] of next) if (hint.minute < minute) next.delete(host);
    const names = await db.listCollections({}, { nameOnly: true }).toArray();
    for (const { name } of names) {
      if (!name.startsWith(SLOTS_PREFIX)) continue;
      const n = Number(name.slice(SLOTS_PREFIX.length));
      if (Number.isInteger(n) && n < minute - 1) await window(n).drop().catch(() => {}); // another instance dropped it first
    }
  }

  return {
    /** Takes a slot of `host` for the current minute and returns 0, or returns the ms until the next minute (nothing taken). */
    async take(host: string): Promise<number> {
      const t = now();
      const minute = Math.floor(t / WINDOW_MS);
      const untilNextMinute = (minute + 1) * WINDOW_MS - t;
      if (minute !== sweptMinute) await sweep(minute).catch(() => {}); // cleaning up can wait for the next minute
      let hint = next.get(host);
      if (hint === undefined || hint.minute !== minute) {
        hint = { minute, k: 0 };
        next.set(host, hint);
      }
      while (hint.k < options.perMinute) {
        const k = hint.k++; // before the await: concurrent takes in this instance try different slots
        try {
          await window(minute).insertOne({ _id: `${host}|${k}`, takenAt: new Date(t) });
          return 0;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      }
      return untilNextMinute;
    },
  };
}

export type HostSlots = ReturnType<typeof createHostSlots>;
