import { days, type TopicSpec } from '@pushtech/kafka';

/**
 * The topics the bridge writes or reads besides `matches`, declared here and
 * created on start (names from REQUESTS_TOPIC and RESPONSE_TOPIC). The specs
 * are the notifier's (services/notifier/src/topics.ts), so whichever starts
 * first creates the same topic.
 */
export const bridgeTopics = {
  /** Push requests to the notifier (DESIGN.md, "Notifier protocol"). Key: the user id. */
  requests: { name: 'notify.requests', partitions: 6, retentionMs: days(7) },
  /** The notifier's responses to the bridge's requests. Key: the request's uuid. */
  responses: { name: 'notify.results.bridge', partitions: 3, retentionMs: days(3) },
} as const satisfies Record<string, TopicSpec>;
