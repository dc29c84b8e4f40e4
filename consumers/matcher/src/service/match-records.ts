/**
 * Records of topic `matches` (written here, read back by the reconciliation):
 * key `pairKey(searchId, offerId)`, value a CloudEvents envelope with
 * `source: "matcher"`, `type` `match.found` / `match.lost`, `subject` the
 * pair and `data` a `MatchData` (@pushtech/listings).
 */
import { createEnvelope, parseEventRecord, type FieldError } from '@pushtech/events';
import type { OutgoingMessage } from '@pushtech/kafka';
import { matchEventSchemas, pairKey, type MatchEvent } from '@pushtech/listings';

export const MATCHER_SOURCE = 'matcher';

export function matchRecord(event: MatchEvent, time?: Date): OutgoingMessage {
  const pair = pairKey(event.data.searchId, event.data.offerId);
  const envelope = createEnvelope({ source: MATCHER_SOURCE, type: event.type, subject: pair, time, data: { ...event.data } });
  return { key: pair, value: JSON.stringify(envelope) };
}

export type ParsedMatchRecord = { ok: true; event: MatchEvent } | { ok: false; errors: FieldError[] };

export function parseMatchRecord(value: Buffer | null): ParsedMatchRecord {
  const parsed = parseEventRecord<MatchEvent>(value, matchEventSchemas);
  return parsed.ok ? { ok: true, event: parsed.value.event } : parsed;
}
