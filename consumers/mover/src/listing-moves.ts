/**
 * Moves a user's following listings to a position: the ones held in memory
 * (following-listings.ts), and for each one at least MIN_MOVE_M away from its
 * location appends `listing.moved` to `listings`, with version = the listing's
 * version + 1 (`listingsTopic` of @pushtech/contracts, source "mover").
 *
 * The feed reads this process's moves back a moment after they are written:
 * until then the moves written here are remembered, and their location and
 * version count as the listing's. A move that loses against a concurrent edit
 * of the same version is ignored by every consumer (storage's optimistic
 * concurrency); the next position moves the listing again.
 */
import { listingsTopic } from '@pushtech/contracts';
import type { Producer } from '@pushtech/kafka';
import { haversineM, type Point } from '@pushtech/listings';
import type { FollowingListings } from './following-listings.ts';
import type { MoverMetrics } from './metrics.ts';

/** How long a move written here is remembered when the log does not show it (a lost conflict, a gone listing). */
const REMEMBER_MS = 5 * 60_000;

export interface ListingMover {
  /** Moves `userId`'s following listings to `location`; resolves once the moves are on Kafka. Returns how many moved. */
  move(userId: string, location: Point): Promise<number>;
}

export function createListingMover(options: { following: FollowingListings; producer: Producer; topic: string; minMoveM: number; metrics: MoverMetrics }): ListingMover {
  const { following, producer, topic, minMoveM, metrics } = options;
  const written = new Map<string, { location: Point; version: number; at: number }>();
  let pruned = Date.now();

  function prune(now: number): void {
    if (now - pruned < REMEMBER_MS) return;
    pruned = now;
    for (const [id, move] of written) if (now - move.at > REMEMBER_MS) written.delete(id);
  }

  return {
    async move(userId, location) {
      const now = Date.now();
      prune(now);
      const records = [];
      const moves: [string, { location: Point; version: number; at: number }][] = [];
      for (const listing of following.activeOf(userId, now)) {
        let { location: from, version } = listing;
        const mine = written.get(listing.id);
        if (mine !== undefined && mine.version > version) ({ location: from, version } = mine);
        else written.delete(listing.id);
        if (haversineM(from, location) < minMoveM) {
          metrics.skipped.inc();
          continue;
        }
        const move = { id: listing.id, location, version: version + 1 };
        records.push(listingsTopic.encode({ type: 'listing.moved', data: move }, { source: 'mover' }));
        moves.push([listing.id, { location, version: move.version, at: now }]);
      }
      await producer.send(topic, records);
      for (const [id, move] of moves) written.set(id, move);
      metrics.moves.inc(records.length);
      return records.length;
    },
  };
}
