import { days, type TopicSpec } from '@pushtech/kafka';

/** The notifier's topics, declared here and created on start (name of `requests` from `REQUESTS_TOPIC`). */
export const notifierTopics = {
  /** Requests to the notifier (DESIGN.md, "Notifier protocol"). Any key; 6 partitions, 7 days. */
  requests: { name: 'notify.requests', partitions: 6, retentionMs: days(7) },
} as const satisfies Record<string, TopicSpec>;

/**
 * A producer's response topic (`responseTopic` of its requests), created on the
 * first response if its producer did not declare it: 3 partitions, 3 days.
 * Records are keyed by the request's uuid.
 */
export function responseTopicSpec(name: string): TopicSpec {
  return { name, partitions: 3, retentionMs: days(3) };
}
