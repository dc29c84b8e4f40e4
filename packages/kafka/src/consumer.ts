import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '@pushtech/logging';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: KafkaMessage['headers'];
  /** Milliseconds since the epoch. */
  timestamp: number;
}

interface CommonOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  /** Where a group with no committed offset starts: the oldest message, or only new ones. */
  fromBeginning?: boolean;
  /** Resolve only once the group is joined and partitions are assigned (so "only new ones" has a defined start). */
  awaitJoin?: boolean;
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

function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key === null ? null : m.key.toString(),
    value: m.value,
    headers: m.headers,
    timestamp: Number(m.timestamp),
  };
}

/**
 * Runs a consumer in a group. Offsets are committed only for messages whose
 * handler finished, so a crash or a stop never skips unprocessed messages
 * (at-least-once). A handler that throws makes kafkajs retry from the last
 * committed offset.
 */
export async function runConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { kafka, groupId, topics, logger } = options;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? false });
  // The first completed fetch comes after the group join and after the start offsets were resolved.
  const joined = new Promise<void>((resolve) => {
    const remove = consumer.on(consumer.events.FETCH, () => { remove(); resolve(); });
  });

  if (options.eachMessage) {
    const handle = options.eachMessage;
    await consumer.run({
      autoCommit: true,
      partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
      eachMessage: async ({ topic, partition, message }) => handle(toConsumed(topic, partition, message)),
    });
  } else {
    const handle = options.eachBatch;
    await consumer.run({
      autoCommit: true,
      partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
        if (batch.messages.length === 0) return;
        await handle(batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m)));
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
  }

  if (options.awaitJoin) await joined;

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        logger.info({ groupId }, 'stopping consumer');
        // kafkajs waits for the handler in progress, commits resolved offsets, then leaves the group.
        await consumer.disconnect();
      })();
      return stopped;
    },
  };
}

export function parseJson<T = unknown>(message: ConsumedMessage): T {
  if (message.value === null) throw new Error(`message ${message.topic}/${message.partition}@${message.offset} has no value`);
  return JSON.parse(message.value.toString('utf8')) as T;
}
