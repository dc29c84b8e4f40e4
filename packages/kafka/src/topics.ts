import type { Consumer } from 'kafkajs';
import { retry } from '@pushtech/backoff';
import { kafkajsOf, type Kafka } from './client.ts';

/** Topics are declared in code; the broker never creates them on its own. */
export interface TopicSpec {
  name: string;
  partitions: number;
  retentionMs: number;
  /** `compact` keeps the newest record per key (e.g. state topics). */
  cleanupPolicy?: 'delete' | 'compact';
  /** Further topic configs, e.g. `{ 'message.timestamp.type': 'LogAppendTime' }`. */
  configs?: Record<string, string>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const days = (n: number) => n * DAY_MS;

/**
 * Creates the topics that do not exist yet; existing ones are left as they are. Safe to run on
 * every start. Returns once every partition of `topics` has a leader.
 */
export async function ensureTopics(kafka: Kafka, topics: TopicSpec[]): Promise<void> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length === 0) return;
    // Several services may create the same topic at once: losing that race is fine.
    await admin.createTopics({
      // kafkajs' own wait gives up when the broker does not know the topic yet ("does not host
      // this topic-partition"), which a busy broker answers just after creating it.
      waitForLeaders: false,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: -1,
        configEntries: [
          { name: 'retention.ms', value: String(t.retentionMs) },
          { name: 'cleanup.policy', value: t.cleanupPolicy ?? 'delete' },
          ...Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        ],
      })),
    }).catch(async (err: unknown) => {
      const now = new Set(await admin.listTopics());
      if (!missing.every((t) => now.has(t.name))) throw err;
    });
    await retryRetriable(() => admin.fetchTopicMetadata({ topics: missing.map((t) => t.name) }), 20);
  } finally {
    await admin.disconnect();
  }
}

/**
 * `call` (an admin request: `() => admin.fetchTopicOffsets(topic)`), made again while it fails
 * with a retriable error, up to `attempts` times (back-off 100 ms doubling to 1 s). kafkajs'
 * admin retries only an unknown topic, and gives up at once on "not the leader": what a partition
 * answers for a moment while its leader moves (a broker restarting) or, on a busy broker, just
 * after the topic was created.
 */
export function retryRetriable<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  return retry(call, {
    policy: { initialMs: 100, maxMs: 1_000, jitter: 0 },
    maxAttempts: attempts,
    retryable: (err) => (err as { retriable?: unknown }).retriable === true,
  });
}

/**
 * Subscribes `consumer` to `topics`, asking again while a broker does not know one of them yet: in
 * a cluster, a topic just made (`ensureTopics` waits on one broker) reaches the other brokers'
 * metadata a moment later, and they answer "does not host this topic-partition" until then.
 */
export function subscribe(consumer: Consumer, topics: string[], fromBeginning: boolean): Promise<void> {
  return retryRetriable(() => consumer.subscribe({ topics, fromBeginning }));
}
