import { loadConfigOrExit } from '@pushtech/config';
import { createMetricsRegistry } from '@pushtech/http';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { buildApp } from './app.ts';
import { trackerConfigSpec } from './config.ts';
import { createTrackerRedis, waitForRedis } from './tracker-stream.ts';

const config = loadConfigOrExit(trackerConfigSpec);
const logger = createLogger('tracker', config.LOG_LEVEL);
const redis = createTrackerRedis(config.REDIS_URL, `tracker/${config.TRACKER_ID}`, logger);
const app = await buildApp({ config, redis, logger, registry: createMetricsRegistry('tracker') });

// Started without Redis, the tracker still listens: /readyz says unready and events get 503 until it is back.
if (!(await waitForRedis(redis, 5_000))) logger.warn({ redis: config.REDIS_URL }, 'redis not reachable yet: starting anyway');
await app.listen({ port: config.PORT, host: config.HOST });
// Closing Fastify first answers the requests in flight (their XADDs need Redis), then Redis goes.
shutdownOnSignals(logger, [() => app.close(), () => redis.quit()]);
