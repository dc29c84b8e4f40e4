/** For the tracker's integration tests: an app on its own stream of the local Redis, and what that stream holds. */
import { loadConfig } from '@pushtech/config';
import { STREAM_FIELD, type TrackedEvent } from '@pushtech/contracts';
import { createMetricsRegistry } from '@pushtech/http';
import { createLogger } from '@pushtech/logging';
import type { Redis } from '@pushtech/redis';
import { stackAddresses, uniqueName } from '@pushtech/testing';
import { buildApp, type TrackerApp } from './app.ts';
import { trackerConfigSpec } from './config.ts';
import { createTrackerRedis, waitForRedis } from './tracker-stream.ts';

export interface TestTracker {
  app: TrackerApp;
  stream: string;
  /** Every entry of the stream, parsed. */
  entries(): Promise<TrackedEvent[]>;
  close(): Promise<void>;
}

const silent = createLogger('tracker', 'silent');

export async function connectTestRedis(url = stackAddresses().redisUrl): Promise<Redis> {
  const redis = createTrackerRedis(url, 'tracker-test', silent);
  if (!(await waitForRedis(redis, 10_000))) throw new Error(`redis at ${url} not reachable`);
  return redis;
}

export async function startTestTracker(redis: Redis, env: Record<string, string> = {}): Promise<TestTracker> {
  const stream = uniqueName('test:tracker:');
  const config = loadConfig(trackerConfigSpec, {
    REDIS_URL: stackAddresses().redisUrl,
    REDIS_STREAM: stream,
    TRACKER_ID: 'test-1',
    ...env,
  });
  const app = await buildApp({ config, redis, logger: silent, registry: createMetricsRegistry('tracker') });
  return {
    app,
    stream,
    async entries() {
      const entries = await redis.xrange(stream, '-', '+');
      return entries.map(([, fields]) => {
        if (fields[0] !== STREAM_FIELD || fields.length !== 2) throw new Error(`unexpected entry fields: ${fields.join(',')}`);
        return JSON.parse(fields[1]!) as TrackedEvent;
      });
    },
    async close() {
      await app.close();
      if (redis.status === 'ready') await redis.del(stream);
    },
  };
}

