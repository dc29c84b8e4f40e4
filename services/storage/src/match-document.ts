/**
 * The Mongo projection of topic `matches` (collection `matches`): one document
 * per search/offer pair, `_id` = `pair` = `pairKey(searchId, offerId)`.
 * `match.found` makes it `state: "found"` with the distance, `match.lost`
 * makes it `state: "lost"` (the document stays, so that an older decision
 * arriving late is recognised).
 */
import { pairKey, RECENT_EVENT_IDS, type MatchData, type MatchEvent, type Recorded } from '@pushtech/contracts';

export interface MatchDocument extends MatchData {
  _id: string;
  pair: string;
  state: 'found' | 'lost';
  /** Ids of the latest applied events, oldest first: a redelivered event changes nothing. */
  eventIds: string[];
  /** Time of the decision (the envelope's `time`). */
  decidedAt: string;
}

/**
 * True when `data` was decided on strictly older listing versions than `doc`:
 * neither version is newer and one is older. Decisions on the same versions
 * (a listing expired: lost without a new version) or on incomparable ones
 * (search newer, offer older) are applied in log order.
 */
function olderDecision(data: MatchData, doc: MatchDocument): boolean {
  return data.searchVersion <= doc.searchVersion && data.offerVersion <= doc.offerVersion
    && (data.searchVersion < doc.searchVersion || data.offerVersion < doc.offerVersion);
}

/** The projection's evolve: the document after `record`, or the same document (`===`) when it changes nothing. */
export function evolveMatchDocument(doc: MatchDocument | null, record: Recorded<MatchEvent>): MatchDocument | null {
  const { event, eventId } = record;
  if (doc !== null && (doc.eventIds.includes(eventId) || olderDecision(event.data, doc))) return doc;
  const { searchId, offerId, searchOwnerId, offerOwnerId, distanceM, searchVersion, offerVersion } = event.data;
  const pair = pairKey(searchId, offerId);
  return {
    _id: pair,
    pair,
    searchId,
    offerId,
    searchOwnerId,
    offerOwnerId,
    distanceM,
    searchVersion,
    offerVersion,
    state: event.type === 'match.found' ? 'found' : 'lost',
    eventIds: [...(doc?.eventIds ?? []), eventId].slice(-RECENT_EVENT_IDS),
    decidedAt: record.time,
  };
}
