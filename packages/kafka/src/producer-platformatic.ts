/**
 * The producer on @platformatic/kafka: idempotent (hence acks=all and one request in flight per
 * broker), Kafka's Java partitioner, the handle's retries with the project's back-off.
 */
import {
  GenericError, MultipleErrors, ProduceAcks, Producer, TimeoutError, compatibilityPartitioner, connectionsApiChannel,
  type MessageToProduce, type Partitioner,
} from '@platformatic/kafka';
import { backoffDelay } from '@pushtech/backoff';
import type { KafkaSettings } from './client.ts';
import type { Headers } from './messages.ts';
import type { ClientProducer, TopicMessages, WrittenBatch } from './producer.ts';

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/**
 * Between attempts of one request: 100 ms doubling to 1 s, with the project's jitter. With the
 * handle's 8 retries a send gives up after 3–6 s while the cluster is away (kafkajs' 5 s cap: 8–16 s):
 * every caller retries on its own or answers 503, and sooner is better for both.
 */
const RETRY_DELAY = { initialMs: 100, maxMs: 1_000 };
/** Per request, as kafkajs' default: a busy broker acknowledging a large batch is not a failure. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A key's partition as Kafka's Java client and kafkajs pick it: murmur2 of the key's bytes,
 * positive, modulo the partitions (the client takes the modulo). The matcher's shards depend on
 * it. Messages without a key go round the partitions, as they do with kafkajs.
 */
function javaPartitioner(): Partitioner<Buffer, Buffer, Buffer, Buffer> {
  let next = Math.floor(Math.random() * 0x7fffffff);
  return (message, key) => {
    if (key !== undefined) return compatibilityPartitioner(message, key);
    next = (next + 1) & 0x7fffffff;
    return next;
  };
}

const toBuffer = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value) : value);

/** A Map keyed by distinct Buffers keeps several values for one name, as Kafka records may. */
function headersOf(headers: Headers | undefined): Map<Buffer, Buffer> | undefined {
  if (headers === undefined) return undefined;
  const map = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) map.set(Buffer.from(name), toBuffer(one));
  }
  return map;
}

function messagesOf(batches: TopicMessages[]): Message[] {
  const messages: Message[] = [];
  for (const { topic, messages: outgoing } of batches) {
    for (const m of outgoing) {
      messages.push({
        topic,
        key: m.key === null ? undefined : Buffer.from(m.key),
        value: toBuffer(m.value),
        headers: headersOf(m.headers),
        timestamp: m.timestamp === undefined ? undefined : BigInt(m.timestamp),
        partition: m.partition,
      });
    }
  }
  return messages;
}

/**
 * The client answers a send with each partition's base offset only; the broker's log append time
 * is in the produce response, which the client publishes on a diagnostics channel just before it
 * settles the send. Responses are kept here by producer (its instance id owns its connections),
 * then taken by the send they answered.
 */
const appendTimes = new Map<number, Map<string, number>>();
/** A bound for entries never taken (a send that failed after some partitions had answered). */
const MAX_KEPT = 10_000;
const writtenKey = (topic: string, partition: number, baseOffset: bigint | number) => `${topic}:${partition}:${baseOffset}`;

interface ProduceResponse {
  responses: { name: string; partitionResponses: { index: number; baseOffset: bigint; logAppendTimeMs: bigint }[] }[];
}

const PRODUCE_API_KEY = 0;
connectionsApiChannel.asyncStart.subscribe((message) => {
  const event = message as { apiKey?: number; connection?: { ownerId?: number }; result?: ProduceResponse };
  if (event.apiKey !== PRODUCE_API_KEY || event.result === undefined) return;
  const kept = appendTimes.get(event.connection?.ownerId ?? -1);
  if (kept === undefined) return;
  if (kept.size > MAX_KEPT) kept.clear();
  for (const topic of event.result.responses) {
    for (const p of topic.partitionResponses) kept.set(writtenKey(topic.name, p.index, p.baseOffset), Number(p.logAppendTimeMs));
  }
});

/** Kafka's answer may change on another attempt (the cluster away or busy), or the request itself was refused. */
function retriable(err: unknown): boolean {
  if (!(err instanceof Error) || !GenericError.isGenericError(err)) return false;
  const leaves = (e: Error): Error[] => (MultipleErrors.isMultipleErrors(e) ? (e as MultipleErrors).errors.flatMap((inner: Error) => leaves(inner)) : [e]);
  // The client does not repeat a request that timed out (it may have been written); for the
  // caller, a timeout is a fault that may pass.
  return leaves(err).every((e) => e instanceof TimeoutError || (e as { canRetry?: boolean }).canRetry !== false);
}

export async function connectPlatformaticProducer(settings: KafkaSettings, options: { compression: boolean }): Promise<ClientProducer> {
  const producer = new Producer({
    clientId: settings.clientId,
    bootstrapBrokers: settings.brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: options.compression ? 'gzip' : 'none',
    partitioner: javaPartitioner(),
    // An idempotent producer of this client takes 0 or 1 retries for "retry forever".
    retries: Math.max(settings.retries, 2),
    retryDelay: (_client, _operation, attempt) => backoffDelay(RETRY_DELAY, attempt),
    timeout: REQUEST_TIMEOUT_MS,
  });
  const kept = new Map<string, number>();
  appendTimes.set(producer.instanceId, kept);
  const close = async () => {
    appendTimes.delete(producer.instanceId);
    await producer.close();
  };
  try {
    // Connects and takes a producer id, as kafkajs' connect does: a cluster away fails here.
    await producer.initIdempotentProducer({});
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  const take = (topic: string, partition: number, baseOffset: bigint): number => {
    const key = writtenKey(topic, partition, baseOffset);
    const time = kept.get(key) ?? -1;
    kept.delete(key);
    return time;
  };
  const sendNow = async (batches: TopicMessages[]): Promise<WrittenBatch[]> => {
    try {
      const { offsets = [] } = await producer.send({ messages: messagesOf(batches) });
      return offsets.map((o): WrittenBatch => ({ topic: o.topic, partition: o.partition, baseOffset: Number(o.offset), logAppendTime: take(o.topic, o.partition, o.offset) }));
    } catch (err) {
      for (const o of (err as { produced?: { offsets?: { topic: string; partition: number; offset: bigint }[] } }).produced?.offsets ?? []) take(o.topic, o.partition, o.offset);
      throw err;
    }
  };
  // One send at a time, in call order (the wire allows one request in flight anyway). Sends
  // overlapping in the client take their sequence numbers up front: when one partition of an
  // earlier send is refused for a moment (a leader moving, a new topic), the later send reaches
  // the broker out of sequence, and the client recovers by taking a new producer id and sending
  // the earlier send's messages again, the partitions already written included: duplicates
  // (seen here as 1,129 records for 1,000 sent by five overlapping sends).
  let previous: Promise<unknown> = Promise.resolve();
  return {
    send(batches) {
      const sent = previous.then(() => sendNow(batches));
      previous = sent.catch(() => {});
      return sent;
    },
    retriable,
    close,
  };
}
