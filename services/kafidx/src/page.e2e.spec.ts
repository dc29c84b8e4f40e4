// The kafidx page in a real (headless) Chromium, on the whole ingestion path: events sent
// to the tracker reach Kafka through the kafkastore, and show up on the page within seconds;
// the stats consumer's charts come through kafidx's /api/stats. Saves test-results/kafidx.png.
//
// Chromium is Debian's package (scripts/install-test-tools.sh installs it if it is missing),
// driven by playwright-core (no browser download).
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { launchChromium } from '../../../e2e/browser.ts';
import { startService, type RunningService } from '../../../e2e/services.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const screenshot = `${root}test-results/kafidx.png`;

const { kafkaBrokers, redisUrl } = stackAddresses();
const TOKEN = `page-test-${uniqueName('token')}`;
const topic = uniqueName('events');
const stream = uniqueName('e2e:kafidx:');

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';
const WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const CLIENTS = [
  { ip: '81.169.145.105', ua: IPHONE }, // DE
  { ip: '212.27.48.10', ua: WINDOWS }, // FR
  { ip: '8.8.8.8', ua: ANDROID }, // US
];

let tracker: RunningService;
let kafkastore: RunningService;
let stats: RunningService;
let kafidx: RunningService;
let browser: Browser | undefined;
let page: Page;

/** Sends events through the tracker's batch route; answers their ids in order. */
async function track(events: { type: string; data?: Record<string, unknown>; userId?: string }[], client = CLIENTS[0]!): Promise<string[]> {
  const answer = await fetch(`${tracker.url}/t/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client.ip, 'user-agent': client.ua },
    body: JSON.stringify(events),
  });
  expect(answer.status).toBe(200);
  const body = await answer.json() as { accepted: number; ids: string[] };
  expect(body.accepted).toBe(events.length);
  return body.ids;
}

const row = (id: string) => page.locator(`#messages > li[data-id="${id}"]`);

beforeAll(async () => {
  const env = { KAFKA_BROKERS: kafkaBrokers.join(','), REDIS_URL: redisUrl, REDIS_STREAM: stream };
  const [trackerPort, storePort, statsPort, kafidxPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  [tracker, kafkastore, stats] = await Promise.all([
    startService('services/tracker/src/index.ts', { ...env, PORT: String(trackerPort), TRUST_PROXY: 'true', TRACKER_ID: 'kafidx-e2e' }),
    startService('services/kafkastore/src/index.ts', { ...env, PORT: String(storePort), EVENTS_TOPIC: topic, DLQ_TOPIC: `${topic}.dlq`, CONSUMER_NAME: 'kafidx-e2e' }),
    startService('consumers/stats/src/index.ts', { KAFKA_BROKERS: env.KAFKA_BROKERS, PORT: String(statsPort), EVENTS_TOPIC: topic, CONSUMER_GROUP: uniqueName('stats') }),
  ]);
  kafidx = await startService('services/kafidx/src/index.ts', {
    KAFKA_BROKERS: env.KAFKA_BROKERS, PORT: String(kafidxPort), KAFIDX_TOKEN: TOKEN, STATS_URL: stats.url,
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([tracker?.stop(), kafkastore?.stop(), stats?.stop(), kafidx?.stop()]);
});

describe('the kafidx page', () => {
  it('without the token it is a 401; with it, events sent to the tracker appear live, newest on top', async () => {
    const refused = await page.goto(`${kafidx.url}/`);
    expect(refused?.status()).toBe(401);

    // The link a developer opens: the token (kept in a cookie, dropped from the address) and the topic to watch.
    await page.goto(`${kafidx.url}/?token=${TOKEN}#topics=${topic}&last=50`);
    expect(new URL(page.url()).search).toBe('');
    await page.locator('#status.live').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('#status-text').textContent()).toContain('live');

    const first = await track([
      { type: 'page.view', data: { path: '/bikes' }, userId: 'alice' },
      { type: 'location', data: { lat: 52.52, lng: 13.405 }, userId: 'alice' },
    ]);
    const second = await track([{ type: 'search', data: { q: 'cargo bike' }, userId: 'bob' }], CLIENTS[1]);
    for (const id of [...first, ...second]) await row(id).waitFor({ timeout: 20_000 });

    const rows = page.locator('#messages > li');
    await expect.poll(() => rows.count()).toBe(3);
    // Newest on top: the search (sent last) is first.
    expect(await rows.first().getAttribute('data-id')).toBe(second[0]);
    await expect.poll(() => row(first[1]!).locator('summary').textContent()).toMatch(/location.*alice/s);
  }, 60_000);

  it('a row opens onto its pretty-printed JSON, with the enrichment', async () => {
    const ids = await track([{ type: 'location', data: { lat: 48.85, lng: 2.35 }, userId: 'carol' }], CLIENTS[1]);
    await row(ids[0]!).waitFor({ timeout: 20_000 });
    await row(ids[0]!).locator('summary').first().click();
    const json = row(ids[0]!).locator('pre.json');
    await json.waitFor();
    const text = (await json.textContent()) ?? '';
    expect(text).toContain(`"id": "${ids[0]}"`);
    expect(text).toContain('"country": "FR"');
  }, 30_000);

  it('the user filter shows only that user\'s events from then on', async () => {
    await page.locator('#f-user').fill('dave');
    // The page sends the filter 250 ms after typing and shows it once kafidx confirmed it.
    await expect.poll(() => page.locator('#active-filter').textContent()).toBe('filter: user = dave');
    const [other, mine] = [
      (await track([{ type: 'location', data: { lat: 52.5, lng: 13.4 }, userId: 'erin' }]))[0]!,
      (await track([{ type: 'location', data: { lat: 40.7, lng: -74 }, userId: 'dave' }], CLIENTS[2]))[0]!,
    ];
    await row(mine).waitFor({ timeout: 20_000 });
    expect(await row(other).count()).toBe(0);
    await page.locator('#f-user').fill('');
    await expect.poll(() => page.locator('#active-filter').textContent()).toBe('');
  }, 40_000);

  it('shows the stats consumer\'s charts and a live rate; screenshot in test-results/kafidx.png', async () => {
    // Some traffic for the charts: several types, countries and devices.
    const types = ['location', 'location', 'location', 'page.view', 'page.view', 'search', 'listing.view'];
    for (const [i, client] of CLIENTS.entries()) {
      await track(types.slice(i).map((type, j) => ({ type, data: type === 'location' ? { lat: 52.5 + j / 100, lng: 13.4 } : { n: j }, userId: `user-${i}-${j}` })), client);
    }
    await waitFor(async () => {
      const body = await (await fetch(`${stats.url}/stats`)).json() as { minutes: { total: number }[] };
      return body.minutes.reduce((sum, m) => sum + m.total, 0) >= 20 ? true : undefined;
    }, 'the stats consumer to count the events', 30_000, 250);

    // A reload reads the stats again and, with last=50 in the address, the backlog of the topic.
    await page.reload();
    await page.locator('#status.live').waitFor({ timeout: 30_000 });
    await page.locator('#charts svg rect').first().waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('#messages > li[data-id]').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(20);
    await expect.poll(() => page.locator('#charts').textContent()).toMatch(/DE[\s\S]*FR|FR[\s\S]*DE/);
    await expect.poll(() => page.locator('#rates li .value').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('#dropped').textContent()).toBe('0');

    // Open the newest row for the picture.
    await page.locator('#messages > li[data-id] summary').first().click();
    await page.locator('#messages pre.json').first().waitFor();
    mkdirSync(`${root}test-results`, { recursive: true });
    await page.screenshot({ path: screenshot });
    expect(existsSync(screenshot)).toBe(true);
  }, 90_000);
});
