/**
 * Topic `events.dlq`: tracker stream entries the kafkastore could not turn
 * into an event, with the reason; nothing accepted is dropped without a trace.
 * Key: the entry's id in its Redis stream. Value: a `DlqRecord` as JSON. Kept
 * 14 days, one partition.
 *
 * Written by the kafkastore; read by people (kafidx), no service.
 */
import { z } from 'zod';
import type { Validation } from '@pushtech/events';
import { days } from '@pushtech/kafka';
import { decodeJson } from '../json.ts';
import type { TopicContract } from '../topic.ts';

export const dlqRecordSchema = z.strictObject({
  /** The entry's id in the tracker's Redis stream. */
  streamId: z.string().min(1),
  /** The Redis stream it came from (one per tracker). */
  stream: z.string().min(1),
  /** Why it was rejected, e.g. `bad JSON: …`, `missing field "e"`, `invalid envelope: id must be a lower-case UUIDv7`. */
  reason: z.string().min(1),
  /** The entry's `e` field as written (or all its fields as a JSON object when `e` is missing), cut at 64 KiB. */
  raw: z.string(),
  /** When the kafkastore rejected it (RFC 3339). */
  time: z.iso.datetime({ offset: true }),
});

export type DlqRecord = z.infer<typeof dlqRecordSchema>;

export const eventsDlqTopic = {
  spec: { name: 'events.dlq', partitions: 1, retentionMs: days(14) },
  writers: ['kafkastore'],
  readers: ['kafidx (people)'],
  key: (record: DlqRecord) => record.streamId,
  encode(record: DlqRecord): { key: string; value: string } {
    return { key: record.streamId, value: JSON.stringify(record) };
  },
  decode(value: Buffer | null): Validation<DlqRecord> {
    return decodeJson(value, dlqRecordSchema);
  },
} satisfies TopicContract;
