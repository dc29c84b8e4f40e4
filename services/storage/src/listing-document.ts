/**
 * The Mongo projection of a listing (collection `listings`): the listing as
 * `evolveListing` folds it, plus what queries need (`cells`, `terms`) and what
 * read-your-writes needs (`eventIds`). `_id` is the listing id; API answers
 * carry only the listing (`toListing`).
 */
import { RECENT_EVENT_IDS, type Recorded } from '@pushtech/contracts';
import { cellsFor, evolveListing, offerTerms, type Listing, type ListingEvent } from '@pushtech/listings';

export interface ListingDocument extends Listing {
  _id: string;
  /** H3 cells of `location` at every stored resolution (`cellsFor`), a multikey index. */
  cells: string[];
  /** Terms of title, description and tags (`offerTerms`): what `q` finds it by. */
  terms: string[];
  /** Ids of the latest applied events, oldest first (at most RECENT_EVENT_IDS). */
  eventIds: string[];
  /** Time of the latest applied event (its envelope's `time`). */
  updatedAt: string;
}

const DERIVED = new Set(['_id', 'cells', 'terms', 'eventIds', 'updatedAt']);

/** The listing of a document: the API's view, without `_id` and derived fields. */
export function toListing(doc: ListingDocument): Listing {
  const listing: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!DERIVED.has(key) && value !== null && value !== undefined) listing[key] = value;
  }
  return listing as unknown as Listing;
}

function toDocument(listing: Listing, previous: ListingDocument | null, record: Recorded<ListingEvent>): ListingDocument {
  const clean = Object.fromEntries(Object.entries(listing).filter(([, v]) => v !== undefined)) as unknown as Listing;
  const sameLocation = previous !== null && previous.location.coordinates[0] === listing.location.coordinates[0]
    && previous.location.coordinates[1] === listing.location.coordinates[1];
  return {
    _id: listing.id,
    ...clean,
    cells: sameLocation ? previous.cells : cellsFor(listing.location),
    terms: offerTerms(listing),
    eventIds: [...(previous?.eventIds ?? []), record.eventId].slice(-RECENT_EVENT_IDS),
    updatedAt: record.time,
  };
}

/**
 * The projection's evolve: the document after `record`, or the very same
 * document (`===`) when the event changes nothing — a duplicate, an old
 * version, or an event for a listing never created.
 */
export function evolveListingDocument(doc: ListingDocument | null, record: Recorded<ListingEvent>): ListingDocument | null {
  const before = doc === null ? null : toListing(doc);
  const after = evolveListing(before, record.event);
  if (after === null || after === before) return doc;
  return toDocument(after, doc, record);
}
