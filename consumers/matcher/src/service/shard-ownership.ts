/**
 * Shard ownership: a consumer in group MATCHER_GROUP on `listings`. The
 * partitions Kafka assigns it are the shards this instance decides (shards.ts),
 * so instances share the work and a crashed one's shards move to the others.
 *
 * It also reads its partitions, waits until the index feed has applied each
 * batch (and written its decisions), then commits: the group's committed
 * offsets and lag say how far matching is behind, per partition.
 *
 * From the moment the group starts rebalancing until the new assignment, the
 * instance owns nothing (two instances never decide one shard at once).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { IndexFeed } from './index-feed.ts';
import type { Consumer } from '@pushtech/listing-log';

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

const HEARTBEAT_EVERY_MS = 1_000;

export async function startShardOwnership(options: ShardOwnershipOptions): Promise<ShardOwnership> {
  const { kafka, topic, groupId, feed, logger, onChange } = options;
  let owned: ReadonlySet<number> = new Set();
  const change = (shards: ReadonlySet<number>, reason: 'assigned' | 'rebalancing' | 'stopped') => {
    owned = shards;
    onChange(shards, reason);
  };

  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1_000 });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const shards = new Set(payload.memberAssignment[topic] ?? []);
    logger.info({ groupId, shards: [...shards].sort((a, b) => a - b) }, 'shards assigned');
    change(shards, 'assigned');
  });
  for (const event of [consumer.events.REBALANCING, consumer.events.CRASH, consumer.events.STOP]) {
    consumer.on(event, () => {
      if (owned.size > 0) change(new Set(), event === consumer.events.REBALANCING ? 'rebalancing' : 'stopped');
    });
  }

  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
      const target = new Map([[batch.partition, Number(batch.lastOffset()) + 1]]);
      let done = false;
      const reached = feed.reach(target).then(() => { done = true; });
      while (!done && isRunning()) {
        await Promise.race([reached, sleep(HEARTBEAT_EVERY_MS)]);
        await heartbeat();
      }
      if (done) resolveOffset(batch.lastOffset());
    },
  });

  let stopped: Promise<void> | undefined;
  return {
    owned: () => owned,
    release() {
      if (owned.size > 0) change(new Set(), 'stopped');
    },
    stop() {
      stopped ??= (async () => {
        if (owned.size > 0) change(new Set(), 'stopped'); // before leaving: the shards' next owner may start at once
        await consumer.disconnect();
      })();
      return stopped;
    },
  };
}
