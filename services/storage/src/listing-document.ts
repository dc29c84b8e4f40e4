/**
 * The Mongo projection of a listing (collection `listings`): the listing as
 * `evolveListing` folds it, plus what queries need (`terms`) and what
 * read-your-writes needs (`eventIds`). `_id` is the listing id; API answers
 * carry only the listing (`toListing`).
 */
import { RECENT_EVENT_IDS, type Recorded } from '@pushtech/contracts';
import { evolveListing, offerTerms, type Listing, type ListingEvent } from '@pushtech/listings';

export interface ListingDocument extends Listing {
  _id: string;
  /** Terms of title, description and tags (`offerTerms`): what `q` finds it by. */
  terms: string[];
  /** Ids of the latest applied events, oldest first (at most RECENT_EVENT_IDS). */
  eventIds: string[];
  /** Time of the latest applied event (its envelope's `time`). */
  updatedAt: string;
}

// `cells`: written before the nearby index (listing-cells.ts) replaced it; older documents may still carry it.
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
  return {
    _id: listing.id,
    ...clean,
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
