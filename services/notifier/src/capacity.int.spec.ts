// Bounded memory through Kafka: with QUEUE_MAX requests held, consumption pauses, and
// resumes at half of it; nothing is lost or answered twice on the way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { waitFor } from '@pushtech/testing';
import { freshNames, notifierEnv, startBench, startNotifier, STANDIN_API_KEY, STANDIN_APP_ID, type Bench, type RunningNotifier } from './fixtures/harness.ts';
import { pushRequest } from './fixtures/requests.ts';
import type { NotifyResponse } from '@pushtech/contracts';

let standin: Standin;
let bench: Bench;
let notifier: RunningNotifier | undefined;

beforeAll(async () => {
  standin = await startStandin({ appId: STANDIN_APP_ID, apiKey: STANDIN_API_KEY });
  bench = await startBench(freshNames('notifiercap'), { partitions: 2 });
});
afterAll(async () => {
  await notifier?.close();
  await bench?.close();
  await standin?.close();
});

describe('queue depth', () => {
  it('consumption pauses at QUEUE_MAX and resumes; every request is answered once', async () => {
    const requests = Array.from({ length: 150 }, (_, i) => pushRequest({ responseTopic: bench.names.responseTopic, userIds: [`cap-${i}`] }));
    await bench.produce(requests);
    notifier = await startNotifier(notifierEnv(bench.names, standin, { QUEUE_MAX: '20', RATE_LIMIT_PER_S: '150', SEND_CONCURRENCY: '2' }));
    const core = notifier.core;
    let maxHeld = 0;
    let sawPaused = false;
    const sampler = setInterval(() => {
      maxHeld = Math.max(maxHeld, core.stats().held);
      sawPaused ||= notifier!.intake.paused();
    }, 5);
    try {
      await bench.responses.waitForCount(150, 60_000);
    } finally {
      clearInterval(sampler);
    }
    expect(maxHeld).toBeLessThanOrEqual(20);
    expect(maxHeld).toBeGreaterThan(10);
    expect(sawPaused).toBe(true);
    const answered = bench.responses.values<NotifyResponse>().map((r) => r.uuid);
    expect(new Set(answered).size).toBe(150);
    expect(answered.length).toBe(150);
    expect(standin.notifications().length).toBe(150);
    await waitFor(() => (notifier!.intake.paused() ? undefined : true), 'consumption resumed');
  });
});
