/**
 * Reads topics for one viewer without ever committing: a consumer in a group of its
 * own (`kafidx-<uuid>`, used by nobody else, no offsets stored), so watching never
 * moves anyone's offsets. Where it starts is fixed when the tail starts: each
 * partition's high watermark (now), or `last` before it; the backlog (the last N
 * messages of each topic, merged from its partitions by timestamp) is handed over
 * in one piece, oldest first, before any live message.
 */
import { randomUUID } from 'node:crypto';
import { retryRetriable, type Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { decodeValue, type ViewedMessage } from './message-filter.ts';

export type KafkaAdmin = ReturnType<Kafka['admin']>;

export interface TailOptions {
  kafka: Kafka;
  admin: KafkaAdmin;
  topics: string[];
  /** Messages of each topic to show from before now (0: only new ones). */
  last: number;
  logger: Logger;
  /**
   * The backlog (live = false, once, possibly empty), then live messages as they arrive.
   * Reading waits for the returned promise (the viewer bounds how long).
   */
  onMessages(messages: ViewedMessage[], live: boolean): Promise<void>;
  /** The consumer failed (kafkajs retries on its own when it can). */
  onError(message: string): void;
  /** A backlog that does not complete in this time (e.g. a gap in a compacted partition) is handed over as it is. */
  backlogTimeoutMs?: number;
}

export interface TopicTail {
  groupId: string;
  stop(): Promise<void>;
}

const partitionKey = (topic: string, partition: number) => `${partition}/${topic}`;

/** Newest `last` of each topic, oldest first; ties keep Kafka's order within a partition. */
export function mergeBacklog(messages: ViewedMessage[], last: number): ViewedMessage[] {
  const sorted = [...messages].sort((a, b) =>
    a.timestamp - b.timestamp || a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(a.offset) - Number(b.offset));
  const kept: ViewedMessage[] = [];
  const perTopic = new Map<string, number>();
  for (let i = sorted.length - 1; i >= 0; i--) {
    const m = sorted[i]!;
    const n = perTopic.get(m.topic) ?? 0;
    if (n >= last) continue;
    perTopic.set(m.topic, n + 1);
    kept.push(m);
  }
  return kept.reverse();
}

/** Resolves once the consumer has joined its group; messages follow through `onMessages`. */
export async function startTail(options: TailOptions): Promise<TopicTail> {
  const { kafka, admin, topics, last, logger } = options;
  // Next offset to hand over, per partition; the start is fixed here, before joining.
  const next = new Map<string, number>();
  // Partitions still owing backlog messages, with the offset where their backlog ends.
  const backlogEnds = new Map<string, number>();
  const starts: { topic: string; partition: number; offset: number }[] = [];
  for (const topic of topics) {
    for (const p of await retryRetriable(() => admin.fetchTopicOffsets(topic))) {
      const high = Number(p.high);
      const start = Math.max(Number(p.low), high - last);
      next.set(partitionKey(topic, p.partition), start);
      starts.push({ topic, partition: p.partition, offset: start });
      if (start < high) backlogEnds.set(partitionKey(topic, p.partition), high);
    }
  }

  let backlog: ViewedMessage[] | undefined = [];
  let held: ViewedMessage[] = [];
  const finishBacklog = async () => {
    if (backlog === undefined) return;
    const merged = mergeBacklog(backlog, last);
    const live = held;
    backlog = undefined;
    held = [];
    clearTimeout(backlogTimer);
    await options.onMessages(merged, false);
    if (live.length > 0) await options.onMessages(live, true);
  };
  let backlogTimer: NodeJS.Timeout | undefined;

  const groupId = `kafidx-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  let stopping = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    // The group never commits: after any join kafkajs would start from the end; put every
    // partition where this tail had got to. That includes the first join, because a consumer
    // that crashed while joining (a new broker's "coordinator is loading") is restarted by
    // kafkajs without the seeks made before.
    for (const s of starts) consumer.seek({ topic: s.topic, partition: s.partition, offset: String(next.get(partitionKey(s.topic, s.partition))) });
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (stopping) return;
    const error = event.payload.error;
    logger.warn({ groupId, err: error.message, restart: event.payload.restart }, 'topic tail: consumer crashed');
    // kafkajs restarts the consumer after a retriable error: nothing for the viewer to act on.
    if (!event.payload.restart) options.onError(`reading failed: ${error.message}`);
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = partitionKey(batch.topic, batch.partition);
        let expected = next.get(key) ?? 0;
        const fresh: ViewedMessage[] = [];
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < expected) continue; // already handed over (a fetch racing a seek)
          expected = offset + 1;
          fresh.push({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            timestamp: Number(m.timestamp),
            key: m.key === null ? null : m.key.toString('utf8'),
            ...decodeValue(m.value),
          });
        }
        next.set(key, expected);
        if (fresh.length === 0) return;
        if (backlog === undefined) {
          await options.onMessages(fresh, true);
          return;
        }
        const end = backlogEnds.get(key);
        for (const m of fresh) (end !== undefined && Number(m.offset) < end ? backlog : held).push(m);
        if (end !== undefined && expected >= end) backlogEnds.delete(key);
        if (backlogEnds.size === 0) await finishBacklog();
      },
    });
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw err;
  }
  // run() resolved after the join; the first fetch's answer has not arrived yet, and
  // kafkajs drops answers for partitions with a pending seek.
  // If the consumer crashed while joining (a new broker's coordinator still loading), kafkajs is
  // restarting it and seek throws until it has: the GROUP_JOIN handler seeks then.
  try {
    for (const s of starts) consumer.seek({ topic: s.topic, partition: s.partition, offset: String(s.offset) });
  } catch (err) {
    logger.debug({ groupId, err: String(err) }, 'topic tail: seeking after the next join');
  }
  const handOver = () => finishBacklog().catch((err: unknown) => logger.warn({ groupId, err: String(err) }, 'topic tail: handing over the backlog failed'));
  if (backlogEnds.size === 0) void handOver();
  else {
    backlogTimer = setTimeout(() => {
      logger.warn({ groupId, missing: [...backlogEnds.keys()] }, 'topic tail: backlog incomplete, showing what arrived');
      void handOver();
    }, options.backlogTimeoutMs ?? 10_000);
  }

  let stopped: Promise<void> | undefined;
  return {
    groupId,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearTimeout(backlogTimer);
        await consumer.disconnect().catch((err: unknown) => logger.warn({ groupId, err: String(err) }, 'topic tail: disconnect failed'));
      })();
      return stopped;
    },
  };
}
