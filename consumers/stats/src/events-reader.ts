/**
 * Reads `events` into the minute counts. The counts live in memory, so on every start
 * they are rebuilt: each partition is read from the first message written at or after
 * `now − retention` (Kafka's offsets for times), whatever the group had committed.
 * The group still commits as it goes, so consumer-lag monitoring works as for any group.
 * Run one instance: a second one in the group would get half the partitions (and half the counts).
 */
import { runConsumer, type Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { countedEvent } from './event-dimensions.ts';
import type { MinuteCounts } from './minute-counts.ts';
import type { StatsMetrics } from './stats-metrics.ts';

export interface EventsReaderOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  counts: MinuteCounts;
  metrics: StatsMetrics;
  logger: Logger;
  /** Where the rebuild starts: messages written at or after this time (ms). */
  rebuildFrom: number;
}

export interface EventsReader {
  /** Finishes the batch in hand, commits, leaves the group. */
  stop(): Promise<void>;
}

export async function startEventsReader(options: EventsReaderOptions): Promise<EventsReader> {
  const { kafka, topic, groupId, counts, metrics, logger } = options;
  let newestCounted = 0;
  return runConsumer({
    kafka,
    groupId,
    topics: [topic],
    logger,
    startAt: { timestamp: options.rebuildFrom },
    // A short fetch wait: stop() waits for the fetch in flight.
    maxWaitMs: 1_000,
    eachBatch: async (messages) => {
      for (const message of messages) {
        let value: unknown;
        try {
          value = message.value === null ? null : JSON.parse(message.value.toString('utf8'));
        } catch {
          value = undefined;
        }
        const parsed = value === undefined ? { ok: false as const, reason: 'not JSON' } : countedEvent(value);
        if (!parsed.ok) {
          metrics.events.inc({ result: 'invalid' });
          logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, reason: parsed.reason }, 'event not counted: invalid');
          continue;
        }
        const result = counts.add(parsed.event);
        metrics.events.inc({ result });
        if (result === 'counted' && parsed.event.time > newestCounted) {
          newestCounted = parsed.event.time;
          metrics.lastEventTime.set(newestCounted / 1000);
        }
      }
      metrics.minutes.set(counts.size);
    },
  });
}
