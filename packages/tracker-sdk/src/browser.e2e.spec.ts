// The browser SDK in a real (headless) Chromium against the real tracker and kafkastore, as
// processes: events queued while the tracker cannot be reached (requests aborted by route
// interception) reach Kafka exactly once when it can; a batch whose answer was lost is sent
// again and still reaches Kafka once (client ids, skipped by the kafkastore); a reload with events queued loses none
// (IndexedDB); leaving the page sends them with navigator.sendBeacon; a 503 busy with
// Retry-After is waited out. The page is served from another origin, as on a real site.
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { createKafka } from '@pushtech/kafka';
import { createLogger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import { freePort, readTopic, stackAddresses, uniqueName, waitFor, type TopicReader } from '@pushtech/testing';
import { startService, type RunningService } from '../../../e2e/services.ts';
import type { BrowserTrackerOptions } from './browser.ts';
import { launchChromium, startTestPageServer, type TestPageServer } from './test-page.ts';

const { kafkaBrokers, redisUrl } = stackAddresses();
const logger = createLogger('tracker-sdk-e2e', 'silent');
const topic = uniqueName('events-sdk-');
const stream = uniqueName('e2e:sdk:');
const busyStream = uniqueName('e2e:sdk-busy:');

let tracker: RunningService;
let busyTracker: RunningService;
let kafkastore: RunningService;
let pages: TestPageServer;
let browser: Browser;
let events: TopicReader;
let redis: Redis;
let context: BrowserContext;
let page: Page;

/** Fast retries, so a test does not wait for the default back-off. */
const FAST: Partial<BrowserTrackerOptions> = { retry: { initialMs: 200, maxMs: 1_000 } };

beforeAll(async () => {
  const [trackerPort, busyPort, storePort] = [await freePort(), await freePort(), await freePort()];
  pages = await startTestPageServer();
  const trackerEnv = { REDIS_URL: redisUrl, CORS_ORIGINS: pages.origin };
  [tracker, busyTracker, kafkastore] = await Promise.all([
    startService('services/tracker/src/index.ts', { ...trackerEnv, REDIS_STREAM: stream, PORT: String(trackerPort), TRACKER_ID: 'sdk-e2e' }),
    // Its stream has no kafkastore and a mark of 1 entry: one entry there and it answers 503 busy, Retry-After: 5.
    startService('services/tracker/src/index.ts', { ...trackerEnv, REDIS_STREAM: busyStream, PORT: String(busyPort), TRACKER_ID: 'sdk-e2e-busy', STREAM_HIGH_WATER_MARK: '1' }),
    startService('services/kafkastore/src/index.ts', {
      KAFKA_BROKERS: kafkaBrokers.join(','), REDIS_URL: redisUrl, REDIS_STREAM: stream, PORT: String(storePort),
      EVENTS_TOPIC: topic, DLQ_TOPIC: `${topic}.dlq`, CONSUMER_NAME: 'sdk-e2e',
    }),
  ]);
  events = await readTopic(createKafka({ clientId: 'tracker-sdk-e2e', brokers: kafkaBrokers, logger }), topic, logger);
  redis = createRedis(redisUrl, { connectionName: 'tracker-sdk-e2e' });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await events?.stop();
  await redis?.del(stream, busyStream);
  redis?.disconnect();
  await Promise.all([tracker?.stop(), busyTracker?.stop(), kafkastore?.stop(), pages?.close()]);
});

beforeEach(async () => {
  context = await browser.newContext(); // its own IndexedDB
  page = await context.newPage();
});
afterEach(async () => {
  await context.close();
});

/** Opens the test page with a tracker for `endpoint`; resolves once it has read its queue. */
async function open(options: Partial<BrowserTrackerOptions> = {}, endpoint = tracker.url): Promise<void> {
  await page.goto(pages.pageUrl({ endpoint, ...FAST, ...options }));
  await page.waitForFunction(() => (globalThis as any).tracker !== undefined);
  await page.evaluate(() => (globalThis as any).tracker.ready);
}

/** Tracks `count` events of one run in the page; answers their ids (the SDK's own). */
function trackInPage(run: string, count: number): Promise<string[]> {
  return page.evaluate(([run, count]) => {
    const t = (globalThis as any).tracker;
    return Array.from({ length: count as number }, (_, n) => t.track('sdk.test', { run, n })) as string[];
  }, [run, count] as const);
}

/** The events of `run` on Kafka, once the topic holds `count` of them and nothing more is there. */
async function arrived(run: string, count: number): Promise<any[]> {
  const ofRun = () => events.values<any>().filter((e) => e.data.run === run);
  await waitFor(() => (ofRun().length >= count ? true : undefined), `${count} events of ${run} in Kafka`, 30_000);
  // The kafkastore deletes an entry once Kafka has it (or it was a copy): then the topic is complete.
  await waitFor(async () => ((await redis.xlen(stream)) === 0 ? true : undefined), 'the tracker stream drained', 30_000);
  await events.caughtUp();
  return ofRun();
}

/** Aborts every request to the tracker, as when the device is offline. */
async function offline(requests: Request[]): Promise<void> {
  await context.route(`${tracker.url}/**`, (route) => {
    requests.push(route.request());
    return route.abort('internetdisconnected');
  });
}

describe('the browser SDK against the tracker', () => {
  it('offline, then online: every event arrives in Kafka exactly once, with the ids the page gave them', async () => {
    await open();
    const blocked: Request[] = [];
    await offline(blocked);
    const run = uniqueName('offline');
    const ids = await trackInPage(run, 30);
    await waitFor(() => (blocked.length >= 2 ? true : undefined), 'two attempts while offline', 10_000);
    expect(await page.evaluate(() => (globalThis as any).tracker.stats())).toMatchObject({ queued: 30, sent: 0 });

    await context.unroute(`${tracker.url}/**`);
    const got = await arrived(run, 30);
    expect(got.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(got.map((e) => e.data.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, n) => n));
    const anonymousId = await page.evaluate(() => (globalThis as any).tracker.anonymousId());
    expect(got[0].data.context).toMatchObject({ anonymousId });
    expect(Date.parse(got[0].data.context.clientTime)).toBeLessThanOrEqual(Date.parse(got[0].time));
    await waitFor(() => page.evaluate(() => ((globalThis as any).tracker.stats().queued === 0 ? true : undefined)), 'the queue empty', 10_000);
  }, 60_000);

  it('an answer lost on its way back: the SDK sends the batch again, with the same ids, and Kafka holds each event once', async () => {
    await open();
    let lost = 0;
    // The first request reaches the tracker (which stores it), but the page never sees the answer.
    await context.route(`${tracker.url}/**`, async (route) => {
      if (lost > 0) return route.continue();
      lost++;
      expect((await route.fetch()).status()).toBe(200);
      return route.abort('connectionreset');
    });
    const run = uniqueName('lost-answer');
    const ids = await trackInPage(run, 10);
    await waitFor(() => page.evaluate(() => ((globalThis as any).tracker.stats().sent === 10 ? true : undefined)), 'the second attempt taken', 15_000);
    const got = await arrived(run, 10);
    expect(got.map((e) => e.id).sort()).toEqual([...ids].sort()); // the tracker stored both; the kafkastore skipped the copies
  }, 60_000);

  it('a reload with events queued loses none: the next page sends them from IndexedDB, once', async () => {
    const blocked: Request[] = [];
    await offline(blocked);
    await open();
    const run = uniqueName('reload');
    const ids = await trackInPage(run, 20);
    await page.evaluate(() => (globalThis as any).tracker.persisted());
    // The beacon on leaving does not get through either (route interception does not see a
    // request made while the page unloads, so it is stopped here).
    await page.evaluate(() => {
      (globalThis as any).navigator.sendBeacon = () => false;
    });
    await page.reload();
    await page.waitForFunction(() => (globalThis as any).tracker !== undefined);
    await page.evaluate(() => (globalThis as any).tracker.ready);
    expect(await page.evaluate(() => (globalThis as any).tracker.stats().queued)).toBe(20);

    await context.unroute(`${tracker.url}/**`);
    await waitFor(() => page.evaluate(() => ((globalThis as any).tracker.stats().sent === 20 ? true : undefined)), 'the tracker took them', 10_000);
    const got = await arrived(run, 20);
    expect(got.map((e) => e.id).sort()).toEqual([...ids].sort());
  }, 60_000);

  it('leaving the page sends what is queued with navigator.sendBeacon', async () => {
    await open({ flushIntervalMs: 600_000 }); // no fetch would go out for ten minutes
    const fetches: Request[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(tracker.url)) fetches.push(request);
    });
    const run = uniqueName('beacon');
    const ids = await trackInPage(run, 3);
    await page.evaluate(() => (globalThis as any).tracker.persisted());
    // A request made while the page unloads (the beacon) is seen neither by page/context events nor
    // by route interception; the page made no other: the events can only have come by the beacon.
    await page.goto('about:blank');
    const got = await arrived(run, 3);
    expect(got.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(fetches).toEqual([]);
  }, 60_000);

  it('a 503 with Retry-After: 5 is waited out, although the back-off would retry after 200 ms', async () => {
    await redis.xadd(busyStream, '*', 'e', '{}'); // the busy tracker's stream is at its mark
    await open({}, busyTracker.url);
    // `sentAt` is the browser's own clock for when each request went out: the gap between the two
    // is at least the wait, whatever delays the events on their way to this process.
    const answers: { sentAt: number; status: number; retryAfter: string | undefined }[] = [];
    page.on('response', (response) => {
      if (response.url() === `${busyTracker.url}/t/batch`) answers.push({ sentAt: response.request().timing().startTime, status: response.status(), retryAfter: response.headers()['retry-after'] });
    });
    const [id] = await trackInPage(uniqueName('busy'), 1);
    await page.evaluate(() => (globalThis as any).tracker.flush());
    await waitFor(() => (answers.length >= 1 ? true : undefined), 'the first answer', 10_000);
    expect(answers[0]).toMatchObject({ status: 503, retryAfter: '5' });
    await redis.del(busyStream); // the kafkastore caught up

    await waitFor(() => (answers.some((a) => a.status === 200) ? true : undefined), 'a 200', 20_000);
    expect(answers.map((a) => a.status)).toEqual([503, 200]);
    expect(answers[1]!.sentAt - answers[0]!.sentAt).toBeGreaterThanOrEqual(5_000);
    const stored = await redis.xrange(busyStream, '-', '+');
    expect(stored.map(([, fields]) => JSON.parse(fields[1]!).id)).toEqual([id]);
  }, 60_000);
});
