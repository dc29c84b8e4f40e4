import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The mover's series, registered on `registry` (from `createMetricsRegistry`). */
export function createMoverMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'mover_events_total',
      help: 'Records read from the events topic, by outcome (location; other: not a location event; no_user: a location without a userId, skipped; invalid: logged and skipped)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    coalesced: new Counter({ name: 'mover_coalesced_total', help: 'Positions replaced by a newer one of the same user before they were applied (more than one per MIN_INTERVAL_MS)', registers }),
    moves: new Counter({ name: 'mover_moves_total', help: 'listing.moved events written to the listings topic', registers }),
    skipped: new Counter({ name: 'mover_moves_skipped_total', help: 'Following listings not moved because the owner was less than MIN_MOVE_M away from them', registers }),
    flushes: new Counter({ name: 'mover_flushes_total', help: 'Positions applied to a user\'s listings, by outcome (ok; failed: retried)', labelNames: ['outcome'] as const, registers }),
    followingListings: new Gauge({ name: 'mover_following_listings', help: 'Listings that follow their owner held in memory (active, paused or expired)', registers }),
    invalidListingRecords: new Counter({ name: 'mover_invalid_listing_records_total', help: 'Records of the listings topic that are not valid listing events (logged and skipped)', registers }),
    pendingUsers: new Gauge({ name: 'mover_pending_users', help: 'Users with a position waiting for their interval to pass', registers }),
    flushSeconds: new Histogram({
      name: 'mover_flush_seconds',
      help: 'Time to apply one position: find the user\'s following listings, write their moves',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}

export type MoverMetrics = ReturnType<typeof createMoverMetrics>;
