/**
 * Response topics (`notify.results.*`): the notifier's answers to a producer's
 * requests, on the topic each request names as its `responseTopic`
 * (DESIGN.md, "Notifier protocol"). Key: the request's uuid. Value: a
 * `NotifyResponse` as JSON. 3 partitions, kept 3 days; created by the producer
 * that names it, or by the notifier on its first response.
 *
 * Written by the notifier; read by the producer that named it (the notify
 * bridge: `notify.results.bridge`).
 */
import { z } from 'zod';
import type { Validation } from '@pushtech/events';
import { days, type TopicSpec } from '@pushtech/kafka';
import { decodeJson } from '../json.ts';
import type { TopicContract } from '../topic.ts';

export const RESPONSE_TYPES = ['copy', 'success', 'failure'] as const;

export const notifyResponseSchema = z.object({
  type: z.enum(RESPONSE_TYPES),
  /** The request's; null when a rejected request had none. */
  uuid: z.string().nullable(),
  versionUtcSeconds: z.number().nullable(),
  /** Seconds since the epoch (UTC), like `versionUtcSeconds`. */
  handledAt: z.number(),
  /** copy only: the status and the body (parsed JSON, or the text with `raw`; a blank body is ""). */
  info: z.object({ status: z.int(), body: z.unknown() }).optional(),
  /** failure only: why, in words (an addition to DESIGN's format). */
  reason: z.string().optional(),
});

export type NotifyResponse = z.infer<typeof notifyResponseSchema>;

/** A response topic's spec: 3 partitions, 3 days. */
function responseTopicSpec(name: string): TopicSpec {
  return { name, partitions: 3, retentionMs: days(3) };
}

export const notifyResultsTopic = {
  /** The notify bridge's response topic (its RESPONSE_TOPIC default). */
  spec: responseTopicSpec('notify.results.bridge'),
  /** Any producer's response topic. */
  specFor: responseTopicSpec,
  writers: ['notifier'],
  readers: ['notify-bridge'],
  key: (response: NotifyResponse) => response.uuid,
  encode(response: NotifyResponse): { key: string | null; value: string } {
    return { key: response.uuid, value: JSON.stringify(response) };
  },
  decode(value: Buffer | null): Validation<NotifyResponse> {
    return decodeJson(value, notifyResponseSchema);
  },
} satisfies TopicContract & { specFor(name: string): TopicSpec };
