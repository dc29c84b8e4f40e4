import type { ConsumerRunConfig } from 'kafkajs';
import type { Logger } from '@pushtech/logging';
import { kafkajsOf, type Kafka } from './client.ts';
import { watchGroup } from './group-events.ts';
import { toConsumed, type ConsumedMessage } from './messages.ts';
import { retryRetriable, subscribe } from './topics.ts';

interface CommonOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  /** Where a group with no committed offset starts: the oldest message, or only new ones. */
  fromBeginning?: boolean;
  /**
   * Start at the first message written at or after this time (ms) on every partition, whatever the
   * group has committed (once, at the start; the group commits as usual and resumes from its commits after a rebalance).
   */
  startAt?: { timestamp: number };
  /** Resolve only once the group is joined and partitions are assigned (so "only new ones" has a defined start). */
  awaitJoin?: boolean;
  /** How long a fetch waits for new messages; a stop waits for the fetch in flight (default 5 s). */
  maxWaitMs?: number;
  /** Partitions handled at once (default 1: one batch at a time); each partition's messages stay in order. */
  partitionsConcurrently?: number;
}

export type ConsumerOptions = CommonOptions & (
  /** Called once per message; on stop, the batch ends after the current message. */
  | { eachMessage: (message: ConsumedMessage) => Promise<void>; eachBatch?: never }
  /** Called with every message of one partition's fetch; on stop, the batch in hand is finished first. */
  | { eachBatch: (messages: ConsumedMessage[]) => Promise<void>; eachMessage?: never }
);

export interface RunningConsumer {
  /** Finishes the work in hand, commits what was finished, leaves the group and disconnects. */
  stop(): Promise<void>;
}

/**
 * Runs a consumer in a group. Offsets are committed only for messages whose
 * handler finished, so a crash or a stop never skips unprocessed messages
 * (at-least-once). A handler that throws makes kafkajs retry from the last
 * committed offset.
 */
export async function runConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { kafka, groupId, topics, logger } = options;
  const starts = options.startAt === undefined ? [] : await offsetsAt(kafka, topics, options.startAt.timestamp);
  const consumer = kafkajsOf(kafka).consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: options.maxWaitMs ?? 5_000 });
  let stopping = false;
  const group = watchGroup(consumer, { logger, groupId, stopping: () => stopping });
  await consumer.connect();
  try {
    await subscribe(consumer, topics, options.fromBeginning ?? false);
    await consumer.run({
      autoCommit: true,
      partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
      ...handlers(options),
    });
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw err;
  }

  // run() resolved after the join, before the first fetch; kafkajs drops the answers of fetches for partitions with a pending seek.
  for (const start of starts) consumer.seek(start);
  if (options.startAt) logger.info({ groupId, from: new Date(options.startAt.timestamp).toISOString(), starts }, 'consumer starts at the offsets of a time');
  if (options.awaitJoin) await group.reading;

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        logger.info({ groupId }, 'stopping consumer');
        // kafkajs waits for the handler in progress, commits resolved offsets, then leaves the group.
        await consumer.disconnect();
      })();
      return stopped;
    },
  };
}

function handlers(options: ConsumerOptions): Pick<ConsumerRunConfig, 'eachMessage' | 'eachBatch' | 'eachBatchAutoResolve'> {
  if (options.eachMessage) {
    const handle = options.eachMessage;
    return { eachMessage: async ({ topic, partition, message }) => handle(toConsumed(topic, partition, message)) };
  }
  const handle = options.eachBatch;
  return {
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
      if (batch.messages.length === 0) return;
      await handle(batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m)));
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  };
}

async function offsetsAt(kafka: Kafka, topics: string[], timestamp: number): Promise<{ topic: string; partition: number; offset: string }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const starts = [];
    for (const topic of topics) {
      for (const { partition, offset } of await retryRetriable(() => admin.fetchTopicOffsetsByTimestamp(topic, timestamp))) starts.push({ topic, partition, offset });
    }
    return starts;
  } finally {
    await admin.disconnect();
  }
}
