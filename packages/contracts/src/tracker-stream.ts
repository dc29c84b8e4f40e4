/**
 * The tracker's Redis stream (one per tracker), the joint between a tracker
 * and its kafkastore: one field, `e`, holding a `TrackedEvent` as JSON. The
 * tracker `XADD`s it; the kafkastore reads it (`parseEntry` checks it) and
 * writes the event, enriched, to topic `events`.
 */
import type { Envelope } from '@pushtech/events';

/** What the tracker stamps on every event, under `data.context`; the kafkastore adds `geo`, `device`, `os` and `browser`. */
export interface TrackerContext {
  ip: string;
  userAgent?: string;
  /** The client's own clock, when it sent one (RFC 3339). `time` is when the tracker received it. */
  clientTime?: string;
  userId?: string;
  anonymousId?: string;
}

export type TrackedData<C extends TrackerContext = TrackerContext> = Record<string, unknown> & { context: C };

/** An event as the tracker writes it to its Redis stream. `subject` is the user id, else the anonymous id. */
export type TrackedEvent = Envelope<TrackedData>;

/** The stream entry's one field: the envelope as JSON. */
export const STREAM_FIELD = 'e';

/** The tracker's stream key in its own Redis, unless REDIS_STREAM says otherwise (tracker and kafkastore share it). */
export const DEFAULT_TRACKER_STREAM = 'pushtech:events';
