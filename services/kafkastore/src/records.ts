import { eventKey, type EnrichedEvent } from '@pushtech/events';
import type { OutgoingMessage } from '@pushtech/kafka';

/**
 * The two record formats the kafkastore writes (documented in the README).
 *
 * `events`: key = user id, else anonymous id, else event id (one user's events
 * stay in one partition, in order); value = the `EnrichedEvent` as JSON.
 */
export function eventRecord(event: EnrichedEvent): OutgoingMessage {
  return { key: eventKey(event), value: JSON.stringify(event) };
}

/** `events.dlq` value: a stream entry that could not become an event, and why. */
export interface DlqRecord {
  /** The entry's id in the tracker's Redis stream. */
  streamId: string;
  /** The Redis stream it came from (one per tracker). */
  stream: string;
  /** Why it was rejected, e.g. `bad JSON: …`, `missing field "e"`, `invalid envelope: id must be a lower-case UUIDv7`. */
  reason: string;
  /** The entry's `e` field as written (or all its fields as a JSON object when `e` is missing), cut at 64 KiB. */
  raw: string;
  /** When the kafkastore rejected it (RFC 3339). */
  time: string;
}

/** Key: the stream entry id. */
export function dlqRecord(record: DlqRecord): OutgoingMessage {
  return { key: record.streamId, value: JSON.stringify(record) };
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/**
 * Kafka refuses a partition's record batch larger than `max.message.bytes`
 * (1 MiB by default), and would refuse it again on every retry: a batch is
 * sent as requests of at most this many bytes of keys and values.
 */
export const MAX_REQUEST_BYTES = 900 * 1024;
/** Per-record overhead in a record batch (lengths, offsets, timestamps), rounded up. */
const RECORD_OVERHEAD = 64;

/** Splits messages for several topics into produce requests of at most `maxBytes`, keeping their order. */
export function produceRequests(batches: TopicMessages[], maxBytes = MAX_REQUEST_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current = new Map<string, OutgoingMessage[]>();
  let size = 0;
  const flush = () => {
    requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    size = 0;
  };
  for (const { topic, messages } of batches) {
    for (const message of messages) {
      const bytes = Buffer.byteLength(message.value) + (message.key === null ? 0 : Buffer.byteLength(message.key)) + RECORD_OVERHEAD;
      if (size > 0 && size + bytes > maxBytes) flush();
      let list = current.get(topic);
      if (list === undefined) { list = []; current.set(topic, list); }
      list.push(message);
      size += bytes;
    }
  }
  if (size > 0) flush();
  return requests;
}
