/**
 * A log feed: reads ALL partitions of a topic without a consumer group (a
 * tail of @pushtech/kafka: no commits), from the offsets it is given (the
 * storage projector's, at start) and hands each valid record to `apply` in log
 * order (per partition). Every instance of a service that holds a projection
 * in memory runs one: the listing feed (`listings`), the notify bridge's
 * device owners (`users`). A batch counts as done once `afterBatch` has resolved.
 */
import { listingsTopic } from '@pushtech/contracts';
import { startTail, type Kafka, type KafkaAdmin } from '@pushtech/kafka';
import type { ListingEvent } from '@pushtech/listings';
import type { Logger } from '@pushtech/logging';
import { behind, reached, watermarks, type Offsets } from './offsets.ts';
import { projectorStart } from './start.ts';

export interface LogFeedOptions<T> {
  kafka: Kafka;
  topic: string;
  /** Names the feed's reader: unique per instance. */
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
  /** Finishes the batch in hand and disconnects. */
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
export async function followProjection<T>(options: Omit<LogFeedOptions<T>, 'start'> & { admin: KafkaAdmin; projectorGroup: string; load(): Promise<void> }): Promise<LogFeed> {
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

  const tail = await startTail({
    kafka,
    id: groupId,
    from: new Map([[topic, options.start]]),
    logger,
    maxWaitMs: 1_000,
    eachBatch: async ({ partition, messages, highWatermark }) => {
      for (const message of messages) {
        const parsed = options.parse(message.value);
        if (parsed.ok) {
          options.apply(parsed.value);
        } else {
          options.onInvalid?.();
          logger.warn({ topic, partition, offset: message.offset, errors: parsed.errors }, 'record skipped: not a valid event');
        }
      }
      await options.afterBatch?.();
      position.set(partition, Number(messages.at(-1)!.offset) + 1);
      highs.set(partition, highWatermark);
      options.onProgress?.(behind(position, highs));
      settle();
    },
  });
  logger.info({ topic, groupId, start: Object.fromEntries(options.start) }, 'log feed running');

  return {
    position: () => new Map(position),
    lag: () => behind(position, highs),
    reach(target) {
      if (reached(position, target)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ target, resolve }));
    },
    stop: () => tail.stop(),
  };
}
