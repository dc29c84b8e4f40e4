import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import { healthPlugin } from '@pushtech/http';
import type { Logger } from '@pushtech/logging';
import { pingRedis, type Redis } from '@pushtech/redis';
import { fastifyTrustProxy, type TrackerConfig } from './config.ts';
import { BATCH_MAX_BYTES } from './event-rules.ts';
import { answerBadUrl, setJsonErrors } from './http-errors.ts';
import { trackRoutes } from './track-routes.ts';
import { createTrackerMetrics } from './tracker-metrics.ts';
import { createTrackerStream } from './tracker-stream.ts';

export interface TrackerDeps {
  config: TrackerConfig;
  redis: Redis;
  logger: Logger;
  registry: Registry;
}

/** The tracker's Fastify app, not listening yet: `index.ts` listens, tests use `inject()`. */
export async function buildApp({ config, redis, logger, registry }: TrackerDeps) {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per rejected event or failure, not two per request on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: fastifyTrustProxy(config.TRUST_PROXY),
    // A HEAD (link checkers, crawlers) must not store an event: no automatic HEAD for the GET beacon.
    exposeHeadRoutes: false,
    bodyLimit: BATCH_MAX_BYTES,
    // Long enough that an over-long event type gets its rule in a 400, not a bare 404.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: answerBadUrl,
  });
  const metrics = createTrackerMetrics(registry);
  setJsonErrors(app, metrics);

  if (config.CORS_ORIGINS.length > 0) {
    await app.register(cors, { origin: config.CORS_ORIGINS, methods: ['GET', 'POST'], credentials: true, maxAge: 600 });
  }
  const stream = createTrackerStream({
    redis,
    url: config.REDIS_URL,
    connectionName: `tracker/${config.TRACKER_ID}/xadd`,
    stream: config.REDIS_STREAM,
    highWaterMark: config.STREAM_HIGH_WATER_MARK,
    metrics,
    logger,
  });
  await app.register(healthPlugin, { checks: { redis: () => pingRedis(redis), stream: () => stream.checkRoom() }, registry });
  app.addHook('onClose', async () => stream.close());
  // Redis down at start: the tracker starts anyway (and answers 503 until it is up).
  if (!(await stream.whenReady(2_000))) logger.warn({ redis: config.REDIS_URL }, 'redis not reachable yet for the XADD connection: starting anyway');
  await app.register(trackRoutes, { stream, metrics, source: `tracker/${config.TRACKER_ID}` });
  return app;
}

export type TrackerApp = Awaited<ReturnType<typeof buildApp>>;
