// Nothing is lost when a kafkastore process dies: it runs as a child process
// (src/index.ts), is killed mid-stream, and another life of it (or another
// instance) delivers every event. Duplicates are allowed, loss is not.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topics, type EnrichedEvent } from '@pushtech/contracts';
import { createKafka, ensureTopics } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import { stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { readTopic, type TopicReader } from '@pushtech/testing';
import { trackedEvents, xaddEvents } from './fixtures/traffic.ts';

const ENTRIES = 5000;
const { kafkaBrokers, redisUrl } = stackAddresses();
const logger = createLogger('kafkastore-crash-test', 'silent');
const kafka = createKafka({ clientId: 'kafkastore-crash-test', brokers: kafkaBrokers, logger });
const entryPoint = fileURLToPath(new URL('./index.ts', import.meta.url));
let redis: Redis;
const children: ChildProcess[] = [];
const readers: TopicReader[] = [];

beforeAll(() => {
  redis = createRedis(redisUrl, { connectionName: 'kafkastore-crash-test' });
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(readers.splice(0).map((r) => r.stop()));
});
afterAll(() => {
  redis.disconnect();
});

async function given() {
  const names = { stream: uniqueName('kafkastore:crash:'), eventsTopic: uniqueName('events-'), dlqTopic: uniqueName('events.dlq-') };
  await ensureTopics(kafka, [{ ...topics.events, name: names.eventsTopic }, { ...topics.eventsDlq, name: names.dlqTopic }]);
  const sent = trackedEvents(ENTRIES, 7);
  await xaddEvents(redis, names.stream, sent);
  const events = await readTopic(kafka, names.eventsTopic, logger);
  readers.push(events);
  return { ...names, sent, events };
}

function kafkastoreProcess(names: { stream: string; eventsTopic: string; dlqTopic: string }, env: Record<string, string>) {
  let stderr = '';
  const child = spawn(process.execPath, [entryPoint], {
    env: {
      ...process.env,
      KAFKA_BROKERS: kafkaBrokers.join(','),
      REDIS_URL: redisUrl,
      REDIS_STREAM: names.stream,
      EVENTS_TOPIC: names.eventsTopic,
      DLQ_TOPIC: names.dlqTopic,
      BATCH_MAX_EVENTS: '50',
      PORT: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`kafkastore exited ${code}: ${stderr}\n`);
  });
  children.push(child);
  return child;
}

/** Once a tenth of the stream is done, signals `child` at a moment it holds a batch (read, not acknowledged). */
async function killMidStream(child: ChildProcess, stream: string, consumer: string, signal: NodeJS.Signals): Promise<void> {
  await waitFor(async () => ((await redis.xlen(stream)) <= ENTRIES - 500 ? true : undefined), 'the first batches', 30_000, 5);
  // Frozen with SIGSTOP, it cannot acknowledge while we look at its pending list.
  await waitFor(async () => {
    child.kill('SIGSTOP');
    if ((await pendingOf(stream, consumer)) > 0) return true;
    child.kill('SIGCONT');
    return undefined;
  }, 'a moment the kafkastore holds a batch', 30_000, 1);
  const exited = once(child, 'exit');
  child.kill(signal);
  child.kill('SIGCONT');
  await exited;
}

async function pendingOf(stream: string, consumer: string): Promise<number> {
  const consumers = (await redis.xpending(stream, 'kafkastore')) as [number, string, string, [string, string][] | null];
  return Number(consumers[3]?.find(([name]) => name === consumer)?.[1] ?? 0);
}

async function drained(stream: string): Promise<void> {
  await waitFor(async () => {
    const [length, pending] = await Promise.all([redis.xlen(stream), redis.xpending(stream, 'kafkastore') as Promise<[number]>]);
    return length === 0 && pending[0] === 0 ? true : undefined;
  }, `stream ${stream} drained`, 60_000);
}

function missingIds(events: TopicReader, sent: { id: string }[]): string[] {
  const received = new Set(events.values<EnrichedEvent>().map((e) => e.id));
  return sent.map((e) => e.id).filter((id) => !received.has(id));
}

/**
 * Waits until every sent id is on the topic. A count is not enough: after a
 * crash some events arrive twice (at-least-once), so the count can reach the
 * number sent while others are still on their way.
 */
async function allArrived(events: TopicReader, sent: { id: string }[]): Promise<void> {
  await waitFor(() => (missingIds(events, sent).length === 0 ? true : undefined), 'every sent id on the topic', 60_000)
    .catch(() => undefined);
  expect(missingIds(events, sent)).toEqual([]);
}

describe('a kafkastore process killed mid-stream', () => {
  it('SIGKILL, then started again with the same consumer name: every event reaches Kafka', async () => {
    const { sent, events, ...names } = await given();
    const first = kafkastoreProcess(names, { CONSUMER_NAME: 'kafkastore-0' });
    await killMidStream(first, names.stream, 'kafkastore-0', 'SIGKILL');
    expect(first.signalCode).toBe('SIGKILL');
    const left = await redis.xlen(names.stream);
    expect(left).toBeGreaterThan(0); // it really died mid-stream
    expect(left).toBeLessThan(ENTRIES);

    const second = kafkastoreProcess(names, { CONSUMER_NAME: 'kafkastore-0' });
    await drained(names.stream);
    await allArrived(events, sent);
    second.kill('SIGTERM');
    const [code] = await once(second, 'exit');
    expect(code).toBe(0);
  }, 120_000);

  it('SIGKILL, then another instance claims its pending entries after CLAIM_IDLE_MS: every event reaches Kafka', async () => {
    const { sent, events, ...names } = await given();
    const dead = kafkastoreProcess(names, { CONSUMER_NAME: 'kafkastore-dead' });
    await killMidStream(dead, names.stream, 'kafkastore-dead', 'SIGKILL');
    expect(await pendingOf(names.stream, 'kafkastore-dead')).toBeGreaterThan(0); // it died holding a batch

    const other = kafkastoreProcess(names, { CONSUMER_NAME: 'kafkastore-other', CLAIM_IDLE_MS: '1000' });
    await drained(names.stream);
    await allArrived(events, sent);
    expect(await pendingOf(names.stream, 'kafkastore-dead')).toBe(0);
    other.kill('SIGTERM');
    await once(other, 'exit');
  }, 120_000);

  it('SIGTERM moves what the stream still holds, then exits 0: nothing left behind, every event in Kafka', async () => {
    const { sent, events, ...names } = await given();
    const child = kafkastoreProcess(names, { CONSUMER_NAME: 'kafkastore-term' });
    await killMidStream(child, names.stream, 'kafkastore-term', 'SIGTERM');
    expect(child.exitCode).toBe(0);
    expect(await pendingOf(names.stream, 'kafkastore-term')).toBe(0);
    expect(await redis.xlen(names.stream)).toBe(0);

    await events.waitForCount(sent.length);
    expect(missingIds(events, sent)).toEqual([]);
  }, 120_000);
});
