/**
 * The tracker as a @pushtech/service: Redis is its one dependency, connected without waiting
 * (it listens at once and answers 503 until Redis is there); `/readyz` checks Redis and the
 * stream's room. `index.ts` runs it; tests start it with `listen: false` and `inject()`.
 */
import cors from '@fastify/cors';
import type { Logger } from '@pushtech/logging';
import { defineService, type Dependency } from '@pushtech/service';
import { fastifyTrustProxy } from '@pushtech/config';
import { trackerConfigSpec, type TrackerConfig } from './config.ts';
import { BATCH_MAX_BYTES } from './event-rules.ts';
import { trackerErrors } from './http-errors.ts';
import { trackRoutes } from './track-routes.ts';
import { trackerMetrics, type TrackerMetrics } from './tracker-metrics.ts';
import { createTrackerStream, type TrackerStream } from './tracker-stream.ts';

/** Redis, through the tracker's stream: its connections are made without waiting for Redis. */
function redisDependency(config: TrackerConfig, logger: Logger, metrics: TrackerMetrics): Dependency<TrackerStream> {
  return {
    connect: async () => createTrackerStream({
      url: config.REDIS_URL,
      connectionName: `tracker/${config.TRACKER_ID}`,
      stream: config.REDIS_STREAM,
      highWaterMark: config.STREAM_HIGH_WATER_MARK,
      metrics,
      logger,
    }),
    check: (stream) => stream.ping(),
    // After the HTTP server closed: the requests in flight had their XADDs answered.
    close: (stream) => stream.close(),
  };
}

export const tracker = defineService({
  name: 'tracker',
  config: trackerConfigSpec,
  http: (config) => ({
    trustProxy: fastifyTrustProxy(config.TRUST_PROXY),
    // A HEAD (link checkers, crawlers) must not store an event: no automatic HEAD for the GET beacon.
    exposeHeadRoutes: false,
    bodyLimit: BATCH_MAX_BYTES,
    // Long enough that an over-long event type gets its rule in a 400, not a bare 404.
    routerOptions: { maxParamLength: 256 },
  }),
  errors: ({ registry }) => trackerErrors(trackerMetrics(registry)),
  dependencies: ({ config, logger, registry }) => ({ redis: redisDependency(config, logger, trackerMetrics(registry)) }),
  start: (_ctx, { redis }) => redis,
  checks: (_ctx, running) => ({ stream: () => running().checkRoom() }),
  async routes(http, { config, registry }, running) {
    if (config.CORS_ORIGINS.length > 0) {
      // A cross-origin page reads Retry-After (the SDK waits that long) and X-Event-Id only when they are exposed.
      await http.register(cors, { origin: config.CORS_ORIGINS, methods: ['GET', 'POST'], credentials: true, maxAge: 600, exposedHeaders: ['Retry-After', 'X-Event-Id'] });
    }
    await http.register(trackRoutes, { stream: running, metrics: trackerMetrics(registry), source: `tracker/${config.TRACKER_ID}` });
  },
});
