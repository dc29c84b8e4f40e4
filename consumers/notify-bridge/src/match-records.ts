/**
 * Records of topic `matches` as the bridge reads them (written by the matcher,
 * consumers/matcher): key `pairKey(searchId, offerId)`, value a CloudEvents
 * envelope, `type` `match.found` / `match.lost`, `data` a `MatchData`
 * (@pushtech/listings). Checked on the way in; a record that fails is logged
 * and counted, never acted on.
 */
import { parseEventRecord, type FieldError } from '@pushtech/events';
import { matchEventSchemas, type MatchEvent } from '@pushtech/listings';

export interface MatchRecord {
  eventId: string;
  /** When the matcher decided (the envelope's `time`), milliseconds since the epoch. */
  decidedAt: number;
  event: MatchEvent;
}

export type ParsedMatch = { ok: true; value: MatchRecord } | { ok: false; errors: FieldError[] };

export function parseMatchRecord(value: Buffer | null): ParsedMatch {
  const parsed = parseEventRecord<MatchEvent>(value, matchEventSchemas);
  if (!parsed.ok) return parsed;
  const { envelope: { id: eventId, time }, event } = parsed.value;
  return { ok: true, value: { eventId, decidedAt: Date.parse(time), event } };
}
