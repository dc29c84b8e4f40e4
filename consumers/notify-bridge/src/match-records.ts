/**
 * Records of topic `matches` as the bridge reads them (written by the matcher,
 * consumers/matcher): key `pairKey(searchId, offerId)`, value a CloudEvents
 * envelope, `type` `match.found` / `match.lost`, `data` a `MatchData`
 * (@pushtech/listings). Checked on the way in; a record that fails is logged
 * and counted, never acted on.
 */
import { z } from 'zod';
import { fieldErrors, validateEnvelope, type FieldError } from '@pushtech/events';
import type { MatchEvent } from '@pushtech/listings';

const id = z.string().min(1);
const matchData = z.object({
  searchId: id,
  offerId: id,
  searchOwnerId: z.string().min(1),
  offerOwnerId: z.string().min(1),
  distanceM: z.number().min(0),
  searchVersion: z.int().min(0),
  offerVersion: z.int().min(0),
});

export interface MatchRecord {
  eventId: string;
  /** When the matcher decided (the envelope's `time`), milliseconds since the epoch. */
  decidedAt: number;
  event: MatchEvent;
}

export type ParsedMatch = { ok: true; value: MatchRecord } | { ok: false; errors: FieldError[] };

export function parseMatchRecord(value: Buffer | null): ParsedMatch {
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
  if (type !== 'match.found' && type !== 'match.lost') return { ok: false, errors: [{ field: 'type', rule: 'must be one of match.found, match.lost' }] };
  const checked = matchData.safeParse(data);
  if (!checked.success) return { ok: false, errors: fieldErrors(checked.error, 'data') };
  return { ok: true, value: { eventId, decidedAt: Date.parse(time), event: { type, data: checked.data } } };
}
