/**
 * Topic `events`: tracked events, enriched. Key: the user id, else the
 * anonymous id, else the event id (one user's events stay in order). Value:
 * the `EnrichedEvent` as JSON — the tracker's envelope, its `data.context`
 * grown by `geo`, `device`, `os` and `browser`. Kept 7 days.
 *
 * Written by the kafkastore; read by stats, the mover (location events) and
 * kafidx. Stats and the mover read only the fields they need, leniently (see
 * their READMEs); `decode` checks the whole event.
 */
import { z } from 'zod';
import { envelopeSchema, type Envelope, type Validation } from '@pushtech/events';
import { days } from '@pushtech/kafka';
import { decodeJson } from '../json.ts';
import type { TopicContract } from '../topic.ts';
import type { TrackedData, TrackedEvent, TrackerContext } from '../tracker-stream.ts';

export interface Geo {
  country: string;
  region: string;
  city: string;
  lat: number;
  lon: number;
  timezone: string;
}

export interface EnrichedContext extends TrackerContext {
  /** null for private, loopback and unknown addresses. */
  geo: Geo | null;
  device: { type?: string; vendor?: string; model?: string };
  os: { name?: string; version?: string };
  browser: { name?: string; version?: string };
}

/** An event as the kafkastore writes it to topic `events`. */
export type EnrichedEvent = Envelope<TrackedData<EnrichedContext>>;

const text = z.string().optional();
const enrichedContextSchema = z.looseObject({
  ip: z.string().min(1),
  userAgent: text,
  clientTime: text,
  userId: text,
  anonymousId: text,
  geo: z.object({ country: z.string(), region: z.string(), city: z.string(), lat: z.number(), lon: z.number(), timezone: z.string() }).nullable(),
  device: z.object({ type: text, vendor: text, model: text }),
  os: z.object({ name: text, version: text }),
  browser: z.object({ name: text, version: text }),
});

export const enrichedEventSchema = envelopeSchema.extend({
  data: z.looseObject({ context: enrichedContextSchema }),
});

/** Kafka key of an event: the user id, else the anonymous id, else the event id (one user's events stay in order). */
export function eventKey(event: TrackedEvent): string {
  return event.data.context.userId ?? event.data.context.anonymousId ?? event.id;
}

export const eventsTopic = {
  spec: { name: 'events', partitions: 6, retentionMs: days(7) },
  writers: ['kafkastore'],
  readers: ['stats', 'mover', 'kafidx'],
  key: eventKey,
  encode(event: EnrichedEvent): { key: string; value: string } {
    return { key: eventKey(event), value: JSON.stringify(event) };
  },
  decode(value: Buffer | null): Validation<EnrichedEvent> {
    return decodeJson(value, enrichedEventSchema) as Validation<EnrichedEvent>;
  },
} satisfies TopicContract;
