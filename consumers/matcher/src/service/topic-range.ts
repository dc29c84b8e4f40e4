/**
 * Reads a topic from `from` up to (not including) `to`, by partition, with a
 * short-lived consumer in a group of its own (deleted afterwards), then stops.
 */
import { randomUUID } from 'node:crypto';
import type { ConsumedMessage, Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { Consumer } from '@pushtech/listing-log';
import type { Offsets } from '@pushtech/listing-log';

export async function readTopicRange(options: {
  kafka: Kafka;
  topic: string;
  from: Offsets;
  to: Offsets;
  logger: Logger;
  /** Called with each partition's messages in offset order. */
  each: (messages: ConsumedMessage[]) => void;
  groupPrefix?: string;
}): Promise<number> {
  const { kafka, topic, from, to, logger, each } = options;
  const pending = new Set([...to].filter(([p, end]) => (from.get(p) ?? 0) < end).map(([p]) => p));
  if (pending.size === 0) return 0;
  const groupId = `${options.groupPrefix ?? 'range'}.${randomUUID()}`;
  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  let read = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const [partition, end] of to) {
      consumer.seek({ topic, partition, offset: String(pending.has(partition) ? from.get(partition) ?? 0 : end) });
    }
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const partition = batch.partition;
        if (!pending.has(partition)) return;
        const start = from.get(partition) ?? 0;
        const end = to.get(partition) ?? 0;
        const messages: ConsumedMessage[] = [];
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < start || offset >= end) continue;
          messages.push({
            topic, partition, offset: m.offset, key: m.key === null ? null : m.key.toString(), value: m.value, headers: m.headers, timestamp: Number(m.timestamp),
          });
        }
        if (messages.length > 0) each(messages);
        read += messages.length;
        if (Number(batch.lastOffset()) + 1 >= end) {
          pending.delete(partition);
          if (pending.size === 0) finish();
        }
      },
    });
    await finished;
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch((err: unknown) => logger.debug({ err, groupId }, 'range group not deleted'));
    await admin.disconnect();
  }
  return read;
}
