// Issue 17: one log stream. Services run as processes log JSON lines on stdout with the same fields
// (time, level, service, msg; requestId on a request's lines, the X-Request-Id nginx sends), so
// one collector can ship them all (README: "One log stream").
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';

const root = fileURLToPath(new URL('..', import.meta.url));
const { kafkaBrokers, redisUrl } = stackAddresses();
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Runs `entry` until `whileUp` is done, then SIGTERM; its stdout lines. */
async function logLinesOf(entry: string, env: Record<string, string>, whileUp: (url: string) => Promise<void>): Promise<string[]> {
  const port = await freePort();
  const child = spawn(process.execPath, [entry], { cwd: root, env: { ...process.env, LOG_LEVEL: 'info', PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
      return (await fetch(`${url}/readyz`).catch(() => undefined))?.ok || undefined;
    }, `${entry} ready`, 60_000, 100);
    await whileUp(url);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return stdout.split('\n').filter(Boolean);
}

function expectCommonFields(lines: string[], service: string) {
  expect(lines.length).toBeGreaterThan(2);
  for (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry, line).toMatchObject({ service, msg: expect.any(String), level: expect.toBeOneOf(LEVELS) });
    expect(new Date(entry.time as string).toISOString(), line).toBe(entry.time);
  }
}

describe('every service logs JSON lines with the same fields', () => {
  it('the tracker: its start, a request with the request id it was given, its stop', async () => {
    const requestId = 'edge-test-4f1c';
    const lines = await logLinesOf('services/tracker/src/index.ts', { REDIS_URL: redisUrl, REDIS_STREAM: uniqueName('e2e:logs:'), TRACKER_ID: 'logs' }, async (url) => {
      const res = await fetch(`${url}/t/BAD%20TYPE`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: '{}' });
      expect(res.status).toBe(400);
      expect(res.headers.get('x-request-id')).toBe(requestId);
    });
    expectCommonFields(lines, 'tracker');
    const messages = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(messages.find((m) => m.msg === 'event rejected')).toMatchObject({ level: 'info', requestId });
    expect(messages.map((m) => m.msg)).toEqual(expect.arrayContaining(['listening', 'ready', 'shutting down', 'stopped']));
  }, 90_000);

  // Started while other tests run, services on Kafka take a while to be ready.
  const topic = uniqueName('events');
  it('the kafkastore: the same fields', async () => {
    const kafkastore = await logLinesOf('services/kafkastore/src/index.ts', {
      KAFKA_BROKERS: kafkaBrokers.join(','), REDIS_URL: redisUrl, REDIS_STREAM: uniqueName('e2e:logs:'), EVENTS_TOPIC: topic, DLQ_TOPIC: `${topic}.dlq`, CONSUMER_NAME: 'logs',
    }, async () => {});
    expectCommonFields(kafkastore, 'kafkastore');
  }, 90_000);

  it('stats: the same fields', async () => {
    const stats = await logLinesOf('consumers/stats/src/index.ts', { KAFKA_BROKERS: kafkaBrokers.join(','), EVENTS_TOPIC: topic, CONSUMER_GROUP: uniqueName('stats') }, async () => {});
    expectCommonFields(stats, 'stats');
  }, 90_000);
});
