import type { Redis } from '@pushtech/redis';

/**
 * The tracker's Redis stream, read through a consumer group: read (own pending
 * entries, then new ones), acknowledge-and-delete, and take over the entries a
 * dead consumer left pending.
 */

/** `fields` is null for an entry deleted from the stream while it was still pending. */
export interface StreamEntry {
  id: string;
  fields: string[] | null;
}

export interface TrackerStreamOptions {
  stream: string;
  group: string;
  consumer: string;
}

type ReadReply = [stream: string, entries: [id: string, fields: string[] | null][]][] | null;
type ClaimReply = [cursor: string, ids: string[], deleted?: string[]];

export interface TrackerStream {
  readonly name: string;
  /** Creates the group (and the stream) if missing; the group starts at the stream's first entry. */
  ensureGroup(): Promise<void>;
  /** This consumer's own pending entries with an id above `after` (start with `0-0`). */
  readPending(after: string, count: number): Promise<StreamEntry[]>;
  /** New entries: returns as soon as there are some, or empty after `blockMs`. */
  readNew(count: number, blockMs: number): Promise<StreamEntry[]>;
  /** XACK and XDEL in one MULTI: the entries leave the pending list and the stream together. */
  ackAndDelete(ids: string[]): Promise<void>;
  /**
   * One XAUTOCLAIM step: entries pending for longer than `minIdleMs` (another
   * consumer's, or our own) become ours. Returns the next cursor (`0-0` when the
   * scan is done) and how many were claimed; they are read with `readPending`.
   */
  claimIdle(cursor: string, minIdleMs: number, count: number): Promise<{ cursor: string; claimed: number }>;
  /** Entries in the stream, and entries delivered to the group but not yet acknowledged. */
  lengths(): Promise<{ length: number; pending: number }>;
}

/** Redis' answer when the group (or the stream) vanished, e.g. after Redis lost its data. */
export function isMissingGroup(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOGROUP');
}

export function trackerStream(redis: Redis, options: TrackerStreamOptions): TrackerStream {
  const { stream, group, consumer } = options;

  const entriesOf = (reply: ReadReply): StreamEntry[] =>
    reply?.[0]?.[1].map(([id, fields]) => ({ id, fields })) ?? [];

  return {
    name: stream,

    async ensureGroup() {
      try {
        await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
      } catch (err) {
        if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
      }
    },

    async readPending(after, count) {
      const reply = (await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, after)) as ReadReply;
      return entriesOf(reply);
    },

    async readNew(count, blockMs) {
      const reply = (await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', stream, '>')) as ReadReply;
      return entriesOf(reply);
    },

    async ackAndDelete(ids) {
      if (ids.length === 0) return;
      const results = await redis.multi().xack(stream, group, ...ids).xdel(stream, ...ids).exec();
      const failed = results?.find(([err]) => err !== null)?.[0];
      if (results === null || failed) throw failed ?? new Error('XACK/XDEL transaction was discarded');
    },

    async claimIdle(cursor, minIdleMs, count) {
      const [next, ids] = (await redis.xautoclaim(stream, group, consumer, minIdleMs, cursor, 'COUNT', count, 'JUSTID')) as ClaimReply;
      return { cursor: next, claimed: ids.length };
    },

    async lengths() {
      const [length, summary] = await Promise.all([
        redis.xlen(stream),
        redis.xpending(stream, group) as Promise<[count: number, ...unknown[]]>,
      ]);
      return { length, pending: Number(summary[0]) };
    },
  };
}
