import { CompressionTypes, Partitioners, type Kafka, type IHeaders } from 'kafkajs';

export interface OutgoingMessage {
  key: string | null;
  value: string | Buffer;
  headers?: IHeaders;
  /** Milliseconds since the epoch, as a string (kafkajs' convention). */
  timestamp?: string;
}

export interface Producer {
  /** Resolves once every in-sync replica has the messages (acks=all). */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /** One request for messages bound to several topics. */
  sendBatch(batches: { topic: string; messages: OutgoingMessage[] }[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Idempotent producer: retries never write a message twice, and acks=all. */
export async function createProducer(kafka: Kafka, options: { compression?: boolean } = {}): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const compression = options.compression ? CompressionTypes.GZIP : CompressionTypes.None;
  return {
    async send(topic, messages) {
      if (messages.length === 0) return;
      await producer.send({ topic, messages, acks: -1, compression });
    },
    async sendBatch(batches) {
      const topicMessages = batches.filter((b) => b.messages.length > 0);
      if (topicMessages.length === 0) return;
      await producer.sendBatch({ topicMessages, acks: -1, compression });
    },
    disconnect: () => producer.disconnect(),
  };
}
