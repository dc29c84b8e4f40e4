import { CompressionTypes, Partitioners } from 'kafkajs';
import { kafkajsOf, type Kafka } from './client.ts';
import type { Headers } from './messages.ts';

export interface OutgoingMessage {
  key: string | null;
  value: string | Buffer;
  headers?: Headers;
  /** Milliseconds since the epoch, as a string. */
  timestamp?: string;
  /** The partition to write to; without it, the key's (murmur2, as Kafka's Java client). */
  partition?: number;
}

/** Where a send's messages went: per partition, as the broker answered. */
export interface WrittenBatch {
  topic: string;
  partition: number;
  /** The offset of the first message written to this partition by the send. */
  baseOffset: number;
  /** When the broker appended them (ms), on topics with `message.timestamp.type=LogAppendTime`; -1 otherwise. */
  logAppendTime: number;
}

export interface Producer {
  /** Resolves once every in-sync replica has the messages (acks=all). */
  send(topic: string, messages: OutgoingMessage[]): Promise<WrittenBatch[]>;
  /** One request for messages bound to several topics. */
  sendBatch(batches: { topic: string; messages: OutgoingMessage[] }[]): Promise<WrittenBatch[]>;
  disconnect(): Promise<void>;
}

function written(metadata: { topicName: string; partition: number; baseOffset?: string; logAppendTime?: string }[]): WrittenBatch[] {
  return metadata.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: Number(m.baseOffset ?? -1), logAppendTime: Number(m.logAppendTime ?? -1) }));
}

/** Idempotent producer: retries never write a message twice, and acks=all. */
export async function createProducer(kafka: Kafka, options: { compression?: boolean } = {}): Promise<Producer> {
  const producer = kafkajsOf(kafka).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const compression = options.compression ? CompressionTypes.GZIP : CompressionTypes.None;
  return {
    async send(topic, messages) {
      if (messages.length === 0) return [];
      return written(await producer.send({ topic, messages, acks: -1, compression }));
    },
    async sendBatch(batches) {
      const topicMessages = batches.filter((b) => b.messages.length > 0);
      if (topicMessages.length === 0) return [];
      return written(await producer.sendBatch({ topicMessages, acks: -1, compression }));
    },
    disconnect: () => producer.disconnect(),
  };
}
