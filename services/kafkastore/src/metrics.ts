import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface KafkastoreMetrics {
  eventsIn: Counter;
  eventsOut: Counter;
  dlq: Counter;
  duplicates: Counter;
  claimed: Counter;
  produceFailures: Counter;
  batchSize: Histogram;
  enrichSeconds: Histogram;
  produceSeconds: Histogram;
  streamLength: Gauge;
  streamPending: Gauge;
}

/** The kafkastore's series, registered on `registry` (from `createMetricsRegistry`). */
export function createKafkastoreMetrics(registry: Registry): KafkastoreMetrics {
  const registers = [registry];
  return {
    eventsIn: new Counter({ name: 'kafkastore_events_in_total', help: 'Stream entries read from the tracker stream (re-deliveries included)', registers }),
    eventsOut: new Counter({ name: 'kafkastore_events_out_total', help: 'Enriched events acknowledged by Kafka on the events topic', registers }),
    dlq: new Counter({ name: 'kafkastore_dlq_total', help: 'Stream entries that could not be parsed, sent to the DLQ topic', registers }),
    duplicates: new Counter({ name: 'kafkastore_duplicates_total', help: 'Stream entries skipped because an event with their id was produced recently (a client sent it again)', registers }),
    claimed: new Counter({ name: 'kafkastore_claimed_total', help: 'Pending entries taken over from idle consumers (XAUTOCLAIM)', registers }),
    produceFailures: new Counter({ name: 'kafkastore_produce_failures_total', help: 'Failed attempts to produce a batch to Kafka (each is retried)', registers }),
    batchSize: new Histogram({
      name: 'kafkastore_batch_size', help: 'Entries per batch read from the stream',
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000], registers,
    }),
    enrichSeconds: new Histogram({
      name: 'kafkastore_enrich_seconds', help: 'Time to parse and enrich one batch',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers,
    }),
    produceSeconds: new Histogram({
      name: 'kafkastore_produce_seconds', help: 'Time for Kafka to acknowledge one batch (successful attempts)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
    }),
    streamLength: new Gauge({ name: 'kafkastore_stream_length', help: 'Entries in the tracker stream (XLEN), refreshed periodically', registers }),
    streamPending: new Gauge({ name: 'kafkastore_stream_pending', help: 'Entries delivered to the consumer group but not acknowledged yet, refreshed periodically', registers }),
  };
}
