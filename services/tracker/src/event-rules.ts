/**
 * The rules an incoming event must pass, whatever form it came in (beacon query
 * string, JSON body, element of a batch). Pure: no I/O, no HTTP.
 */
import { EVENT_TYPE, UUID_V7, type FieldError } from '@pushtech/events';
import { z } from 'zod';

export const EVENT_MAX_BYTES = 32 * 1024;
export const ID_MAX_LENGTH = 128;
export const BATCH_MAX_EVENTS = 500;
export const BATCH_MAX_BYTES = 1024 * 1024;
/** Body limit of a single JSON event: its data is measured exactly after parsing; this leaves room for whitespace. */
export const EVENT_BODY_MAX_BYTES = 2 * EVENT_MAX_BYTES;

export const rules = {
  type: `must match ${EVENT_TYPE.source}`,
  data: 'must be a JSON object',
  reservedContext: 'is reserved',
  eventSize: `must be at most ${EVENT_MAX_BYTES} bytes as JSON`,
  id: `must be a string of 1 to ${ID_MAX_LENGTH} characters`,
  eventId: 'must be a lower-case UUIDv7',
  time: 'must be an RFC 3339 timestamp',
  lng: 'must be a number between -180 and 180',
  lat: 'must be a number between -90 and 90',
  unknownField: 'is not a known field',
  unknownParameter: 'is not a known parameter: with a JSON body the query holds only userId, anonymousId, time',
  event: 'must be a JSON object',
  batch: 'must be a JSON array of events',
  batchEmpty: 'must hold at least one event',
  batchLength: `must hold at most ${BATCH_MAX_EVENTS} events`,
} as const;

/** Why something was refused: the `reason` label of `tracker_events_rejected_total`, so a small fixed set. */
export type RejectReason =
  | 'invalid_type'
  | 'invalid_data'
  | 'reserved_context'
  | 'event_too_large'
  | 'invalid_id'
  | 'invalid_time'
  | 'invalid_location'
  | 'unknown_field'
  | 'unknown_parameter'
  | 'invalid_event'
  | 'invalid_body'
  | 'body_too_large'
  | 'unsupported_media_type';

export interface RuleBreak extends FieldError {
  reason: RejectReason;
}

/** What a client sent, before the rules. */
export interface EventInput {
  type: unknown;
  data: unknown;
  userId?: unknown;
  anonymousId?: unknown;
  time?: unknown;
  /** A batch event's own id (a client that retries sends the same id again). */
  id?: unknown;
  /** Query parameters of a JSON-body request that are not reserved ones. */
  unknownParameters?: string[];
}

/** An event that passed every rule. */
export interface ValidEvent {
  type: string;
  data: Record<string, unknown>;
  userId?: string;
  anonymousId?: string;
  /** The client's `time`: RFC 3339. */
  clientTime?: string;
  /** The client's id for the event (a UUIDv7): the envelope keeps it, so a retried batch carries the same ids. */
  id?: string;
}

export type EventCheck = { ok: true; event: ValidEvent } | { ok: false; errors: RuleBreak[] };

type Query = Record<string, unknown>;

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A query string carries every value as a string; coordinates must become numbers. */
function numberFromQuery(value: unknown): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}

/** A beacon: the reserved parameters are ids and client time, every other one is data. */
export function eventFromQuery(type: string, query: Query): EventInput {
  const { userId, anonymousId, time, ...data } = query;
  if (type === 'location') {
    if ('lng' in data) data.lng = numberFromQuery(data.lng);
    if ('lat' in data) data.lat = numberFromQuery(data.lat);
  }
  return { type, data, userId, anonymousId, time };
}

/** A single event with a JSON body: the body is data (none means `{}`), the query holds only reserved parameters. */
export function eventFromBody(type: string, query: Query, body: unknown): EventInput {
  const { userId, anonymousId, time, ...others } = query;
  return { type, data: body === undefined ? {} : body, userId, anonymousId, time, unknownParameters: Object.keys(others) };
}

const rfc3339 = z.iso.datetime({ offset: true });

function checkCoordinate(data: Record<string, unknown>, field: 'lng' | 'lat', limit: number, errors: RuleBreak[]): void {
  const value = data[field];
  if (typeof value !== 'number' || !(value >= -limit && value <= limit)) {
    errors.push({ field: `data.${field}`, rule: rules[field], reason: 'invalid_location' });
  }
}

function checkId(value: unknown, field: 'userId' | 'anonymousId', errors: RuleBreak[]): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length === 0 || value.length > ID_MAX_LENGTH) {
    errors.push({ field, rule: rules.id, reason: 'invalid_id' });
  }
}

export function checkEvent(input: EventInput): EventCheck {
  const errors: RuleBreak[] = [];
  for (const name of input.unknownParameters ?? []) {
    errors.push({ field: `query.${name}`, rule: rules.unknownParameter, reason: 'unknown_parameter' });
  }
  if (typeof input.type !== 'string' || !EVENT_TYPE.test(input.type)) {
    errors.push({ field: 'type', rule: rules.type, reason: 'invalid_type' });
  }
  const { data } = input;
  if (!isJsonObject(data)) {
    errors.push({ field: 'data', rule: rules.data, reason: 'invalid_data' });
  } else {
    if (Object.hasOwn(data, 'context')) {
      errors.push({ field: 'data.context', rule: rules.reservedContext, reason: 'reserved_context' });
    }
    if (Buffer.byteLength(JSON.stringify(data)) > EVENT_MAX_BYTES) {
      errors.push({ field: 'data', rule: rules.eventSize, reason: 'event_too_large' });
    }
    if (input.type === 'location') {
      checkCoordinate(data, 'lng', 180, errors);
      checkCoordinate(data, 'lat', 90, errors);
    }
  }
  checkId(input.userId, 'userId', errors);
  checkId(input.anonymousId, 'anonymousId', errors);
  if (input.time !== undefined && !(typeof input.time === 'string' && rfc3339.safeParse(input.time).success)) {
    errors.push({ field: 'time', rule: rules.time, reason: 'invalid_time' });
  }
  if (input.id !== undefined && !(typeof input.id === 'string' && UUID_V7.test(input.id))) {
    errors.push({ field: 'id', rule: rules.eventId, reason: 'invalid_id' });
  }
  if (errors.length > 0) return { ok: false, errors };

  const event: ValidEvent = { type: input.type as string, data: data as Record<string, unknown> };
  if (input.userId !== undefined) event.userId = input.userId as string;
  if (input.anonymousId !== undefined) event.anonymousId = input.anonymousId as string;
  if (input.time !== undefined) event.clientTime = input.time as string;
  if (input.id !== undefined) event.id = input.id as string;
  return { ok: true, event };
}

/** True when the only rules broken are size rules: the answer is 413 rather than 400. */
export function onlyTooLarge(errors: readonly RuleBreak[]): boolean {
  return errors.every((e) => e.reason === 'event_too_large' || e.reason === 'body_too_large');
}

const batchEventFields = new Set(['id', 'type', 'data', 'userId', 'anonymousId', 'time']);

/** One element of a batch: `{id?, type, data?, userId?, anonymousId?, time?}`, nothing else. */
export function checkBatchEvent(value: unknown): EventCheck {
  if (!isJsonObject(value)) return { ok: false, errors: [{ field: 'event', rule: rules.event, reason: 'invalid_event' }] };
  const unknown: RuleBreak[] = Object.keys(value)
    .filter((key) => !batchEventFields.has(key))
    .map((key) => ({ field: key, rule: rules.unknownField, reason: 'unknown_field' }));
  const { id, type, data, userId, anonymousId, time } = value;
  const checked = checkEvent({ type, data: data === undefined ? {} : data, userId, anonymousId, time, id });
  if (unknown.length === 0) return checked;
  return { ok: false, errors: [...unknown, ...(checked.ok ? [] : checked.errors)] };
}

export interface BatchCheck {
  /** The valid events, in batch order, with their index in the batch. */
  accepted: { index: number; event: ValidEvent }[];
  /** The invalid ones, each with every rule it breaks. */
  rejected: { index: number; errors: RuleBreak[] }[];
}

/** A batch body: a JSON array of 1 to 500 events. A body-level problem rejects the whole batch. */
export function checkBatch(body: unknown): { ok: true; batch: BatchCheck } | { ok: false; error: RuleBreak } {
  if (!Array.isArray(body)) return { ok: false, error: { field: 'body', rule: rules.batch, reason: 'invalid_body' } };
  if (body.length === 0) return { ok: false, error: { field: 'body', rule: rules.batchEmpty, reason: 'invalid_body' } };
  if (body.length > BATCH_MAX_EVENTS) return { ok: false, error: { field: 'body', rule: rules.batchLength, reason: 'body_too_large' } };
  const batch: BatchCheck = { accepted: [], rejected: [] };
  body.forEach((value, index) => {
    const checked = checkBatchEvent(value);
    if (checked.ok) batch.accepted.push({ index, event: checked.event });
    else batch.rejected.push({ index, errors: checked.errors });
  });
  return { ok: true, batch };
}
