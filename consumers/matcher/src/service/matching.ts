/**
 * The matcher's state and its decisions, without Kafka or Mongo: the listing
 * index, what match events need of each listing (kind, owner, version, shard,
 * expiry), and the diff of one listing's matches around each event.
 *
 * For every listing event the index applies, the matches of that listing are
 * taken before and after it: `after ∖ before` are found, `before ∖ after` lost.
 * That is exactly the set of pairs whose state the event changed, so an edit
 * that keeps a match decides nothing. A listing that expires loses its matches
 * when its time is up (`sweepExpired`), with no new version.
 *
 * Decisions are passed on only for pairs in a shard this instance owns
 * (shards.ts); the others are some other instance's to emit, from its own
 * index, which applies the same events.
 */
import { pairKey, type MatchData, type MatchEvent } from '@pushtech/contracts';
import { expiresAtMs, type Listing, type ListingEvent, type ListingKind } from '@pushtech/listings';
import { createListingIndex, type ListingIndex, type Match } from '@pushtech/geo-index';
import { createExpiryQueue } from './expiry-queue.ts';
import { partitionOf } from './shards.ts';

/** What made the matcher decide: a listing event, a listing's expiry, or a reconciliation with the projection. */
export type DecisionCause = 'event' | 'expiry' | 'reconcile';

export interface MatchDecision {
  event: MatchEvent;
  cause: DecisionCause;
}

/** What a match event needs of a listing the index holds. */
export interface ListingFacts {
  kind: ListingKind;
  ownerId: string;
  version: number;
  /** The shard of the listing's pairs when it is a search (its `listings` partition). */
  shard: number;
  expiresAtMs: number;
}

/** A pair as the projection (plus the `matches` log after it) records it. */
export interface RecordedPair extends MatchData {
  state: 'found' | 'lost';
}

export interface MatchingOptions {
  /** Partitions of `listings`: the number of shards. */
  shards: number;
  owns(shard: number): boolean;
  /** Receives the decisions of owned shards, in the order they were made. */
  decide(decision: MatchDecision): void;
  index?: ListingIndex;
}

export interface ApplyOutcome {
  /** False when the event changed nothing (not newer than the listing held, or about a listing never created). */
  changed: boolean;
  found: number;
  lost: number;
}

const NO_MATCHES: Match[] = [];

export function createMatching(options: MatchingOptions) {
  const { shards, owns, decide } = options;
  const index = options.index ?? createListingIndex();
  const facts = new Map<string, ListingFacts>();
  const expiries = createExpiryQueue();

  const shardOf = (searchId: string) => facts.get(searchId)?.shard ?? partitionOf(searchId, shards);

  function remember(listing: Listing): ListingFacts {
    const previous = facts.get(listing.id);
    const expires = expiresAtMs(listing);
    const next: ListingFacts = {
      kind: listing.kind,
      ownerId: listing.ownerId,
      version: listing.version,
      shard: previous?.shard ?? partitionOf(listing.id, shards),
      expiresAtMs: expires,
    };
    facts.set(listing.id, next);
    if (Number.isFinite(expires) && expires !== previous?.expiresAtMs) expiries.push(expires, listing.id);
    return next;
  }

  function pairData(id: string, own: ListingFacts, otherId: string, other: ListingFacts, distanceM: number): MatchData {
    const [searchId, search, offerId, offer] = own.kind === 'search' ? [id, own, otherId, other] : [otherId, other, id, own];
    return {
      searchId,
      offerId,
      searchOwnerId: search.ownerId,
      offerOwnerId: offer.ownerId,
      distanceM,
      searchVersion: search.version,
      offerVersion: offer.version,
    };
  }

  /** Sets collecting the pairs decided from events and expiries, one per reconciliation running. */
  const trackers = new Set<Set<string>>();

  /** Passes a decision on when its pair is in an owned shard; true if it was. */
  function emit(type: MatchEvent['type'], data: MatchData, cause: DecisionCause): boolean {
    if (!owns(shardOf(data.searchId))) return false;
    if (cause !== 'reconcile') for (const decided of trackers) decided.add(pairKey(data.searchId, data.offerId));
    decide({ event: { type, data }, cause });
    return true;
  }

  /** A listing from the projection, at start: into the index, deciding nothing. */
  function load(listing: Listing): boolean {
    if (!index.upsert(listing)) return false;
    remember(listing);
    return true;
  }

  /** Applies one listing event at `now` (epoch ms) and decides what it changed. */
  function apply(event: ListingEvent, now: number): ApplyOutcome {
    sweepExpired(now);
    const id = event.data.id;
    const before = index.has(id) ? index.matchesFor(id, now) : NO_MATCHES;
    if (!index.evolve(event)) return { changed: false, found: 0, lost: 0 };
    let own: ListingFacts;
    if (event.type === 'listing.created' || event.type === 'listing.updated') {
      own = remember(event.data);
    } else {
      own = facts.get(id)!;
      own.version = event.data.version;
    }
    const held = index.has(id);
    const after = held ? index.matchesFor(id, now) : NO_MATCHES;

    const lost = new Map(before.map((m) => [m.id, m]));
    let found = 0;
    for (const match of after) {
      if (lost.delete(match.id)) continue;
      found++;
      emit('match.found', pairData(id, own, match.id, facts.get(match.id)!, match.distanceM), 'event');
    }
    for (const match of lost.values()) {
      emit('match.lost', pairData(id, own, match.id, facts.get(match.id)!, match.distanceM), 'event');
    }
    if (!held) facts.delete(id);
    return { changed: true, found, lost: lost.size };
  }

  /**
   * Listings whose `expiresAt` is ≤ `now` lose the matches they had just before
   * (decided with the versions held: storage applies equal versions in log order),
   * and leave the index: an expired listing can match nothing, and without this
   * its slot would be held for as long as the process runs. A renewal comes as a
   * `listing.updated` with the whole listing, which puts it back.
   * `apply` sweeps first, so every diff is taken with the expired already gone.
   */
  function sweepExpired(now: number): number {
    let decided = 0;
    for (let next = expiries.peek(); next !== undefined && next.at <= now; next = expiries.peek()) {
      expiries.pop();
      const own = facts.get(next.id);
      if (own === undefined || own.expiresAtMs !== next.at) continue;
      for (const match of index.matchesFor(next.id, next.at - 1)) {
        const other = facts.get(match.id)!;
        if (emit('match.lost', pairData(next.id, own, match.id, other, match.distanceM), 'expiry')) decided++;
      }
      index.remove(next.id);
      facts.delete(next.id);
    }
    return decided;
  }

  /** Ids of the searches held whose shard is in `owned`. */
  function searchesIn(owned: ReadonlySet<number>): string[] {
    const ids: string[] = [];
    for (const [id, f] of facts) if (f.kind === 'search' && owned.has(f.shard)) ids.push(id);
    return ids;
  }

  /**
   * Makes the record of search `searchId`'s pairs (`recorded`, by offer id) agree
   * with its matches at `now`: found for current matches not recorded as found,
   * lost for pairs recorded as found that no longer match. Pairs in `decidedSince`
   * (see `trackDecisions`) are left alone. Returns the decisions made.
   */
  function reconcileSearch(searchId: string, recorded: ReadonlyMap<string, RecordedPair> | undefined, now: number, decidedSince?: ReadonlySet<string>): number {
    const search = facts.get(searchId);
    let decided = 0;
    const current = search === undefined ? NO_MATCHES : index.matchesFor(searchId, now);
    const stillFound = new Set<string>();
    for (const match of current) {
      stillFound.add(match.id);
      if (recorded?.get(match.id)?.state === 'found' || decidedSince?.has(pairKey(searchId, match.id))) continue;
      if (emit('match.found', pairData(searchId, search!, match.id, facts.get(match.id)!, match.distanceM), 'reconcile')) decided++;
    }
    for (const [offerId, pair] of recorded ?? []) {
      if (pair.state !== 'found' || stillFound.has(offerId) || decidedSince?.has(pairKey(searchId, offerId))) continue;
      const { state: _state, ...data } = pair;
      const lost: MatchData = {
        ...data,
        searchVersion: search?.version ?? pair.searchVersion,
        offerVersion: facts.get(offerId)?.version ?? pair.offerVersion,
      };
      if (emit('match.lost', lost, 'reconcile')) decided++;
    }
    return decided;
  }

  return {
    index,
    /**
     * Collects the pairs decided from events or expiries from now until `stop()`.
     * A reconciliation leaves them alone (the feed's latest decision holds for the
     * index as it is), so racing the feed makes no duplicates.
     */
    trackDecisions() {
      const decided = new Set<string>();
      trackers.add(decided);
      return { decided: decided as ReadonlySet<string>, stop: () => { trackers.delete(decided); } };
    },
    load,
    apply,
    sweepExpired,
    searchesIn,
    reconcileSearch,
    shardOf,
    facts: (id: string): Readonly<ListingFacts> | undefined => facts.get(id),
    /** Listings held (active or paused). */
    size: () => index.size(),
  };
}

export type Matching = ReturnType<typeof createMatching>;
