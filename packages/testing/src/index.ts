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

/**
 * Which test run made a name: two hex digits set by the global setup for the whole run
 * (`PUSHTECH_TEST_RUN`), so that a run's cleanup deletes its own topics and not those of a run
 * going on beside it; outside a test run, one per process.
 */
const RUN_TAG = /^[0-9a-f]{2}$/.test(process.env.PUSHTECH_TEST_RUN ?? '') ? process.env.PUSHTECH_TEST_RUN! : randomBytes(1).toString('hex');

/** A name no other test (or earlier run) uses: Kafka topics, Mongo databases, Redis keys. */
export function uniqueName(prefix: string): string {
  // Letters and digits only: FerretDB accepts only latin letters and digits in database names.
  return `${prefix}${Date.now().toString(36)}${RUN_TAG}${randomBytes(2).toString('hex')}`;
}

/** `uniqueName`'s time (8 base-36 digits of epoch ms), run tag (2 hex) and 4 random hex digits, anywhere in `name`. */
const UNIQUE_PART = /(?=([0-9a-z]{8})([0-9a-f]{2})[0-9a-f]{4})/g;
const EARLIEST_UNIQUE_MS = Date.UTC(2025, 0, 1);

/** When and by which run a name made with `uniqueName` (or holding one) was made; undefined for other names. */
export function uniqueNameOrigin(name: string): { ms: number; run: string } | undefined {
  for (const match of name.matchAll(UNIQUE_PART)) {
    const ms = parseInt(match[1]!, 36);
    if (ms >= EARLIEST_UNIQUE_MS && ms <= Date.now()) return { ms, run: match[2]! };
  }
  return undefined;
}

/** When a name made with `uniqueName` (or holding one) was made; undefined for other names. */
export function uniqueNameTime(name: string): number | undefined {
  return uniqueNameOrigin(name)?.ms;
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

/**
 * Whether `promise` is still unsettled when a timer of `ms`, armed now, fires. Node fires timers of
 * the same delay in the order they were armed, however busy the machine: armed just before the code
 * under test arms its own timeout of `ms`, true means "not settled before that timeout", false
 * "settled before that timeout could fire".
 */
export function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(() => { settled = true; }, () => { settled = true; });
  return new Promise((resolve) => setTimeout(() => resolve(!settled), ms));
}

export { startPrivateKafka, startPrivateRedis, freePort, type PrivateKafka, type PrivateServer } from './private-servers.ts';
export { groupCaughtUp, readTopic, topicEnds, topicLength, type TopicReader } from './topic-reader.ts';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
export { probesWhileAway, untilReady, type ProbeAnswer } from './probes.ts';
export { selfSignedCert, type SelfSignedCert } from './self-signed.ts';
export { handMadeToken, startLocalIssuer, type LocalIssuer } from './local-oidc-issuer.ts';
export { checkOpenApiContract, contractSummary, fetchDocument, oneSidedOperations, send, type ContractOptions, type ContractReport, type OpenApiDocument, type OpenApiOperation } from './openapi-contract.ts';
