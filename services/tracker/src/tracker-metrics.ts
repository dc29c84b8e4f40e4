import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { perRegistry } from '@pushtech/http';

function createTrackerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    eventsAccepted: new Counter({
      name: 'tracker_events_accepted_total',
      help: 'Events written to the Redis stream, by form (beacon, json, batch).',
      labelNames: ['form'] as const,
      registers,
    }),
    eventsRejected: new Counter({
      name: 'tracker_events_rejected_total',
      help: 'Events refused with a 4xx, by reason (the first rule broken; a body that could not be read counts once).',
      labelNames: ['reason'] as const,
      registers,
    }),
    unavailable: new Counter({
      name: 'tracker_unavailable_total',
      help: '503 answers, by reason (stream_full, redis_unavailable).',
      labelNames: ['reason'] as const,
      registers,
    }),
    xaddSeconds: new Histogram({
      name: 'tracker_xadd_duration_seconds',
      help: 'Time for Redis to take a write: the single events of one event-loop turn (one pipeline of XADDs), or a batch request (one MULTI of XADDs).',
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    streamLength: new Gauge({
      name: 'tracker_stream_length',
      help: 'Entries in the Redis stream at the last XLEN (read at most every 200 ms).',
      registers,
    }),
  };
}

export type TrackerMetrics = ReturnType<typeof createTrackerMetrics>;

/** The tracker's series on `registry`, made on first use: its errors, its Redis dependency and its routes share them. */
export const trackerMetrics = perRegistry(createTrackerMetrics);
