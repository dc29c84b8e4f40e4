import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The matcher's series, registered on `registry` (from `createMetricsRegistry`). */
export function createMatcherMetrics(registry: Registry) {
  const registers = [registry];
  return {
    listingsHeld: new Gauge({ name: 'matcher_listings_held', help: 'Listings in the in-memory index (active or paused)', registers }),
    listingsLoaded: new Counter({ name: 'matcher_listings_loaded_total', help: 'Listings loaded from the Mongo projection at start', registers }),
    events: new Counter({
      name: 'matcher_listing_events_total',
      help: 'Listing events the index feed read, by outcome (applied; ignored: not newer than the listing held, or about a listing never created; invalid: logged and skipped)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    decisions: new Counter({
      name: 'matcher_matches_total',
      help: 'Match events written to the matches topic, by type (found, lost) and cause (event, expiry, reconcile)',
      labelNames: ['type', 'cause'] as const,
      registers,
    }),
    sendFailures: new Counter({ name: 'matcher_send_failures_total', help: 'Failed attempts to write match events (each is retried)', registers }),
    feedLag: new Gauge({ name: 'matcher_feed_lag_records', help: 'Listing events on Kafka the index has not applied yet (all partitions), as of the last batch', registers }),
    ownedShards: new Gauge({ name: 'matcher_owned_shards', help: 'Partitions of the listings topic assigned to this instance in the matcher group: the shards whose pairs it decides', registers }),
    rematchSeconds: new Histogram({
      name: 'matcher_rematch_seconds',
      help: 'Time to apply one listing event and re-match its listing (matches before, evolve, matches after)',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    }),
    reconcileSeconds: new Histogram({
      name: 'matcher_reconcile_seconds',
      help: 'Time to reconcile the owned shards with the matches projection after an assignment',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
  };
}

export type MatcherMetrics = ReturnType<typeof createMatcherMetrics>;
