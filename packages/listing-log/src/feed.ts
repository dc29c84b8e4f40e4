/**
 * A log feed: reads ALL partitions of a topic, in a consumer group of its own
 * (one member, no commits), from the offsets it is given (the storage
 * projector's, at start) and hands each valid record to `apply` in log order
 * (per partition). Every instance of a service that holds a projection in
 * memory runs one: the listing feed (`listings`), the notify bridge's device
 * owners (`users`). A batch counts as done once `afterBatch` has resolved.
 *
 * The group exists only because kafkajs needs one: its position is kept here
 * and sought on every (re)join, so a rejoin never starts over.
 */
import { listingsTopic } from '@pushtech/contracts';
import type { Kafka } from '@pushtech/kafka';
import type { ListingEvent } from '@pushtech/listings';
import type { Logger } from '@pushtech/logging';
import type { Admin, Consumer } from './kafka-types.ts';
import { behind, reached, watermarks, type Offsets } from './offsets.ts';
import { projectorStart } from './start.ts';

export interface LogFeedOptions<T> {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Next offset to apply, by partition. */
  start: Offsets;
  logger: Logger;
  /** A record's value: what `apply` takes, or why it is not valid. */
  parse(value: Buffer | null): { ok: true; value: T } | { ok: false; errors: unknown };
  /** One valid record, in log order per partition. */
  apply(value: T): void;
  /** A record that is not valid (logged here, then skipped). */
  onInvalid?(): void;
  /** After a batch was applied, before the position moves past it (e.g. sends what the batch decided). */
  afterBatch?(): Promise<void>;
  /** After every batch, with the records on Kafka not applied yet. */
  onProgress?(lag: number): void;
}

export type ListingFeedOptions = Omit<LogFeedOptions<ListingEvent>, 'parse'>;

export interface LogFeed {
  /** Next offset to apply, by partition; every batch before it has been through `afterBatch`. */
  position(): Offsets;
  /** Records on Kafka not applied yet, as of the last batch of each partition. */
  lag(): number;
  /** Resolves once `position` has reached `target` on every partition of it. */
  reach(target: Offsets): Promise<void>;
  /** Finishes the batch in hand and disconnects (the group goes with it). */
  stop(): Promise<void>;
}

/** A feed of topic `listings` (its records parsed as listing events). */
export type ListingFeed = LogFeed;

/** A record of `listings` as a feed reads it. */
export function parseListingEvent(value: Buffer | null): { ok: true; value: ListingEvent } | { ok: false; errors: unknown } {
  const parsed = listingsTopic.decode(value);
  return parsed.ok ? { ok: true, value: parsed.value.event } : parsed;
}

export function startListingFeed(options: ListingFeedOptions): Promise<LogFeed> {
  return startLogFeed({ ...options, parse: parseListingEvent });
}

/**
 * Holds a projection of storage in memory: reads the storage projector's
 * offsets on `topic` (group `projectorGroup`) first, then `load`s the
 * projection's documents (at least as new as those offsets), then applies the
 * log from those offsets; resolves once the feed has caught up with the end
 * of the log as of then.
 */
export async function followProjection<T>(options: Omit<LogFeedOptions<T>, 'start'> & { admin: Admin; projectorGroup: string; load(): Promise<void> }): Promise<LogFeed> {
  const start = await projectorStart(options.admin, options.projectorGroup, options.topic);
  await options.load();
  const feed = await startLogFeed({ ...options, start });
  await feed.reach((await watermarks(options.admin, options.topic)).high);
  return feed;
}

export async function startLogFeed<T>(options: LogFeedOptions<T>): Promise<LogFeed> {
  const { kafka, topic, groupId, logger } = options;
  const position: Offsets = new Map(options.start);
  const highs: Offsets = new Map();
  let waiters: { target: Offsets; resolve: () => void }[] = [];

  const settle = () => {
    waiters = waiters.filter((w) => {
      if (!reached(position, w.target)) return true;
      w.resolve();
      return false;
    });
  };

  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1_000 });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const [partition, offset] of position) consumer.seek({ topic, partition, offset: String(offset) });
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const partition = batch.partition;
      let next = position.get(partition) ?? 0;
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        const offset = Number(message.offset);
        if (offset < next) continue; // before the position sought (a fetch in flight during a seek)
        const parsed = options.parse(message.value);
        if (parsed.ok) {
          options.apply(parsed.value);
        } else {
          options.onInvalid?.();
          logger.warn({ topic, partition, offset: message.offset, errors: parsed.errors }, 'record skipped: not a valid event');
        }
        resolveOffset(message.offset);
        next = offset + 1;
      }
      await options.afterBatch?.();
      position.set(partition, next);
      highs.set(partition, Number(batch.highWatermark));
      options.onProgress?.(behind(position, highs));
      settle();
      await heartbeat();
    },
  });
  logger.info({ topic, groupId, start: Object.fromEntries(options.start) }, 'log feed running');

  let stopped: Promise<void> | undefined;
  return {
    position: () => new Map(position),
    lag: () => behind(position, highs),
    reach(target) {
      if (reached(position, target)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ target, resolve }));
    },
    stop() {
      stopped ??= (async () => {
        await consumer.disconnect();
        const admin = kafka.admin();
        try {
          await admin.connect();
          await admin.deleteGroups([groupId]);
        } catch (err) {
          logger.debug({ err, groupId }, 'log feed group not deleted');
        } finally {
          await admin.disconnect();
        }
      })();
      return stopped;
    },
  };
}
