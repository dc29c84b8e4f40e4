// Before the integration tests: fails the run early, with the command to fix
// it, when the local stack is not reachable; then warms a new Kafka broker up.
// After them: deletes the topics the tests made (named by uniqueName).
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { createKafka, createProducer, ensureTopics, runConsumer } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { stackAddresses, uniqueNameOrigin, waitFor } from './index.ts';

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2000 });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}

/**
 * A broker formatted a minute ago (every CI run) creates `__consumer_offsets`
 * on the first group join and answers "coordinator is loading" meanwhile; tests
 * that assume a ready broker would see that. One produce, one group join and
 * one commit here take the broker past it (about a second once warm).
 */
async function warmUpKafka(brokers: string[]): Promise<void> {
  const logger = createLogger('warm-up', 'silent');
  const kafka = createKafka({ clientId: 'warm-up', brokers, logger, logLevel: 'none' });
  const topic = 'pushtech.warm-up';
  await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
  const producer = await createProducer(kafka);
  await producer.send(topic, [{ key: null, value: 'warm-up' }]);
  await producer.disconnect();
  let consumed = false;
  const consumer = await runConsumer({
    kafka, logger, groupId: 'pushtech-warm-up', topics: [topic], fromBeginning: true,
    eachMessage: async () => { consumed = true; },
  });
  try {
    await waitFor(() => (consumed ? true : undefined), 'the warm-up message', 60_000);
  } finally {
    await consumer.stop();
  }
}

/**
 * Deletes the topics whose uniqueName part says `doomed(origin)`. Every test run makes a few hundred
 * topics; left on the local broker they add up to thousands of partitions, and the broker then
 * takes minutes to start.
 */
async function deleteTestTopics(brokers: string[], doomed: (origin: { ms: number; run: string }) => boolean): Promise<number> {
  const kafka = createKafka({ clientId: 'test-topics-cleanup', brokers, logger: createLogger('cleanup', 'silent'), logLevel: 'none' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => {
      const origin = uniqueNameOrigin(topic);
      return origin !== undefined && doomed(origin);
    });
    for (let at = 0; at < topics.length; at += 100) await admin.deleteTopics({ topics: topics.slice(at, at + 100), timeout: 60_000 });
    return topics.length;
  } finally {
    await admin.disconnect();
  }
}

const HOUR_MS = 60 * 60 * 1000;

export default async function checkStack(): Promise<() => Promise<void>> {
  const started = Date.now();
  // The test workers start after this and inherit it: every uniqueName of this run carries it.
  const run = randomBytes(1).toString('hex');
  process.env.PUSHTECH_TEST_RUN = run;
  const addresses = stackAddresses();
  const missing: string[] = [];
  for (const [name, hostPort] of Object.entries(addresses.endpoints)) {
    const [host, port] = hostPort.split(':') as [string, string];
    if (!(await reachable(host, Number(port)))) missing.push(`${name} (${hostPort})`);
  }
  if (missing.length > 0) {
    throw new Error(`local stack not reachable: ${missing.join(', ')}. Start it with: bash scripts/stack.sh up (or run the tests with ./pushtech test)`);
  }
  await warmUpKafka(addresses.kafkaBrokers);
  // What an interrupted run left (not a run going on beside this one: those are younger).
  await deleteTestTopics(addresses.kafkaBrokers, (origin) => origin.ms < started - HOUR_MS);
  return async () => {
    // Only this run's: a run going on beside it (another checkout, another terminal) keeps its topics.
    await deleteTestTopics(addresses.kafkaBrokers, (origin) => origin.ms >= started && origin.run === run);
  };
}
