/**
 * The index feed: the listing feed (@pushtech/listing-log) applying each event
 * to this instance's index. The decisions of owned shards go to the emitter; a
 * batch counts as done once they are on Kafka.
 */
import { performance } from 'node:perf_hooks';
import type { Kafka } from '@pushtech/kafka';
import { startListingFeed, type ListingFeed, type Offsets } from '@pushtech/listing-log';
import type { Logger } from '@pushtech/logging';
import type { MatchEmitter } from './match-emitter.ts';
import type { Matching } from './matching.ts';
import type { MatcherMetrics } from './metrics.ts';

export type IndexFeed = ListingFeed;

export function startIndexFeed(options: {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Next offset to apply, by partition. */
  start: Offsets;
  matching: Matching;
  emitter: MatchEmitter;
  logger: Logger;
  metrics: MatcherMetrics;
}): Promise<IndexFeed> {
  const { matching, emitter, metrics } = options;
  return startListingFeed({
    ...options,
    apply(event) {
      const started = performance.now();
      const outcome = matching.apply(event, Date.now());
      metrics.rematchSeconds.observe((performance.now() - started) / 1000);
      metrics.events.inc({ outcome: outcome.changed ? 'applied' : 'ignored' });
    },
    onInvalid: () => metrics.events.inc({ outcome: 'invalid' }),
    afterBatch: () => emitter.flush(),
    onProgress(lag) {
      metrics.feedLag.set(lag);
      metrics.listingsHeld.set(matching.size());
    },
  });
}
