import type { Envelope } from './envelope.ts';

/**
 * What the tracker stamps on every event, under `data.context`. The kafkastore
 * adds `geo`, `device`, `os` and `browser` next to these.
 */
export interface TrackerContext {
  ip: string;
  userAgent?: string;
  /** The client's own clock, when it sent one (RFC 3339). `time` is when the tracker received it. */
  clientTime?: string;
  userId?: string;
  anonymousId?: string;
}

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

export type TrackedData<C extends TrackerContext = TrackerContext> = Record<string, unknown> & { context: C };

/** An event as the tracker writes it to its Redis stream. `subject` is the user id, else the anonymous id. */
export type TrackedEvent = Envelope<TrackedData>;
/** An event as the kafkastore writes it to Kafka topic `events`. */
export type EnrichedEvent = Envelope<TrackedData<EnrichedContext>>;

/**
 * The tracker's Redis stream entry: one field, `e`, holding the envelope as JSON.
 * The kafkastore reads the same field.
 */
export const STREAM_FIELD = 'e';

/** The tracker's stream key in its own Redis, unless REDIS_STREAM says otherwise (tracker and kafkastore share it). */
export const DEFAULT_TRACKER_STREAM = 'pushtech:events';

/** Kafka key of an event: the user id, else the anonymous id, else the event id (DESIGN: one user's events stay in order). */
export function eventKey(event: TrackedEvent): string {
  return event.data.context.userId ?? event.data.context.anonymousId ?? event.id;
}
