import { retryRetriable, runConsumer, type ConsumedMessage, type Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { uniqueName, waitFor } from './index.ts';

export interface TopicReader {
  messages: ConsumedMessage[];
  /** Parsed values. */
  values<T = Record<string, unknown>>(): T[];
  /** Waits until the topic has delivered `count` messages in all. */
  waitForCount(count: number, timeoutMs?: number): Promise<void>;
  /**
   * Waits until this reader holds every message the topic has now (its end offsets as of the
   * call). The marker before asserting that something did not happen: once the producer of a
   * message has finished, a message missing from `messages` after this was never written.
   */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Reads a topic from its beginning, in a group of its own, keeping every message. */
export async function readTopic(kafka: Kafka, topic: string, logger: Logger): Promise<TopicReader> {
  const messages: ConsumedMessage[] = [];
  const consumer = await runConsumer({
    kafka, logger, topics: [topic], groupId: uniqueName('reader'), fromBeginning: true,
    eachBatch: async (batch) => { messages.push(...batch); },
  });
  return {
    messages,
    values: <T>() => messages.map((m) => JSON.parse(m.value!.toString('utf8')) as T),
    async waitForCount(count, timeoutMs = 60_000) {
      await waitFor(() => (messages.length >= count ? true : undefined), `${count} messages on ${topic}`, timeoutMs)
        .catch((err: Error) => { throw new Error(`${err.message} (got ${messages.length})`); });
    },
    async caughtUp(timeoutMs = 60_000) {
      const ends = await topicEnds(kafka, topic);
      const read = () => {
        const next = new Map<number, number>();
        for (const m of messages) next.set(m.partition, Math.max(next.get(m.partition) ?? 0, Number(m.offset) + 1));
        return [...ends].every(([partition, end]) => (next.get(partition) ?? 0) >= end);
      };
      await waitFor(() => (read() ? true : undefined), `every message on ${topic} as of now`, timeoutMs);
    },
    stop: () => consumer.stop(),
  };
}

/**
 * Waits until consumer group `groupId` has committed `topic` up to its end as of the call: the
 * marker before asserting that the group's work on those messages had no (further) effect. Only
 * for groups that commit a message once its effects are written.
 */
export async function groupCaughtUp(kafka: Kafka, groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
  const ends = await topicEnds(kafka, topic);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(async () => {
      const [answer] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = new Map((answer?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      return [...ends].every(([partition, end]) => end === 0 || (committed.get(partition) ?? -1) >= end) ? true : undefined;
    }, `group ${groupId} to commit ${topic} up to its end`, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Each partition's end: the offset the next message will get (0 for a partition never written).
 * Asked again while a partition answers "not the leader" (a topic just made, a busy broker).
 */
export async function topicEnds(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await retryRetriable(() => admin.fetchTopicOffsets(topic))).map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** How many messages `topic` has ever been given: the sum of its partitions' ends. */
export async function topicLength(kafka: Kafka, topic: string): Promise<number> {
  return [...(await topicEnds(kafka, topic)).values()].reduce((sum, end) => sum + end, 0);
}
