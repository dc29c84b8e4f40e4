// Fair share through Kafka with the rate limit on: producer A has 1,000 requests
// waiting in the topic before producer B's one; B's goes out within the first few
// sends, not after A's thousand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { uniqueName, waitFor } from '@pushtech/testing';
import { freshNames, notifierEnv, startBench, startNotifier, STANDIN_API_KEY, STANDIN_APP_ID, type Bench, type RunningNotifier } from './fixtures/harness.ts';
import { pushRequest } from './fixtures/requests.ts';
import { RETRIES } from './retry-store.ts';

let standin: Standin;
let bench: Bench;
let notifier: RunningNotifier | undefined;

beforeAll(async () => {
  standin = await startStandin({ appId: STANDIN_APP_ID, apiKey: STANDIN_API_KEY });
  // One partition: in Kafka, B's request really is behind A's thousand.
  bench = await startBench(freshNames('notifierfair'), { partitions: 1 });
});
afterAll(async () => {
  await notifier?.close();
  await bench?.close();
  await standin?.close();
});

describe('fair share through Kafka', () => {
  it('1,000 from producer A, then one from producer B: B is sent within the first few sends', async () => {
    const topicA = bench.names.responseTopic;
    const topicB = uniqueName('notifierfair.results.b-');
    const a = Array.from({ length: 1_000 }, (_, i) => pushRequest({ responseTopic: topicA, userIds: [`a${i}`] }));
    const b = pushRequest({ responseTopic: topicB, userIds: ['b0'] });
    await bench.produce(a);
    await bench.produce([b]);

    notifier = await startNotifier(notifierEnv(bench.names, standin, { RATE_LIMIT_PER_S: '50', SEND_CONCURRENCY: '4' }));
    await waitFor(() => (standin.calls.some((c) => (c.body as { idempotency_key: string }).idempotency_key === b.uuid) ? true : undefined), 'B\'s request sent');
    const order = standin.calls.map((c) => (c.body as { include_aliases: { external_id: string[] } }).include_aliases.external_id[0]);
    expect(order.indexOf('b0')).toBeLessThanOrEqual(5);
    const before = order.slice(0, order.indexOf('b0'));
    expect(before).toEqual(Array.from({ length: before.length }, (_, i) => `a${i}`));

    // The rate limit holds A's backlog back: most of it is still waiting.
    expect(notifier.core.stats().queued).toBeGreaterThan(900);
    const metrics = (await notifier.http.inject('/metrics')).body;
    expect(metrics).toMatch(new RegExp(`notifier_queue_depth\\{producer="${topicA.replaceAll('.', '\\.')}",service="notifier"\\} (9\\d\\d)`));
    expect(metrics).toMatch(/notifier_rate_limit_waits_total\{service="notifier"\} [1-9]/);

    // Stopping parks A's backlog in the retry store.
    await notifier.close();
    notifier = undefined;
    const parked = await bench.db.collection(RETRIES).countDocuments();
    expect(parked).toBeGreaterThan(900);
    expect(parked + standin.notifications().length).toBeGreaterThanOrEqual(1_001);
  });
});
