/**
 * Records of topic `matches` (written here, read back by the reconciliation):
 * key `pairKey(searchId, offerId)`, value a CloudEvents envelope with
 * `source: "matcher"`, `type` `match.found` / `match.lost`, `subject` the
 * pair and `data` a `MatchData` (@pushtech/listings).
 */
import { z } from 'zod';
import { createEnvelope, fieldErrors, validateEnvelope, type FieldError } from '@pushtech/events';
import type { OutgoingMessage } from '@pushtech/kafka';
import { pairKey, type MatchEvent } from '@pushtech/listings';

export const MATCHER_SOURCE = 'matcher';

export function matchRecord(event: MatchEvent, time?: Date): OutgoingMessage {
  const pair = pairKey(event.data.searchId, event.data.offerId);
  const envelope = createEnvelope({ source: MATCHER_SOURCE, type: event.type, subject: pair, time, data: { ...event.data } });
  return { key: pair, value: JSON.stringify(envelope) };
}

const id = z.string().min(1);
const matchData = z.object({
  searchId: id,
  offerId: id,
  searchOwnerId: z.string(),
  offerOwnerId: z.string(),
  distanceM: z.number().min(0),
  searchVersion: z.int().min(0),
  offerVersion: z.int().min(0),
});

export type ParsedMatchRecord = { ok: true; event: MatchEvent } | { ok: false; errors: FieldError[] };

export function parseMatchRecord(value: Buffer | null): ParsedMatchRecord {
  if (value === null) return { ok: false, errors: [{ field: 'value', rule: 'must not be empty' }] };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, errors: [{ field: 'value', rule: 'must be JSON' }] };
  }
  const envelope = validateEnvelope(json);
  if (!envelope.ok) return envelope;
  const { type, data } = envelope.value;
  if (type !== 'match.found' && type !== 'match.lost') return { ok: false, errors: [{ field: 'type', rule: 'must be one of match.found, match.lost' }] };
  const checked = matchData.safeParse(data);
  if (!checked.success) return { ok: false, errors: fieldErrors(checked.error, 'data') };
  return { ok: true, event: { type, data: checked.data } };
}
