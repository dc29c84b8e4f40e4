import { eventsDlqTopic } from './topics/events-dlq.ts';
import { eventsTopic } from './topics/events.ts';
import { listingsTopic } from './topics/listings.ts';
import { matchesTopic } from './topics/matches.ts';
import { notifyRequestsTopic } from './topics/notify-requests.ts';
import { notifyResultsTopic } from './topics/notify-results.ts';
import type { TopicContract } from './topic.ts';
import { usersTopic } from './topics/users.ts';

/** Every topic of the system, by the name the code calls it. */
export const contracts = {
  events: eventsTopic,
  eventsDlq: eventsDlqTopic,
  listings: listingsTopic,
  matches: matchesTopic,
  users: usersTopic,
  notifyRequests: notifyRequestsTopic,
  notifyResults: notifyResultsTopic,
} as const satisfies Record<string, TopicContract>;

/**
 * Every topic's spec (default name, partitions, retention), for `ensureTopics`
 * and config defaults: `{ ...topics.listings, name: settings.LISTINGS_TOPIC }`.
 */
export const topics = {
  events: eventsTopic.spec,
  eventsDlq: eventsDlqTopic.spec,
  listings: listingsTopic.spec,
  matches: matchesTopic.spec,
  users: usersTopic.spec,
  notifyRequests: notifyRequestsTopic.spec,
  notifyResults: notifyResultsTopic.spec,
} as const;
