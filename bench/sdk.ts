/**
 * Tracker SDK benchmark, side by side in one run:
 *
 * 1. In Chromium (the browser bundle, IndexedDB): how many events/s `tracker.track()` takes, and
 *    how many per second reach IndexedDB (`persisted()`), with the tracker unreachable so
 *    sending does not share the page's thread.
 * 2. The tracker's server CPU per event (from /proc, comparable on a shared machine) when the
 *    same events come as the SDK sends them (`POST /t/batch`, `--batch` events a request, the
 *    SDK's core in this process) and as single beacons (`GET /t/page.view?…`), each from
 *    `--clients` concurrent senders; `sdk_batch_vs_single_cpu_ratio` is batch / single (below 1:
 *    the batches cost the tracker less per event).
 *
 *   npm run bench:sdk [-- --events 20000 --batch 50 --clients 8 --browser-events 50000]
 *
 * Needs the local Redis (the tracker writes to a stream of its own, deleted at the end).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRedis } from '@pushtech/redis';
import { freePort, stackAddresses, uniqueName } from '@pushtech/testing';
import { createTracker, memoryStore } from '../packages/tracker-sdk/src/index.ts';
import { launchChromium, startTestPageServer } from '../packages/tracker-sdk/src/test-page.ts';
import { cpuSeconds, startServer, stopServer } from './ingest-tracker.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '50' },
    clients: { type: 'string', default: '8' },
    'browser-events': { type: 'string', default: '50000' },
  },
});
const events = Number(args.events);
const batch = Number(args.batch);
const clients = Number(args.clients);
const browserEvents = Number(args['browser-events']);
const trackerEntry = fileURLToPath(new URL('../services/tracker/src/index.ts', import.meta.url));
const figures: Record<string, number> = {};
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

async function browserEnqueue(): Promise<void> {
  const pages = await startTestPageServer();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const unreachable = 'http://127.0.0.1:9'; // nothing listens: every send fails at once and backs off
    await page.route(`${unreachable}/**`, (route) => route.abort('internetdisconnected'));
    await page.goto(pages.pageUrl({ endpoint: unreachable, maxQueueEvents: browserEvents * 2, retry: { initialMs: 60_000, maxMs: 60_000 } }));
    await page.waitForFunction(() => (globalThis as any).tracker !== undefined);
    const result = await page.evaluate(async (count) => {
      const t = (globalThis as any).tracker;
      await t.ready;
      for (let n = 0; n < 1_000; n++) t.track('warm.up', { n }); // JIT
      await t.persisted();
      const start = performance.now();
      for (let n = 0; n < count; n++) t.track('page.view', { path: `/listings/${n % 500}`, n });
      const tracked = performance.now();
      await t.persisted();
      return { trackMs: tracked - start, persistedMs: performance.now() - start };
    }, browserEvents);
    figures.sdk_browser_track_events_per_s = Math.round(browserEvents / (result.trackMs / 1000));
    figures.sdk_browser_persisted_events_per_s = Math.round(browserEvents / (result.persistedMs / 1000));
    console.log(`browser: track() ${figures.sdk_browser_track_events_per_s} events/s; into IndexedDB ${figures.sdk_browser_persisted_events_per_s} events/s (${browserEvents} events)`);
  } finally {
    await browser.close();
    await pages.close();
  }
}

/** Runs `work` and answers the tracker's CPU µs per event it cost. */
async function trackerCpu(pid: number, count: number, work: () => Promise<void>): Promise<{ usPerEvent: number; perS: number }> {
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  await work();
  const s = (performance.now() - started) / 1000;
  return { usPerEvent: ((cpuSeconds(pid) - cpuBefore) * 1e6) / count, perS: count / s };
}

/** `clients` SDK instances, each tracking its share and sending it in batches of `batch`. */
async function sdkBatches(endpoint: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const tracker = createTracker({ endpoint, store: memoryStore(), maxBatchEvents: batch, flushIntervalMs: 3_600_000, onWarning: (m) => console.error(m) });
      await tracker.ready;
      for (let n = c; n < count; n += clients) tracker.track('page.view', { path: `/listings/${n % 500}`, n });
      while (tracker.stats().queued > 0) await tracker.flush();
      tracker.stop();
      if (tracker.stats().sent !== Math.ceil((count - c) / clients)) throw new Error(`client ${c}: ${JSON.stringify(tracker.stats())}`);
    }),
  );
}

/** `clients` senders of one GET beacon per event, as a page without the SDK would. */
async function singleBeacons(endpoint: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const n = next++;
        const res = await fetch(`${endpoint}/t/page.view?path=%2Flistings%2F${n % 500}&n=${n}&anonymousId=a-${n % clients}&time=${new Date().toISOString()}`);
        if (res.status !== 204) throw new Error(`beacon answered ${res.status}`);
      }
    }),
  );
}

async function trackerSide(): Promise<void> {
  const { redisUrl } = stackAddresses();
  const stream = uniqueName('bench:sdk:');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const tracker = await startServer([trackerEntry], { PORT: String(port), REDIS_URL: redisUrl, REDIS_STREAM: stream, LOG_LEVEL: 'warn', STREAM_HIGH_WATER_MARK: '100000000' }, port);
  const redis = createRedis(redisUrl, { connectionName: 'bench-sdk' });
  try {
    await sdkBatches(endpoint, 2_000); // warm-up
    await singleBeacons(endpoint, 2_000);
    const sdk = await trackerCpu(tracker.pid!, events, () => sdkBatches(endpoint, events));
    const single = await trackerCpu(tracker.pid!, events, () => singleBeacons(endpoint, events));
    console.log(`tracker fed by SDK batches of ${batch}: ${sdk.usPerEvent.toFixed(1)} µs CPU/event (${Math.round(sdk.perS)} events/s)`);
    console.log(`tracker fed by single beacons:     ${single.usPerEvent.toFixed(1)} µs CPU/event (${Math.round(single.perS)} events/s)`);
    figures.tracker_cpu_us_per_event_sdk_batch = round(sdk.usPerEvent);
    figures.tracker_cpu_us_per_event_single = round(single.usPerEvent);
    figures.sdk_batch_vs_single_cpu_ratio = round(sdk.usPerEvent / single.usPerEvent, 3);
    figures.tracker_events_per_s_sdk_batch = Math.round(sdk.perS);
    figures.tracker_events_per_s_single = Math.round(single.perS);
  } finally {
    await stopServer(tracker);
    await redis.del(stream);
    redis.disconnect();
  }
}

await browserEnqueue();
await trackerSide();
console.log(`(events ${events}, batch ${batch}, clients ${clients}, browser events ${browserEvents})`);
for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
