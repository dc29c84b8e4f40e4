/**
 * Produce requests of the records the kafkastore writes (the records
 * themselves are `eventsTopic.encode` and `eventsDlqTopic.encode` of
 * @pushtech/contracts).
 */
import type { OutgoingMessage } from '@pushtech/kafka';

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
