/**
 * The producer every service uses: `createProducer(kafka)`. Idempotent, acks=all, Kafka's Java
 * partitioner, on @platformatic/kafka or kafkajs (`KAFKA_PRODUCER`); the errors are ours, so no
 * caller knows the client.
 */
import { kafkajsOf, settingsOf, type Kafka } from './client.ts';
import type { Headers } from './messages.ts';
import type { ProducerClient } from './producer-client.ts';
import { connectKafkajsProducer } from './producer-kafkajs.ts';
import { connectPlatformaticProducer } from './producer-platformatic.ts';

export interface OutgoingMessage {
  key: string | null;
  value: string | Buffer;
  headers?: Headers;
  /** Milliseconds since the epoch, as a string. */
  timestamp?: string;
  /** The partition to write to; without it, the key's (murmur2, as Kafka's Java client). */
  partition?: number;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/** Where a send's messages went: per partition, as the broker answered. */
export interface WrittenBatch {
  topic: string;
  partition: number;
  /** The offset of the first message written to this partition by the send. */
  baseOffset: number;
  /**
   * When the broker appended them (ms), on topics with `message.timestamp.type=LogAppendTime`;
   * on others what the broker answers (-1, or the batch's newest create time).
   */
  logAppendTime: number;
}

export interface Producer {
  /** Resolves once every in-sync replica has the messages (acks=all); rejects with `KafkaSendError`. */
  send(topic: string, messages: OutgoingMessage[]): Promise<WrittenBatch[]>;
  /** One request for messages bound to several topics. */
  sendBatch(batches: TopicMessages[]): Promise<WrittenBatch[]>;
  /** Lets the sends in flight settle (each resolves or rejects), then closes; later sends reject. */
  disconnect(): Promise<void>;
}

export interface ProducerOptions {
  /** gzip the record batches (default false). */
  compression?: boolean;
  /** Overrides the handle's client (`createKafka({ producer })`, `KAFKA_PRODUCER`). */
  client?: ProducerClient;
}

/** What each client's module gives this one. */
export interface ClientProducer {
  send(batches: TopicMessages[]): Promise<WrittenBatch[]>;
  /** Whether the client says the error may pass on another attempt. */
  retriable(err: unknown): boolean;
  close(): Promise<void>;
}

/** The message of an error and of its deepest cause: the clients nest theirs ("produce failed 9 times" ← … ← "connect ECONNREFUSED"). */
function describe(err: unknown): string {
  const messages: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 20; depth++) {
    messages.push(e.message);
    e = e instanceof AggregateError && e.errors.length > 0 ? e.errors.at(-1) : e.cause;
  }
  const [first = String(err), last] = [messages[0], messages.at(-1)];
  return last !== undefined && last !== first ? `${first} (${last})` : first;
}

/**
 * Kafka did not acknowledge a send: the messages may or may not have been written (send them again:
 * ids make duplicates harmless). `retriable`: the client says the fault may pass (the cluster away
 * or busy); false when the request itself was refused (an unknown topic, a record too large) or
 * the producer was disconnected.
 */
export class KafkaSendError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { cause?: unknown; retriable: boolean }) {
    super(message, { cause: options.cause });
    this.name = 'KafkaSendError';
    this.retriable = options.retriable;
  }
}

/** `createProducer` could not reach the cluster, after the client's own attempts. */
export class KafkaConnectError extends Error {
  readonly retriable = true;
  constructor(message: string, options: { cause: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'KafkaConnectError';
  }
}

/** Idempotent producer: retries never write a message twice, and acks=all. */
export async function createProducer(kafka: Kafka, options: ProducerOptions = {}): Promise<Producer> {
  const settings = settingsOf(kafka);
  const client = options.client ?? settings.producer;
  const compression = options.compression ?? false;
  let producer: ClientProducer;
  try {
    producer = client === 'kafkajs'
      ? await connectKafkajsProducer(kafkajsOf(kafka), { compression })
      : await connectPlatformaticProducer(settings, { compression });
  } catch (err) {
    throw new KafkaConnectError(`connecting a producer to Kafka (${settings.brokers.join(',')}) failed: ${describe(err)}`, { cause: err });
  }

  const inFlight = new Set<Promise<unknown>>();
  let closed: Promise<void> | undefined;
  const sendBatch = (batches: TopicMessages[]): Promise<WrittenBatch[]> => {
    const nonEmpty = batches.filter((b) => b.messages.length > 0);
    if (nonEmpty.length === 0) return Promise.resolve([]);
    if (closed !== undefined) return Promise.reject(new KafkaSendError('the producer is disconnected', { retriable: false }));
    const topics = nonEmpty.map((b) => b.topic).join(', ');
    const sent = producer.send(nonEmpty).catch((err: unknown) => {
      const count = nonEmpty.reduce((sum, b) => sum + b.messages.length, 0);
      throw new KafkaSendError(`sending ${count} messages to ${topics} failed: ${describe(err)}`, { cause: err, retriable: producer.retriable(err) });
    });
    const settled = sent.then(() => {}, () => {});
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return sent;
  };
  return {
    send: (topic, messages) => sendBatch([{ topic, messages }]),
    sendBatch,
    disconnect() {
      closed ??= Promise.all(inFlight).then(() => producer.close());
      return closed;
    },
  };
}
