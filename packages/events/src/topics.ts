import type { TopicSpec } from '@pushtech/kafka';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every Kafka topic of the system, declared once; services create the ones they use on start. */
export const topics = {
  /** Tracked events, enriched by the kafkastore. Key: user id, else anonymous id, else event id. */
  events: { name: 'events', partitions: 6, retentionMs: 7 * DAY_MS },
  /** Stream entries the kafkastore could not parse, with the reason. */
  eventsDlq: { name: 'events.dlq', partitions: 1, retentionMs: 14 * DAY_MS },
  /** The log of record for listings (kept forever: the projections are rebuilt from it). Key: listing id. */
  listings: { name: 'listings', partitions: 6, retentionMs: -1 },
  /** match.found / match.lost, written by the matcher. Key: the pair. Kept forever like listings. */
  matches: { name: 'matches', partitions: 6, retentionMs: -1 },
} as const satisfies Record<string, TopicSpec>;
