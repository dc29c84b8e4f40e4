import { STREAM_FIELD, type TrackedEvent } from '@pushtech/contracts';
import type { Logger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import type { TrackerMetrics } from './tracker-metrics.ts';
import { connectXadd } from './xadd-connection.ts';

/** A request whose Redis command has no answer by then is answered 503. */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** How long an XLEN answer is trusted: the high-water check costs one XLEN per this period, not one per request. */
export const STREAM_LENGTH_TTL_MS = 200;

export class StreamFullError extends Error {
  readonly code = 'TRACKER_STREAM_FULL';
  readonly length: number;
  constructor(length: number, highWaterMark: number) {
    super(`the stream holds ${length} entries, at or over its high-water mark of ${highWaterMark}`);
    this.name = 'StreamFullError';
    this.length = length;
  }
}

export class StreamUnavailableError extends Error {
  readonly code = 'TRACKER_STREAM_UNAVAILABLE';
  constructor(cause: unknown) {
    super(`redis did not take the entries: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StreamUnavailableError';
  }
}

/**
 * The Redis client of a tracker: while Redis is down a command fails at once
 * (no offline queue), and one that gets no answer fails after 1 s, so a request
 * is answered 503 instead of waiting for a reconnect. Without the offline queue
 * an XADD queued while disconnected cannot be written after we answered 503.
 */
function createTrackerRedis(url: string, connectionName: string, logger: Logger): Redis {
  const redis = createRedis(url, {
    connectionName,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Commands of concurrent requests go out in one socket write instead of one write each.
    enableAutoPipelining: true,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'redis unreachable: answering 503 until it is back');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis reachable again');
    down = false;
  });
  return redis;
}

export interface TrackerStreamOptions {
  /** Redis's URL. */
  url: string;
  /** The connections' names in Redis's CLIENT LIST: this, and `<this>/xadd` for the single-event XADDs (xadd-connection.ts). */
  connectionName: string;
  stream: string;
  highWaterMark: number;
  metrics: TrackerMetrics;
  logger: Logger;
}

export interface TrackerStream {
  /**
   * Resolves once Redis holds every event: one XADD (the single events of one
   * turn of the event loop share one write: xadd-connection.ts), or one MULTI
   * of XADDs (all or none). Throws `StreamFullError` when the stream is over
   * its high-water mark and `StreamUnavailableError` when Redis fails.
   */
  append(events: readonly TrackedEvent[]): Promise<void>;
  /**
   * The readiness check: throws `StreamFullError` when the stream is over its
   * high-water mark (read now, not from the cache), and Redis's refusal when
   * Redis would refuse an XADD (full: `maxmemory` reached with `noeviction`).
   * A tracker that cannot store leaves the load balancer's rotation, so its
   * traffic goes to trackers that can; it comes back once its kafkastore drained it.
   */
  checkRoom(): Promise<void>;
  /** The readiness check of Redis: throws unless Redis answers `PING` and the connection of the single-event XADDs is up. */
  ping(): Promise<void>;
  /** Closes both connections. */
  close(): Promise<void>;
}

/**
 * Opens the tracker's two connections to Redis without waiting for Redis: while it is away,
 * appends fail at once (503) and both connections keep trying.
 */
export function createTrackerStream({ url, connectionName, stream, highWaterMark, metrics, logger }: TrackerStreamOptions): TrackerStream {
  const redis = createTrackerRedis(url, connectionName, logger);
  let length = 0;
  let lengthReadAt = -Infinity;
  let lengthRead: Promise<void> | undefined;
  let full = false;

  // One XLEN in flight at a time, shared by every request that finds the last answer too old.
  function readLength(): Promise<void> {
    lengthRead ??= redis.xlen(stream).then((n) => {
      length = n;
      lengthReadAt = performance.now();
      metrics.streamLength.set(n);
    }).finally(() => {
      lengthRead = undefined;
    });
    return lengthRead;
  }

  async function ensureRoom(maxAgeMs = STREAM_LENGTH_TTL_MS): Promise<void> {
    if (performance.now() - lengthReadAt > maxAgeMs) {
      try {
        await readLength();
      } catch (err) {
        throw new StreamUnavailableError(err);
      }
    }
    const nowFull = length >= highWaterMark;
    if (nowFull !== full) {
      full = nowFull;
      if (full) logger.warn({ stream, length, highWaterMark }, 'stream over its high-water mark: answering 503');
      else logger.info({ stream, length, highWaterMark }, 'stream below its high-water mark again');
    }
    if (full) throw new StreamFullError(length, highWaterMark);
  }

  const single = connectXadd({
    url, name: `${connectionName}/xadd`, stream, field: STREAM_FIELD, timeoutMs: REDIS_COMMAND_TIMEOUT_MS, logger,
    onFlush: (_entries, seconds) => metrics.xaddSeconds.observe(seconds),
  });

  async function write(entries: string[]): Promise<void> {
    if (entries.length === 1) return single.xadd(entries[0]!);
    const endTimer = metrics.xaddSeconds.startTimer();
    try {
      const results = await redis.multi(entries.map((entry) => ['xadd', stream, '*', STREAM_FIELD, entry])).exec();
      const failed = results === null ? new Error('transaction aborted') : results.find(([err]) => err)?.[0];
      if (failed) throw failed;
    } finally {
      endTimer();
    }
  }

  return {
    async append(events) {
      await ensureRoom();
      const entries = events.map((event) => JSON.stringify(event));
      try {
        await write(entries);
      } catch (err) {
        throw new StreamUnavailableError(err);
      }
      length += entries.length;
    },
    async checkRoom() {
      await ensureRoom(0);
      // Redis checks memory before it runs any command that may grow it, XADD included; with
      // NOMKSTREAM on a key that does not exist, this one then does nothing.
      await redis.xadd(`${stream}:room-probe`, 'NOMKSTREAM', '*', STREAM_FIELD, '');
    },
    async ping() {
      await redis.ping();
      if (!single.ready) throw new Error('the connection of the single-event XADDs is not up yet');
    },
    async close() {
      single.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
