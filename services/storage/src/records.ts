/**
 * Records of topics `listings`, `matches` and `users` as the projector reads
 * them: a CloudEvents envelope whose `type` and `data` form a `ListingEvent`,
 * a `MatchEvent` (@pushtech/listings) or a `DeviceEvent`. Checked on the way
 * in; a record that fails is logged and counted by the projector, never applied.
 */
import { z } from 'zod';
import { createEnvelope, fieldErrors, validateEnvelope, type Envelope, type FieldError } from '@pushtech/events';
import type { ListingEvent, MatchEvent } from '@pushtech/listings';
import { PLATFORMS, type DeviceEvent } from './device-decider.ts';

export const STORAGE_SOURCE = 'storage';

const point = z.object({
  type: z.literal('Point'),
  coordinates: z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]),
});
const version = z.int().min(1);
const id = z.string().min(1);

const listing = z.object({
  id,
  kind: z.enum(['offer', 'search']),
  ownerId: z.string().min(1),
  title: z.string(),
  description: z.string().optional(),
  tags: z.array(z.string()),
  location: point,
  radiusM: z.number().positive(),
  follow: z.boolean(),
  status: z.enum(['active', 'paused', 'closed']),
  imageIds: z.array(z.string()),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  version,
});

const listingEventData = {
  'listing.created': listing,
  'listing.updated': listing,
  'listing.moved': z.object({ id, location: point, version }),
  'listing.paused': z.object({ id, version }),
  'listing.resumed': z.object({ id, version }),
  'listing.closed': z.object({ id, version }),
} as const;

const matchData = z.object({
  searchId: id,
  offerId: id,
  searchOwnerId: z.string(),
  offerOwnerId: z.string(),
  distanceM: z.number().min(0),
  searchVersion: z.int().min(0),
  offerVersion: z.int().min(0),
});

const matchEventData = { 'match.found': matchData, 'match.lost': matchData } as const;

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

function parse<E>(value: Buffer | null, schemas: Record<string, z.ZodType>): Parsed<E> {
  if (value === null) return { ok: false, errors: [{ field: 'value', rule: 'must not be empty' }] };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, errors: [{ field: 'value', rule: 'must be JSON' }] };
  }
  const envelope = validateEnvelope(json);
  if (!envelope.ok) return envelope;
  const { id: eventId, type, time, data } = envelope.value;
  const schema = schemas[type];
  if (schema === undefined) return { ok: false, errors: [{ field: 'type', rule: `must be one of ${Object.keys(schemas).join(', ')}` }] };
  const checked = schema.safeParse(data);
  if (!checked.success) return { ok: false, errors: fieldErrors(checked.error, 'data') };
  return { ok: true, value: { eventId, time, event: { type, data: checked.data } as E } };
}

export function parseListingRecord(value: Buffer | null): Parsed<ListingEvent> {
  return parse<ListingEvent>(value, listingEventData);
}

export function parseMatchRecord(value: Buffer | null): Parsed<MatchEvent> {
  return parse<MatchEvent>(value, matchEventData);
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
