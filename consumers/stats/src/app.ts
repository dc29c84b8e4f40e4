import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { topics } from '@pushtech/contracts';
import { createMetricsRegistry, healthPlugin } from '@pushtech/http';
import { createKafka, ensureTopics } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { StatsConfig } from './config.ts';
import { startEventsReader, type EventsReader } from './events-reader.ts';
import { createMinuteCounts, MINUTE_MS, type MinuteCounts } from './minute-counts.ts';
import { createStatsMetrics } from './stats-metrics.ts';
import { statsRoutes } from './stats-routes.ts';

export interface StatsApp {
  http: FastifyInstance;
  url: string;
  counts: MinuteCounts;
  /** Resolves once reading has started (Kafka reached, topic there, group joined). */
  reading: Promise<void>;
  close(): Promise<void>;
}

/**
 * Wiring: the HTTP server first (so /readyz can say Kafka is missing), then the
 * reader — retried with back-off until Kafka answers — then a minute timer that
 * forgets minutes leaving the window.
 */
export async function startApp(config: StatsConfig, logger: Logger, tuning: { now?: () => number } = {}): Promise<StatsApp> {
  const now = tuning.now ?? Date.now;
  const retentionMs = config.RETENTION_HOURS * 3_600_000;
  const registry = createMetricsRegistry('stats');
  const metrics = createStatsMetrics(registry);
  const counts = createMinuteCounts({ retentionMs, now });
  const kafka = createKafka({ clientId: 'stats', brokers: config.KAFKA_BROKERS, logger, retries: 2 });
  const admin = kafka.admin();
  let reader: EventsReader | undefined;
  let readerError: string | undefined = 'not started yet';
  const closing = new AbortController();

  const http = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  await http.register(healthPlugin, {
    registry,
    checks: {
      kafka: async () => {
        if (readerError !== undefined) throw new Error(readerError);
        await admin.connect();
        await admin.describeCluster();
      },
    },
  });
  await http.register(statsRoutes, { counts, retentionHours: config.RETENTION_HOURS });
  const url = await http.listen({ host: config.HOST, port: config.PORT });
  logger.info({ url }, 'listening');

  const pruner = setInterval(() => {
    counts.prune();
    metrics.minutes.set(counts.size);
  }, MINUTE_MS);

  const reading = (async () => {
    for (let delay = 500; !closing.signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      try {
        await ensureTopics(kafka, [{ ...topics.events, name: config.EVENTS_TOPIC }]);
        reader = await startEventsReader({
          kafka, topic: config.EVENTS_TOPIC, groupId: config.CONSUMER_GROUP, counts, metrics, logger, rebuildFrom: now() - retentionMs,
        });
        readerError = undefined;
        return;
      } catch (err) {
        readerError = err instanceof Error ? err.message : String(err);
        logger.warn({ err: readerError, retryInMs: delay }, 'kafka: starting the reader failed');
        await sleep(delay, undefined, { signal: closing.signal }).catch(() => {});
      }
    }
  })();

  let closed: Promise<void> | undefined;
  return {
    http,
    url,
    counts,
    reading,
    close() {
      closed ??= (async () => {
        closing.abort();
        clearInterval(pruner);
        await reading;
        await reader?.stop();
        await http.close();
        await admin.disconnect();
      })();
      return closed;
    },
  };
}
