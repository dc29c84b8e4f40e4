import { runConsumer, type ConsumedMessage, type Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { uniqueName, waitFor } from './index.ts';

export interface TopicReader {
  messages: ConsumedMessage[];
  /** Parsed values. */
  values<T = Record<string, unknown>>(): T[];
  /** Waits until the topic has delivered `count` messages in all. */
  waitForCount(count: number, timeoutMs?: number): Promise<void>;
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
    stop: () => consumer.stop(),
  };
}
