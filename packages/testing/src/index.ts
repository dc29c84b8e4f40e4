import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** Addresses of the local stack (scripts/stack.sh), or of the servers the environment names. */
export function stackAddresses(env: NodeJS.ProcessEnv = process.env) {
  const kafkaBrokers = (env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:16379';
  const mongoUrl = env.MONGO_URL ?? 'mongodb://127.0.0.1:27117';
  const redis = new URL(redisUrl);
  const mongo = new URL(mongoUrl);
  return {
    kafkaBrokers,
    redisUrl,
    mongoUrl,
    endpoints: {
      kafka: kafkaBrokers[0]!,
      redis: `${redis.hostname}:${redis.port || 6379}`,
      mongo: `${mongo.hostname}:${mongo.port || 27017}`,
    },
  };
}

/** A name no other test (or earlier run) uses: Kafka topics, Mongo databases, Redis keys. */
export function uniqueName(prefix: string): string {
  // Letters and digits only: FerretDB accepts only latin letters and digits in database names.
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** `uniqueName`'s time (8 base-36 digits of epoch ms, then 6 hex digits), anywhere in `name`. */
const UNIQUE_PART = /(?=([0-9a-z]{8})[0-9a-f]{6})/g;
const EARLIEST_UNIQUE_MS = Date.UTC(2025, 0, 1);

/** When a name made with `uniqueName` (or holding one) was made; undefined for other names. */
export function uniqueNameTime(name: string): number | undefined {
  for (const match of name.matchAll(UNIQUE_PART)) {
    const ms = parseInt(match[1]!, 36);
    if (ms >= EARLIEST_UNIQUE_MS && ms <= Date.now()) return ms;
  }
  return undefined;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export { startPrivateKafka, startPrivateRedis, freePort, type PrivateServer } from './private-servers.ts';
export { readTopic, type TopicReader } from './topic-reader.ts';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
