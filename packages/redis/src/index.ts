import { backoffDelay } from '@pushtech/backoff';
import { Redis } from 'ioredis';

export { Redis };

export interface RedisOptions {
  /** Shown in CLIENT LIST, so an operator can tell which service a connection belongs to. */
  connectionName: string;
  /**
   * Fail a command after this many reconnect attempts instead of waiting forever:
   * a request handler must be able to answer 503 while Redis is down.
   */
  maxRetriesPerRequest?: number | null;
  /** false: a command sent while disconnected fails at once instead of waiting for the reconnect. */
  enableOfflineQueue?: boolean;
  /** A command without an answer after this many ms fails. */
  commandTimeout?: number;
  /** Commands issued in the same tick go out in one socket write. */
  enableAutoPipelining?: boolean;
}

const RECONNECT = { initialMs: 100, maxMs: 2_000 };

export function createRedis(url: string, options: RedisOptions): Redis {
  return new Redis(url, {
    connectionName: options.connectionName,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 1 : options.maxRetriesPerRequest,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    enableAutoPipelining: options.enableAutoPipelining ?? false,
    ...(options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout }),
    // ioredis asks how long to wait before reconnecting, after `attempt` failures in a row.
    retryStrategy: (attempt) => backoffDelay(RECONNECT, attempt),
  });
}

export async function pingRedis(redis: Redis): Promise<void> {
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer: ${answer}`);
}
