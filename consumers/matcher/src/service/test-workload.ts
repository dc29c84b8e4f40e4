/**
 * For tests: a random but reproducible life of a few dozen listings in a small
 * area (creations, moves, pauses, resumes, edits, closes), and what the match
 * rule says about its end, by brute force.
 */
import { pairKey, type MatchEvent } from '@pushtech/contracts';
import { destination, type Listing, type ListingEvent } from '@pushtech/listings';
import { createBruteForce } from '@pushtech/geo-index';
import { seededRandom } from '@pushtech/random';
import { CENTRE, listing } from './test-matcher.ts';

const TERMS = ['bike', 'lamp', 'desk'];

export interface Workload {
  /** Rounds of events; a listing has at most one event per round, so a round's events may be written concurrently. */
  rounds: ListingEvent[][];
  /** The found pairs at the end (`searchId|offerId`). */
  expected(now: number): Set<string>;
}

export function randomWorkload(options: { seed: number; listings: number; rounds: number; perRound: number; prefix?: string }): Workload {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const prefix = options.prefix ?? 'l';
  const current = new Map<string, Listing>();
  const brute = createBruteForce();
  const rounds: ListingEvent[][] = [];

  const created: ListingEvent[] = [];
  for (let i = 0; i < options.listings; i++) {
    const kind = i % 2 === 0 ? 'search' : 'offer';
    const title = kind === 'search' ? pick(TERMS) : random() < 0.5 ? pick(TERMS) : `${pick(TERMS)} ${pick(TERMS)}`;
    const l = listing({
      id: `${prefix}${i}`,
      kind,
      ownerId: `owner${Math.floor(random() * 8)}`,
      title,
      location: destination(CENTRE, random() * 1_500, random() * 2 * Math.PI),
      radiusM: 300 + Math.round(random() * 1_200),
    });
    current.set(l.id, l);
    created.push({ type: 'listing.created', data: l });
  }
  rounds.push(created);

  for (let r = 0; r < options.rounds; r++) {
    const round: ListingEvent[] = [];
    const touched = new Set<string>();
    for (let k = 0; k < options.perRound && current.size > 0; k++) {
      const l = pick([...current.values()]);
      if (touched.has(l.id)) continue;
      touched.add(l.id);
      const version = l.version + 1;
      const x = random();
      let event: ListingEvent;
      if (x < 0.6) {
        const location = destination(CENTRE, random() * 1_500, random() * 2 * Math.PI); // a jump: the area stays dense
        current.set(l.id, { ...l, location, version });
        event = { type: 'listing.moved', data: { id: l.id, location, version } };
      } else if (x < 0.7) {
        current.set(l.id, { ...l, status: 'paused', version });
        event = { type: 'listing.paused', data: { id: l.id, version } };
      } else if (x < 0.8) {
        current.set(l.id, { ...l, status: 'active', version });
        event = { type: 'listing.resumed', data: { id: l.id, version } };
      } else if (x < 0.98) {
        const next = { ...l, title: l.kind === 'search' ? pick(TERMS) : `${pick(TERMS)} ${pick(TERMS)}`, radiusM: 300 + Math.round(random() * 1_200), version };
        current.set(l.id, next);
        event = { type: 'listing.updated', data: next };
      } else {
        current.delete(l.id);
        event = { type: 'listing.closed', data: { id: l.id, version } };
      }
      round.push(event);
    }
    rounds.push(round);
  }
  for (const round of rounds) for (const event of round) brute.apply(event);

  return {
    rounds,
    expected(now) {
      const found = new Set<string>();
      for (const l of current.values()) {
        if (l.kind !== 'search') continue;
        for (const match of brute.matchesFor(l.id, now)) found.add(pairKey(l.id, match.id));
      }
      return found;
    },
  };
}

/** The pairs whose last decision is match.found, folding the decisions in the order given (per pair). */
export function foundAtTheEnd(events: MatchEvent[]): Set<string> {
  const last = new Map<string, MatchEvent['type']>();
  for (const event of events) last.set(pairKey(event.data.searchId, event.data.offerId), event.type);
  return new Set([...last].filter(([, type]) => type === 'match.found').map(([pair]) => pair));
}
