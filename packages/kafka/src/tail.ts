/**
 * Reading without a consumer group of one's own: a tail reads every partition
 * of its topics from the offsets it is given, keeps its position itself and
 * never commits, so reading moves nobody's offsets. `readRange` reads from
 * one set of offsets up to another, then ends.
 *
 * kafkajs reads only in a group: a tail joins a private one (its `id`, used by
 * nobody else), puts every partition where the tail had got to on every
 * (re)join, so a rejoin never starts over, and deletes the group at the end.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@pushtech/logging';
import { kafkajsOf, type Kafka } from './client.ts';
import { watchGroup } from './group-events.ts';
import { toConsumed, type ConsumedMessage, type Offsets } from './messages.ts';
import { subscribe } from './topics.ts';

export interface TailBatch {
  topic: string;
  partition: number;
  /** New messages of one partition, in offset order (never one before the tail's position). */
  messages: ConsumedMessage[];
  /** The partition's end when the batch was fetched. */
  highWatermark: number;
}

export interface TailOptions {
  kafka: Kafka;
  /** Names this reader; unique (e.g. with a uuid). */
  id: string;
  /** Where to start: by topic, the next offset to read by partition; partitions not given start at their oldest message. */
  from: Map<string, Offsets>;
  logger: Logger;
  /** One partition's new messages; reading that partition waits for it, and the position moves past them once it resolves. */
  eachBatch(batch: TailBatch): Promise<void> | void;
  /** Reading failed; `restarting`: the client starts again on its own, from the tail's position. */
  onCrash?(error: Error, restarting: boolean): void;
  /** How long a fetch waits for new messages; a stop waits for the fetch in flight (default 500 ms). */
  maxWaitMs?: number;
}

export interface Tail {
  readonly id: string;
  /** The next offset to read, by topic and partition. */
  position(): Map<string, Offsets>;
  /** Finishes the batch in hand and disconnects. */
  stop(): Promise<void>;
}

/** Resolves once reading has started; batches follow through `eachBatch`. */
export async function startTail(options: TailOptions): Promise<Tail> {
  const { kafka, id, logger } = options;
  const topics = [...options.from.keys()];
  const position = new Map([...options.from].map(([topic, offsets]) => [topic, new Map(offsets)]));
  const consumer = kafkajsOf(kafka).consumer({ groupId: id, allowAutoTopicCreation: false, maxWaitTimeInMs: options.maxWaitMs ?? 500 });
  let stopping = false;
  const seekAll = () => {
    for (const [topic, offsets] of position) {
      for (const [partition, offset] of offsets) consumer.seek({ topic, partition, offset: String(offset) });
    }
  };
  // The group never commits: after any join kafkajs would start over (at the oldest message).
  // That includes the first join: a consumer that crashed while joining (a new broker's
  // "coordinator is loading") is restarted by kafkajs without the seeks made before.
  consumer.on(consumer.events.GROUP_JOIN, seekAll);
  watchGroup(consumer, { logger, groupId: id, stopping: () => stopping, onCrash: options.onCrash });

  await consumer.connect();
  try {
    await subscribe(consumer, topics, true);
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const { topic, partition } = batch;
        const offsets = position.get(topic)!;
        const start = offsets.get(partition) ?? 0;
        // Messages before the position: a fetch that was in flight during a seek.
        const messages = batch.messages.filter((m) => Number(m.offset) >= start).map((m) => toConsumed(topic, partition, m));
        if (messages.length === 0) return;
        await options.eachBatch({ topic, partition, messages, highWatermark: Number(batch.highWatermark) });
        offsets.set(partition, Number(messages.at(-1)!.offset) + 1);
      },
    });
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw err;
  }
  // run() resolved after the join, before the first fetch; kafkajs drops the answers of fetches
  // for partitions with a pending seek. If the consumer crashed while joining, kafkajs is
  // restarting it and seek throws until it has: the GROUP_JOIN handler seeks then.
  try {
    seekAll();
  } catch (err) {
    logger.debug({ id, err: String(err) }, 'tail: seeking after the next join');
  }

  let stopped: Promise<void> | undefined;
  return {
    id,
    position: () => new Map([...position].map(([topic, offsets]) => [topic, new Map(offsets)])),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        await consumer.disconnect().catch((err: unknown) => logger.warn({ id, err: String(err) }, 'tail: disconnect failed'));
        const admin = kafka.admin();
        try {
          await admin.connect();
          await admin.deleteGroups([id]);
        } catch (err) {
          logger.debug({ id, err: String(err) }, 'tail: group not deleted');
        } finally {
          await admin.disconnect().catch(() => {});
        }
      })();
      return stopped;
    },
  };
}

/**
 * Reads `topic` from `from` up to (not including) `to`, by partition, then stops; `each` gets
 * each partition's messages in offset order. Resolves with the number of messages read.
 */
export async function readRange(options: {
  kafka: Kafka;
  topic: string;
  from: Offsets;
  to: Offsets;
  logger: Logger;
  each(messages: ConsumedMessage[]): void;
  /** Names the reader (a uuid is added). */
  name?: string;
}): Promise<number> {
  const { topic, from, to, each } = options;
  const pending = new Set([...to].filter(([p, end]) => (from.get(p) ?? 0) < end).map(([p]) => p));
  if (pending.size === 0) return 0;
  let read = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  const start: Offsets = new Map([...to].map(([p, end]) => [p, pending.has(p) ? from.get(p) ?? 0 : end]));
  const tail = await startTail({
    kafka: options.kafka,
    id: `${options.name ?? 'range'}.${randomUUID()}`,
    from: new Map([[topic, start]]),
    logger: options.logger,
    eachBatch({ partition, messages }) {
      const end = to.get(partition) ?? 0;
      const inRange = messages.filter((m) => Number(m.offset) < end);
      if (inRange.length > 0) each(inRange);
      read += inRange.length;
      if (Number(messages.at(-1)!.offset) + 1 >= end && pending.delete(partition) && pending.size === 0) finish();
    },
  });
  try {
    await finished;
  } finally {
    await tail.stop();
  }
  return read;
}
