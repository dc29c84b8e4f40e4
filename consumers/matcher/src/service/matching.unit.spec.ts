import { describe, expect, it } from 'vitest';
import { pairKey, type MatchEvent } from '@pushtech/contracts';
import type { ListingEvent } from '@pushtech/listings';
import { seededRandom } from '@pushtech/random';
import { createMatching, type MatchDecision, type RecordedPair } from './matching.ts';
import { partitionOf } from './shards.ts';
import { at, listing } from './test-matcher.ts';
import { foundAtTheEnd, randomWorkload } from './test-workload.ts';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const SHARDS = 6;

function instance(owned: number[] = [0, 1, 2, 3, 4, 5]) {
  const decisions: MatchDecision[] = [];
  const shards = new Set(owned);
  const matching = createMatching({ shards: SHARDS, owns: (s) => shards.has(s), decide: (d) => decisions.push(d) });
  const said = () => decisions.splice(0).map((d) => `${d.event.type} ${d.event.data.searchId}|${d.event.data.offerId}`).sort();
  return { matching, decisions, said };
}

describe('matching: the diff of one listing around each event', () => {
  const search = listing({ id: 's', kind: 'search', ownerId: 'alice', title: 'bike', radiusM: 1_000 });
  const offer = listing({ id: 'o', kind: 'offer', ownerId: 'bob', title: 'bike', location: at(300) });

  it('decides found, nothing while the pair keeps matching, lost when it stops', () => {
    const { matching, said, decisions } = instance();
    matching.apply({ type: 'listing.created', data: search }, NOW);
    matching.apply({ type: 'listing.created', data: offer }, NOW);
    expect(decisions[0]!.event.data).toMatchObject({ searchId: 's', offerId: 'o', searchOwnerId: 'alice', offerOwnerId: 'bob', searchVersion: 1, offerVersion: 1 });
    expect(said()).toEqual(['match.found s|o']);
    matching.apply({ type: 'listing.updated', data: { ...offer, description: 'red', version: 2 } }, NOW);
    matching.apply({ type: 'listing.moved', data: { id: 'o', location: at(400), version: 3 } }, NOW);
    expect(said()).toEqual([]);
    matching.apply({ type: 'listing.moved', data: { id: 's', location: at(2_000), version: 2 } }, NOW);
    expect(decisions[0]!.event.data).toMatchObject({ searchVersion: 2, offerVersion: 3 });
    expect(said()).toEqual(['match.lost s|o']);
  });

  it('ignores events not newer than what it holds', () => {
    const { matching, said } = instance();
    matching.apply({ type: 'listing.created', data: search }, NOW);
    matching.apply({ type: 'listing.created', data: offer }, NOW);
    said();
    expect(matching.apply({ type: 'listing.paused', data: { id: 's', version: 1 } }, NOW).changed).toBe(false);
    expect(matching.apply({ type: 'listing.created', data: search }, NOW).changed).toBe(false);
    expect(said()).toEqual([]);
  });

  it('loses the matches of a closed listing and forgets it', () => {
    const { matching, said } = instance();
    matching.apply({ type: 'listing.created', data: search }, NOW);
    matching.apply({ type: 'listing.created', data: offer }, NOW);
    said();
    matching.apply({ type: 'listing.closed', data: { id: 's', version: 2 } }, NOW);
    expect(said()).toEqual(['match.lost s|o']);
    expect(matching.facts('s')).toBeUndefined();
    expect(matching.size()).toBe(1);
  });

  it('loses the matches of an expired listing when its time is up, with the versions held', () => {
    const { matching, said, decisions } = instance();
    matching.apply({ type: 'listing.created', data: search }, NOW);
    matching.apply({ type: 'listing.created', data: { ...offer, expiresAt: new Date(NOW + 10_000).toISOString() } }, NOW);
    said();
    expect(matching.sweepExpired(NOW + 9_999)).toBe(0);
    expect(matching.sweepExpired(NOW + 10_000)).toBe(1);
    expect(decisions[0]).toMatchObject({ cause: 'expiry', event: { data: { searchVersion: 1, offerVersion: 1 } } });
    expect(said()).toEqual(['match.lost s|o']);
    // An event after the expiry does not decide it again.
    matching.apply({ type: 'listing.moved', data: { id: 's', location: at(100), version: 2 } }, NOW + 20_000);
    expect(said()).toEqual([]);
  });

  it('forgets an expired listing (its slot is free again); a renewal puts it back and it matches again', () => {
    const { matching, said } = instance();
    matching.apply({ type: 'listing.created', data: search }, NOW);
    matching.apply({ type: 'listing.created', data: { ...offer, expiresAt: new Date(NOW + 10_000).toISOString() } }, NOW);
    said();
    expect(matching.size()).toBe(2);
    matching.sweepExpired(NOW + 10_000);
    expect(said()).toEqual(['match.lost s|o']);
    expect(matching.size()).toBe(1);
    expect(matching.facts('o')).toBeUndefined();
    // Events that are not the whole listing change nothing for a listing it forgot.
    expect(matching.apply({ type: 'listing.moved', data: { id: 'o', location: at(200), version: 2 } }, NOW + 20_000).changed).toBe(false);
    const renewed = { ...offer, expiresAt: new Date(NOW + 3_600_000).toISOString(), version: 3 };
    matching.apply({ type: 'listing.updated', data: renewed }, NOW + 30_000);
    expect(said()).toEqual(['match.found s|o']);
    expect(matching.facts('o')).toMatchObject({ version: 3 });
  });

  it('decides only the pairs of the shards it owns: those of the search', () => {
    const shard = partitionOf('s', SHARDS);
    const owner = instance([shard]);
    const other = instance([0, 1, 2, 3, 4, 5].filter((s) => s !== shard));
    for (const { matching } of [owner, other]) {
      matching.apply({ type: 'listing.created', data: search }, NOW);
      matching.apply({ type: 'listing.created', data: offer }, NOW);
    }
    expect(owner.said()).toEqual(['match.found s|o']);
    expect(other.said()).toEqual([]);
  });

  it('reconciles a search with the record: found for what is missing, lost for what is stale', () => {
    const { matching, said } = instance();
    matching.load(search);
    matching.load(offer);
    matching.load(listing({ id: 'o2', kind: 'offer', ownerId: 'carol', location: at(200) }));
    const record = (offerId: string, state: RecordedPair['state']): [string, RecordedPair] => [offerId, {
      searchId: 's', offerId, searchOwnerId: 'alice', offerOwnerId: 'x', distanceM: 1, searchVersion: 1, offerVersion: 1, state,
    }];
    const recorded = new Map([record('o', 'found'), record('o2', 'lost'), record('gone', 'found')]);
    expect(matching.reconcileSearch('s', recorded, NOW)).toBe(2);
    expect(said()).toEqual(['match.found s|o2', 'match.lost s|gone']);
    // A search the index does not hold (closed) loses what was recorded.
    expect(matching.reconcileSearch('closed', new Map([record('o', 'found')]), NOW)).toBe(1);
  });

  it('leaves the pairs the feed decided while it ran to the feed: no duplicates', () => {
    const { matching, said } = instance();
    matching.load(search);
    const tracking = matching.trackDecisions();
    const recorded = new Map(); // read before the offer came
    matching.apply({ type: 'listing.created', data: offer }, NOW);
    expect(said()).toEqual(['match.found s|o']);
    expect(matching.reconcileSearch('s', recorded, NOW, tracking.decided)).toBe(0);
    tracking.stop();
    expect(matching.reconcileSearch('s', recorded, NOW)).toBe(1);
  });
});

describe('matching: instances sharing the shards', () => {
  const workload = randomWorkload({ seed: 11, listings: 80, rounds: 150, perRound: 10 });

  /** A round's events in a random order that keeps each partition's order (what a feed may see). */
  function interleaved(round: ListingEvent[], random: () => number): ListingEvent[] {
    const queues = new Map<number, ListingEvent[]>();
    for (const event of round) {
      const p = partitionOf(event.data.id, SHARDS);
      queues.set(p, [...(queues.get(p) ?? []), event]);
    }
    const out: ListingEvent[] = [];
    while (queues.size > 0) {
      const keys = [...queues.keys()];
      const p = keys[Math.floor(random() * keys.length)]!;
      const queue = queues.get(p)!;
      out.push(queue.shift()!);
      if (queue.length === 0) queues.delete(p);
    }
    return out;
  }

  it('one instance: its decisions end where the match rule does', () => {
    const { matching, decisions } = instance();
    for (const round of workload.rounds) for (const event of round) matching.apply(event, NOW);
    const events = decisions.map((d) => d.event);
    expect(foundAtTheEnd(events)).toEqual(workload.expected(NOW));
    expect(workload.expected(NOW).size).toBeGreaterThan(20); // not vacuous
    // Only changes: a pair's decisions alternate, starting with found.
    const last = new Map<string, MatchEvent['type']>();
    for (const event of events) {
      const pair = pairKey(event.data.searchId, event.data.offerId);
      expect(event.type).not.toBe(last.get(pair) ?? 'match.lost');
      last.set(pair, event.type);
    }
  });

  it('two instances reading the partitions in different orders: each pair decided by one, none missing', () => {
    const a = instance([0, 1, 2]);
    const b = instance([3, 4, 5]);
    const randomA = seededRandom(1);
    const randomB = seededRandom(2);
    for (const round of workload.rounds) {
      for (const event of interleaved(round, randomA)) a.matching.apply(event, NOW);
      for (const event of interleaved(round, randomB)) b.matching.apply(event, NOW);
    }
    const pairsOf = (decisions: MatchDecision[]) => new Set(decisions.map((d) => pairKey(d.event.data.searchId, d.event.data.offerId)));
    const both = [...pairsOf(a.decisions)].filter((pair) => pairsOf(b.decisions).has(pair));
    expect(both).toEqual([]);
    expect(a.decisions.length).toBeGreaterThan(0);
    expect(b.decisions.length).toBeGreaterThan(0);
    expect(foundAtTheEnd([...a.decisions, ...b.decisions].map((d) => d.event))).toEqual(workload.expected(NOW));
  });
});
