import type { KafkaMessage } from 'kafkajs';

/** Record headers: a value, or several for one name. */
export type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** Offsets of a topic's partitions (next offset to read, by partition), as plain numbers: Kafka offsets stay far below 2^53. */
export type Offsets = Map<number, number>;

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Headers | undefined;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

export function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key === null ? null : m.key.toString('utf8'),
    value: m.value,
    headers: m.headers,
    timestamp: Number(m.timestamp),
  };
}

export function parseJson<T = unknown>(message: ConsumedMessage): T {
  if (message.value === null) throw new Error(`message ${message.topic}/${message.partition}@${message.offset} has no value`);
  return JSON.parse(message.value.toString('utf8')) as T;
}
