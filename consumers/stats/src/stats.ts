/**
 * Wiring: stats as a service. Kafka is its dependency (the events topic made), connected with
 * the runtime's back-off while it already listens; once it is there the reader rebuilds the
 * window and counts on, and a minute timer forgets the minutes that leave the window. Until the
 * reader runs, `/stats` answers 503 `unavailable`. `index.ts` runs it; the tests start the same.
 */
import { topics } from '@pushtech/contracts';
import { createKafka, ensureTopics, pingKafka } from '@pushtech/kafka';
import { defineService, type Dependencies, type ServiceContext } from '@pushtech/service';
import { statsConfigSpec, type StatsConfig } from './config.ts';
import { startEventsReader, type EventsReader, type EventsReaderOptions } from './events-reader.ts';
import { createMinuteCounts, MINUTE_MS, type MinuteCounts } from './minute-counts.ts';
import { createStatsMetrics } from './stats-metrics.ts';
import { statsRoutes } from './stats-routes.ts';

/** Kafka, the events topic made: starts the reader; a probe for /readyz. */
export interface StatsKafka {
  startReader(options: Pick<EventsReaderOptions, 'counts' | 'metrics' | 'rebuildFrom'>): Promise<EventsReader>;
  ping(): Promise<unknown>;
  close(): Promise<void>;
}

export type StatsDependencies = { kafka: StatsKafka };

export interface RunningStats {
  counts: MinuteCounts;
  reader: EventsReader;
  pruner: NodeJS.Timeout;
}

async function connectKafka({ config, logger }: ServiceContext<StatsConfig>): Promise<StatsKafka> {
  const kafka = createKafka({ clientId: 'stats', brokers: config.KAFKA_BROKERS, logger, retries: 2 });
  await ensureTopics(kafka, [{ ...topics.events, name: config.EVENTS_TOPIC }]);
  const admin = kafka.admin();
  await admin.connect();
  return {
    startReader: (options) => startEventsReader({ ...options, kafka, topic: config.EVENTS_TOPIC, groupId: config.CONSUMER_GROUP, logger }),
    ping: () => pingKafka(admin),
    close: () => admin.disconnect(),
  };
}

const statsDependencies = (ctx: ServiceContext<StatsConfig>): Dependencies<StatsDependencies> => ({
  kafka: { connect: () => connectKafka(ctx), check: (kafka) => kafka.ping(), close: (kafka) => kafka.close() },
});

/** `dependencies`: stand-ins for Kafka (unit tests, without servers). */
export function statsService(options: { dependencies?: typeof statsDependencies } = {}) {
  return defineService({
    name: 'stats',
    config: statsConfigSpec,
    dependencies: options.dependencies ?? statsDependencies,
    async start({ config, registry }, { kafka }): Promise<RunningStats> {
      const retentionMs = config.RETENTION_HOURS * 3_600_000;
      const metrics = createStatsMetrics(registry);
      const counts = createMinuteCounts({ retentionMs });
      const reader = await kafka.startReader({ counts, metrics, rebuildFrom: Date.now() - retentionMs });
      const pruner = setInterval(() => {
        counts.prune();
        metrics.minutes.set(counts.size);
      }, MINUTE_MS);
      return { counts, reader, pruner };
    },
    routes: (http, { config }, running) => statsRoutes(http, { counts: () => running().counts, retentionHours: config.RETENTION_HOURS }),
    // HTTP is closed first; then the reader finishes its batch, commits and leaves the group; Kafka closes after.
    async stop({ reader, pruner }) {
      clearInterval(pruner);
      await reader.stop();
    },
  });
}

export const stats = statsService();
