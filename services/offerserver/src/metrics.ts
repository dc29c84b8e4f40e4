import { Counter, Histogram, type Registry } from 'prom-client';

export function createOfferserverMetrics(registry: Registry) {
  const registers = [registry];
  return {
    fetches: new Counter({
      name: 'offerserver_fetches_total',
      help: 'Source fetches by source kind (feed, lemmy, json) and outcome (ok, not_modified, http_error, gone, rate_limited, network, timeout, too_large, too_many_redirects, refused_address, bad_url, robots_disallowed, robots_unavailable, parse_error, deferred: host busy, not fetched).',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    items: new Counter({
      name: 'offerserver_items_total',
      help: 'Items by source kind and outcome (created, updated, unchanged, closed, skipped_no_title, skipped_no_location).',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    fetchSeconds: new Histogram({
      name: 'offerserver_fetch_seconds',
      help: 'Time from claim to finished import of one source, by kind.',
      labelNames: ['kind'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    dueCheckSeconds: new Histogram({
      name: 'offerserver_due_check_seconds',
      help: 'Time of one due check (the query for due sources).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
  };
}

export type OfferserverMetrics = ReturnType<typeof createOfferserverMetrics>;
