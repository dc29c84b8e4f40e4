/**
 * Records of topics `listings`, `matches` and `users` as the projector reads
 * them: a CloudEvents envelope whose `type` and `data` form a `ListingEvent`,
 * a `MatchEvent` (@pushtech/listings) or a `DeviceEvent`. Checked on the way
 * in; a record that fails is logged and counted by the projector, never applied.
 */
import { z } from 'zod';
import { createEnvelope, parseEventRecord, type Envelope, type FieldError } from '@pushtech/events';
import { listingEventSchemas, matchEventSchemas, type ListingEvent, type MatchEvent } from '@pushtech/listings';
import { PLATFORMS, type DeviceEvent } from './device-decider.ts';

export const STORAGE_SOURCE = 'storage';

const userId = z.string().min(1);
const subscriptionId = z.string().min(1).max(128);
const userEventData = {
  'device.registered': z.object({ userId, subscriptionId, platform: z.enum(PLATFORMS) }),
  'device.removed': z.object({ userId, subscriptionId }),
} as const;

/** An event with what the projections keep of its envelope. */
export interface Recorded<E> {
  /** The envelope's id: the same on every duplicate. */
  eventId: string;
  /** The envelope's time (RFC 3339). */
  time: string;
  event: E;
}

export type Parsed<E> = { ok: true; value: Recorded<E> } | { ok: false; errors: FieldError[] };

function parse<E>(value: Buffer | null, schemas: Readonly<Record<string, z.ZodType>>): Parsed<E> {
  const parsed = parseEventRecord<E>(value, schemas);
  if (!parsed.ok) return parsed;
  const { envelope: { id: eventId, time }, event } = parsed.value;
  return { ok: true, value: { eventId, time, event } };
}

export function parseListingRecord(value: Buffer | null): Parsed<ListingEvent> {
  return parse<ListingEvent>(value, listingEventSchemas);
}

export function parseMatchRecord(value: Buffer | null): Parsed<MatchEvent> {
  return parse<MatchEvent>(value, matchEventSchemas);
}

export function parseUserRecord(value: Buffer | null): Parsed<DeviceEvent> {
  return parse<DeviceEvent>(value, userEventData);
}

/** The record storage writes to `users` for `event`: key = the user id, subject = the subscription id (what the event is about). */
export function userRecord(event: DeviceEvent, time = new Date()): { envelope: Envelope<DeviceEvent['data']>; key: string; value: string } {
  const envelope = createEnvelope({
    source: STORAGE_SOURCE,
    type: event.type,
    subject: event.data.subscriptionId,
    time,
    data: event.data as DeviceEvent['data'] & Record<string, unknown>,
  });
  return { envelope, key: event.data.userId, value: JSON.stringify(envelope) };
}

/** The record storage writes to `listings` for `event`: key = listing id. */
export function listingRecord(event: ListingEvent, time = new Date()): { envelope: Envelope<ListingEvent['data']>; key: string; value: string } {
  const envelope = createEnvelope({
    source: STORAGE_SOURCE,
    type: event.type,
    subject: event.data.id,
    time,
    data: event.data as ListingEvent['data'] & Record<string, unknown>,
  });
  return { envelope, key: event.data.id, value: JSON.stringify(envelope) };
}
