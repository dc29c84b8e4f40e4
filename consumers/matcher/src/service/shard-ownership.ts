/**
 * Shard ownership: a consumer in group MATCHER_GROUP on `listings`. The
 * partitions Kafka assigns it are the shards this instance decides (shards.ts),
 * so instances share the work and a crashed one's shards move to the others.
 *
 * It also reads its partitions and acknowledges each record once the index
 * feed has applied it (and written its decisions): the group's committed
 * offsets and lag say how far matching is behind, per partition.
 *
 * From the moment the group starts rebalancing until the new assignment, the
 * instance owns nothing (two instances never decide one shard at once).
 */
import { runAckConsumer, type Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { IndexFeed } from './index-feed.ts';

export interface ShardOwnershipOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  feed: IndexFeed;
  logger: Logger;
  /** The new assignment (a new set every time; empty while rebalancing). */
  onChange(shards: ReadonlySet<number>, reason: 'assigned' | 'rebalancing' | 'stopped'): void;
}

export interface ShardOwnership {
  owned(): ReadonlySet<number>;
  /** Owns nothing from now on, still in the group (so the decisions made can be sent before the shards move). */
  release(): void;
  /** Releases, then leaves the group (its shards go to the other instances). */
  stop(): Promise<void>;
}

/** Records read ahead of the index feed at most (each waits for the feed to reach it). */
const MAX_AHEAD_OF_FEED = 10_000;

export async function startShardOwnership(options: ShardOwnershipOptions): Promise<ShardOwnership> {
  const { kafka, topic, groupId, feed, logger, onChange } = options;
  let owned: ReadonlySet<number> = new Set();
  const change = (shards: ReadonlySet<number>, reason: 'assigned' | 'rebalancing' | 'stopped') => {
    owned = shards;
    onChange(shards, reason);
  };

  const consumer = await runAckConsumer({
    kafka,
    groupId,
    topics: [topic],
    logger,
    maxWaitMs: 1_000,
    // Matching runs on this thread: room for a long synchronous stretch before the group hands the shards on.
    sessionTimeoutMs: 30_000,
    maxUnacked: MAX_AHEAD_OF_FEED,
    onAssigned(assignment) {
      const shards = new Set(assignment[topic] ?? []);
      logger.info({ groupId, shards: [...shards].sort((a, b) => a - b) }, 'shards assigned');
      change(shards, 'assigned');
    },
    onRevoked(reason) {
      if (owned.size > 0) change(new Set(), reason === 'rebalancing' ? 'rebalancing' : 'stopped');
    },
    take(record) {
      void feed.reach(new Map([[record.partition, Number(record.offset) + 1]])).then(record.ack);
    },
  });
  await consumer.joined;

  let stopped: Promise<void> | undefined;
  return {
    owned: () => owned,
    release() {
      if (owned.size > 0) change(new Set(), 'stopped');
    },
    stop() {
      stopped ??= (async () => {
        if (owned.size > 0) change(new Set(), 'stopped'); // before leaving: the shards' next owner may start at once
        await consumer.stop();
      })();
      return stopped;
    },
  };
}
