/**
 * The record the mover appends to topic `listings`: exactly what storage
 * writes for a move (storage's records.ts `listingRecord`, which storage does
 * not export): key = the listing id; value = a CloudEvents 1.0 envelope with
 * `type: "listing.moved"`, `subject` = the listing id, `data` = `{ id, location,
 * version }` (the version after the move). Only `source` differs: "mover".
 */
import { createEnvelope } from '@pushtech/events';
import type { OutgoingMessage } from '@pushtech/kafka';
import type { ListingEvent } from '@pushtech/listings';

export const MOVER_SOURCE = 'mover';

type Moved = Extract<ListingEvent, { type: 'listing.moved' }>['data'];

export function listingMovedRecord(data: Moved, time = new Date()): OutgoingMessage {
  const envelope = createEnvelope({ source: MOVER_SOURCE, type: 'listing.moved', subject: data.id, time, data: { id: data.id, location: data.location, version: data.version } });
  return { key: data.id, value: JSON.stringify(envelope) };
}
