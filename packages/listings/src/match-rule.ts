import { haversineLngLatM } from './geo.ts';
import { expiresAtMs, type Listing } from './listing.ts';
import { listingTerms } from './terms.ts';

/** Why a search and an offer do not match: the first rule that fails, in the order listed. */
export type NoMatchReason =
  | 'not-a-search'
  | 'not-an-offer'
  | 'search-not-active'
  | 'offer-not-active'
  | 'search-expired'
  | 'offer-expired'
  | 'same-owner'
  | 'too-far'
  | 'missing-term';

export type MatchOutcome = { match: true; distanceM: number } | { match: false; reason: NoMatchReason };

type NoMatch = Extract<MatchOutcome, { match: false }>;

// One frozen object per reason: rejecting a pair allocates nothing (brute force rejects millions).
const noMatch = (reason: NoMatchReason): NoMatch => Object.freeze({ match: false, reason });
const NOT_A_SEARCH = noMatch('not-a-search');
const NOT_AN_OFFER = noMatch('not-an-offer');
const SEARCH_NOT_ACTIVE = noMatch('search-not-active');
const OFFER_NOT_ACTIVE = noMatch('offer-not-active');
const SEARCH_EXPIRED = noMatch('search-expired');
const OFFER_EXPIRED = noMatch('offer-expired');
const SAME_OWNER = noMatch('same-owner');
const TOO_FAR = noMatch('too-far');
const MISSING_TERM = noMatch('missing-term');

/**
 * A listing with what the rule needs computed once and held flat, so that
 * callers testing many pairs (brute force) touch one object per listing.
 */
export interface PreparedListing {
  listing: Listing;
  kind: Listing['kind'];
  status: Listing['status'];
  ownerId: string;
  expiresAtMs: number;
  lng: number;
  lat: number;
  radiusM: number;
  /** Query terms of a search, offer terms of an offer. */
  terms: readonly string[];
  termSet: ReadonlySet<string>;
}

export function prepareListing(listing: Listing): PreparedListing {
  const terms = listingTerms(listing);
  return {
    listing,
    kind: listing.kind,
    status: listing.status,
    ownerId: listing.ownerId,
    expiresAtMs: expiresAtMs(listing),
    lng: listing.location.coordinates[0],
    lat: listing.location.coordinates[1],
    radiusM: listing.radiusM,
    terms,
    termSet: new Set(terms),
  };
}

/**
 * The match rule (DESIGN "Listings and matching"): search S and offer O match when
 * both are active and unexpired at `now` (epoch ms), their owners differ,
 * haversine(S, O) ≤ min(S.radiusM, O.radiusM), and every query term of S is among
 * O's terms. A search without query terms matches nothing.
 */
export function matchRule(search: Listing, offer: Listing, now: number): MatchOutcome {
  return matchPrepared(prepareListing(search), prepareListing(offer), now);
}

export function matchPrepared(search: PreparedListing, offer: PreparedListing, now: number): MatchOutcome {
  if (search.kind !== 'search') return NOT_A_SEARCH;
  if (offer.kind !== 'offer') return NOT_AN_OFFER;
  if (search.status !== 'active') return SEARCH_NOT_ACTIVE;
  if (offer.status !== 'active') return OFFER_NOT_ACTIVE;
  if (now >= search.expiresAtMs) return SEARCH_EXPIRED;
  if (now >= offer.expiresAtMs) return OFFER_EXPIRED;
  if (search.ownerId === offer.ownerId) return SAME_OWNER;
  const distanceM = haversineLngLatM(search.lng, search.lat, offer.lng, offer.lat);
  if (distanceM > Math.min(search.radiusM, offer.radiusM)) return TOO_FAR;
  if (search.terms.length === 0) return MISSING_TERM;
  for (const term of search.terms) {
    if (!offer.termSet.has(term)) return MISSING_TERM;
  }
  return { match: true, distanceM };
}

/** The rule for two listings of either order: the search first, the offer second. */
export function matchListings(a: PreparedListing, b: PreparedListing, now: number): MatchOutcome {
  return a.kind === 'search' ? matchPrepared(a, b, now) : matchPrepared(b, a, now);
}
