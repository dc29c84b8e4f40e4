import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createStorageMetrics(registry: Registry) {
  const registers = [registry];
  return {
    commands: new Counter({
      name: 'storage_commands_total',
      help: 'Commands by type (createListing, changeListing, closeListing, registerDevice, removeDevice) and outcome (applied, unchanged, accepted: answered 202, conflict, rejected, forbidden, not_found, failed).',
      labelNames: ['command', 'outcome'] as const,
      registers,
    }),
    projectedEvents: new Counter({
      name: 'storage_projection_events_total',
      help: 'Records the projector handled, by topic (listings, matches, users) and outcome (applied, ignored: duplicate or old version, invalid: logged and skipped).',
      labelNames: ['topic', 'outcome'] as const,
      registers,
    }),
    lastAppliedTimestamp: new Gauge({
      name: 'storage_projection_last_applied_timestamp_seconds',
      help: 'When the projector last finished a batch of the topic (epoch seconds).',
      labelNames: ['topic'] as const,
      registers,
    }),
    lagSeconds: new Gauge({
      name: 'storage_projection_lag_seconds',
      help: 'Age of the newest record of the last batch when the projector finished it (now - Kafka timestamp).',
      labelNames: ['topic'] as const,
      registers,
    }),
    readYourWritesSeconds: new Histogram({
      name: 'storage_read_your_writes_wait_seconds',
      help: 'Time a write waited for the projection, by outcome (applied, conflict, timeout).',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}

export type StorageMetrics = ReturnType<typeof createStorageMetrics>;
