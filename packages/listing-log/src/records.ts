/**
 * Records of topic `listings` as storage (and the mover) write them, for the
 * services that read the log (the matcher, the mover): a CloudEvents envelope
 * whose `type` and `data` form a `ListingEvent` (`listingEventSchemas`, as
 * storage checks them). A record that fails is logged and counted, never
 * applied.
 */
import { parseEventRecord, type FieldError } from '@pushtech/events';
import { listingEventSchemas, type ListingEvent } from '@pushtech/listings';

export type ParsedListingRecord = { ok: true; event: ListingEvent } | { ok: false; errors: FieldError[] };

export function parseListingRecord(value: Buffer | null): ParsedListingRecord {
  const parsed = parseEventRecord<ListingEvent>(value, listingEventSchemas);
  return parsed.ok ? { ok: true, event: parsed.value.event } : parsed;
}
