/**
 * The index feed: every instance reads ALL partitions of `listings`, in a
 * consumer group of its own (one member, no commits), from the offsets it is
 * given (the storage projector's, at start) and applies each event to its
 * index in log order (per partition). The decisions of owned shards go to the
 * emitter; a batch counts as done once they are on Kafka.
 *
 * The group exists only because kafkajs needs one: its position is kept here
 * and sought on every (re)join, so a rejoin never starts over.
 */
import { performance } from 'node:perf_hooks';
import type { Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { Consumer } from './kafka-types.ts';
import { parseListingRecord } from './listing-records.ts';
import type { MatchEmitter } from './match-emitter.ts';
import type { Matching } from './matching.ts';
import type { MatcherMetrics } from './metrics.ts';
import { behind, reached, type Offsets } from './offsets.ts';

export interface IndexFeedOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Next offset to apply, by partition. */
  start: Offsets;
  matching: Matching;
  emitter: MatchEmitter;
  logger: Logger;
  metrics: MatcherMetrics;
}

export interface IndexFeed {
  /** Next offset to apply, by partition; the decisions of every event before it are on Kafka. */
  position(): Offsets;
  /** Records on Kafka not applied yet, as of the last batch of each partition. */
  lag(): number;
  /** Resolves once `position` has reached `target` on every partition of it. */
  reach(target: Offsets): Promise<void>;
  /** Finishes the batch in hand and disconnects (the group goes with it). */
  stop(): Promise<void>;
}

export async function startIndexFeed(options: IndexFeedOptions): Promise<IndexFeed> {
  const { kafka, topic, groupId, matching, emitter, logger, metrics } = options;
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
        const parsed = parseListingRecord(message.value);
        if (parsed.ok) {
          const started = performance.now();
          const outcome = matching.apply(parsed.event, Date.now());
          metrics.rematchSeconds.observe((performance.now() - started) / 1000);
          metrics.events.inc({ outcome: outcome.changed ? 'applied' : 'ignored' });
        } else {
          metrics.events.inc({ outcome: 'invalid' });
          logger.warn({ topic, partition, offset: message.offset, errors: parsed.errors }, 'listing record skipped: not a valid event');
        }
        resolveOffset(message.offset);
        next = offset + 1;
      }
      await emitter.flush();
      position.set(partition, next);
      highs.set(partition, Number(batch.highWatermark));
      metrics.feedLag.set(behind(position, highs));
      metrics.listingsHeld.set(matching.size());
      settle();
      await heartbeat();
    },
  });
  logger.info({ groupId, start: Object.fromEntries(options.start) }, 'index feed running');

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
          logger.debug({ err, groupId }, 'index feed group not deleted');
        } finally {
          await admin.disconnect();
        }
      })();
      return stopped;
    },
  };
}
