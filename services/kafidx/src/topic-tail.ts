/**
 * Reads topics for one viewer without a consumer group (a tail of @pushtech/kafka,
 * `kafidx-<uuid>`, no offsets stored), so watching never moves anyone's offsets.
 * Where it starts is fixed when the tail starts: each partition's high watermark
 * (now), or `last` before it; the backlog (the last N messages of each topic,
 * merged from its partitions by timestamp) is handed over in one piece, oldest
 * first, before any live message.
 */
import { randomUUID } from 'node:crypto';
import { retryRetriable, startTail as startKafkaTail, type Kafka, type KafkaAdmin, type Offsets } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { decodeValue, type ViewedMessage } from './message-filter.ts';

/** The admin handle the routes share with the tails. */
export type { KafkaAdmin };

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
  /** Reading failed (the client retries on its own when it can). */
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
  // Where each partition starts is fixed here; partitions still owing backlog messages, with the offset where their backlog ends.
  const from = new Map<string, Offsets>();
  const backlogEnds = new Map<string, number>();
  for (const topic of topics) {
    const starts: Offsets = new Map();
    for (const p of await retryRetriable(() => admin.fetchTopicOffsets(topic))) {
      const high = Number(p.high);
      const start = Math.max(Number(p.low), high - last);
      starts.set(p.partition, start);
      if (start < high) backlogEnds.set(partitionKey(topic, p.partition), high);
    }
    from.set(topic, starts);
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
  const tail = await startKafkaTail({
    kafka,
    id: groupId,
    from,
    logger,
    onCrash(error, restarting) {
      // Restarted on its own after a retriable error: nothing for the viewer to act on.
      if (!restarting) options.onError(`reading failed: ${error.message}`);
    },
    eachBatch: async ({ topic, partition, messages }) => {
      const fresh: ViewedMessage[] = messages.map((m) => ({ topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key, ...decodeValue(m.value) }));
      if (backlog === undefined) {
        await options.onMessages(fresh, true);
        return;
      }
      const key = partitionKey(topic, partition);
      const end = backlogEnds.get(key);
      for (const m of fresh) (end !== undefined && Number(m.offset) < end ? backlog : held).push(m);
      if (end !== undefined && Number(fresh.at(-1)!.offset) + 1 >= end) backlogEnds.delete(key);
      if (backlogEnds.size === 0) await finishBacklog();
    },
  });
  const handOver = () => finishBacklog().catch((err: unknown) => logger.warn({ groupId, err: String(err) }, 'topic tail: handing over the backlog failed'));
  if (backlogEnds.size === 0) void handOver();
  else {
    backlogTimer = setTimeout(() => {
      logger.warn({ groupId, missing: [...backlogEnds.keys()] }, 'topic tail: backlog incomplete, showing what arrived');
      void handOver();
    }, options.backlogTimeoutMs ?? 10_000);
  }

  return {
    groupId,
    async stop() {
      clearTimeout(backlogTimer);
      await tail.stop();
    },
  };
}
