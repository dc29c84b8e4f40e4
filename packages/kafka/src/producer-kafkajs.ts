/** The producer on kafkajs: idempotent, one request in flight, acks=all, Kafka's Java partitioner. */
import { CompressionTypes, Partitioners, type Kafka as KafkaJS } from 'kafkajs';
import type { ClientProducer, WrittenBatch } from './producer.ts';

function written(metadata: { topicName: string; partition: number; baseOffset?: string; logAppendTime?: string }[]): WrittenBatch[] {
  return metadata.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: Number(m.baseOffset ?? -1), logAppendTime: Number(m.logAppendTime ?? -1) }));
}

type KafkajsError = { retriable?: boolean; cause?: KafkajsError } | null | undefined;

/** kafkajs says whether an error may pass; once its own retries are spent it wraps the last attempt's error, which says it. */
function retriable(err: unknown): boolean {
  let e = err as KafkajsError;
  while (typeof e?.cause?.retriable === 'boolean') e = e.cause;
  return e?.retriable === true;
}

export async function connectKafkajsProducer(client: KafkaJS, options: { compression: boolean }): Promise<ClientProducer> {
  const producer = client.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const compression = options.compression ? CompressionTypes.GZIP : CompressionTypes.None;
  return {
    send: async (topicMessages) => written(await producer.sendBatch({ topicMessages, acks: -1, compression })),
    retriable,
    close: () => producer.disconnect(),
  };
}
