/** For the tracker's integration tests: a tracker on its own stream of the local Redis, and what that stream holds. */
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '@pushtech/config';
import { STREAM_FIELD, type TrackedEvent } from '@pushtech/contracts';
import { createLogger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import type { RunningService } from '@pushtech/service';
import { stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { tracker } from './app.ts';
import type { TrackerConfig } from './config.ts';
import type { TrackerStream } from './tracker-stream.ts';

export interface TestTracker {
  app: FastifyInstance;
  service: RunningService<TrackerConfig, TrackerStream>;
  stream: string;
  /** Every entry of the stream, parsed. */
  entries(): Promise<TrackedEvent[]>;
  close(): Promise<void>;
}

const silent = createLogger('tracker', 'silent');

/** The test's own client: it waits for Redis (offline queue) where the tracker's answers 503. */
export async function connectTestRedis(url = stackAddresses().redisUrl): Promise<Redis> {
  const redis = createRedis(url, { connectionName: 'tracker-test' });
  redis.on('error', () => {});
  await redis.ping();
  return redis;
}

/**
 * A tracker on a stream of its own, started without listening; `redis` reads the stream. Resolves
 * once `/readyz` says ready (both its Redis connections are up), unless `ready: false`.
 */
export async function startTestTracker(redis: Redis, env: Record<string, string> = {}, options: { ready?: boolean } = {}): Promise<TestTracker> {
  const stream = uniqueName('test:tracker:');
  const config = loadConfig(tracker.configSpec, {
    REDIS_URL: stackAddresses().redisUrl,
    REDIS_STREAM: stream,
    TRACKER_ID: 'test-1',
    ...env,
  });
  const service = await tracker.start({ config, logger: silent, listen: false });
  if (options.ready !== false) {
    await waitFor(async () => ((await service.http.inject('/readyz')).statusCode === 200 ? true : undefined), 'the tracker ready', 10_000, 5);
  }
  return {
    app: service.http,
    service,
    stream,
    async entries() {
      const entries = await redis.xrange(stream, '-', '+');
      return entries.map(([, fields]) => {
        if (fields[0] !== STREAM_FIELD || fields.length !== 2) throw new Error(`unexpected entry fields: ${fields.join(',')}`);
        return JSON.parse(fields[1]!) as TrackedEvent;
      });
    },
    async close() {
      await service.stop();
      if (redis.status === 'ready') await redis.del(stream);
    },
  };
}
