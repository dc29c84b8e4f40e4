/**
 * The per-host rate across instances (real Mongo, local HTTP servers): two politeness objects
 * on separate connections, and two offer servers, asking one host at once never send it more
 * than FETCH_HOST_PER_MINUTE requests in a minute together (counted at the host, robots.txt
 * included); a source that must wait is not in error.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, type MongoClient } from '@pushtech/mongo';
import { fetchUrl } from './fetcher.ts';
import { createHostSlots } from './host-slots.ts';
import { fetchSettings } from './offerserver.ts';
import { createPoliteness, createRobots } from './politeness.ts';
import { createSourceStore } from './source-store.ts';
import { dropDatabase, serve, startFixtureServer, startTestOfferserver, testClock, testSettings, type TestClock } from './test-offerserver.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const berlin = { type: 'Point', coordinates: [13.405, 52.52] };
const MINUTE = 60_000;

/** A clock at the start of a minute plus 1 s, so a test's requests fall into one minute. */
const minuteClock = (): TestClock => testClock(Math.ceil(Date.now() / MINUTE) * MINUTE + 1_000);

describe('two politeness objects on one database', { timeout: 60_000 }, () => {
  const settings = testSettings();
  const clients: MongoClient[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i += 1) clients.push(await connectMongo(settings.MONGO_URL, { appName: 'politeness-test' }));
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await dropDatabase(settings);
  });

  it('let at most N requests per minute reach a host together; the rest wait for the next minute', async () => {
    const host = await startFixtureServer({ '/feed': serve(fixture('atom.xml')) });
    const clock = minuteClock();
    const now = () => clock.ms;
    const fetch = fetchSettings(settings);
    const politeness = clients.map((client) => {
      const db = client.db(settings.MONGO_DB);
      return createPoliteness({ robots: createRobots(fetch, now), slots: createHostSlots(db, { perMinute: 5, now }), hosts: createSourceStore(db, { owner: 'test', leaseMs: MINUTE }), now });
    });
    const attempt = async (p: (typeof politeness)[number]) => {
      const permission = await p.permit(`${host.url}/feed`);
      if (permission.verdict === 'go') await fetchUrl(`${host.url}/feed`, fetch);
      return permission;
    };
    try {
      const minuteStart = Math.floor(clock.ms / MINUTE) * MINUTE;
      const first = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(politeness[i % 2]!)));
      expect(host.requests).toHaveLength(5); // robots.txt (one per instance) and feeds: 5 together
      expect(host.hits('/robots.txt')).toBe(2);
      expect(first.filter((p) => p.verdict === 'go')).toHaveLength(3);
      expect(first.filter((p) => p.verdict === 'wait').every((p) => p.verdict === 'wait' && p.untilMs === minuteStart + MINUTE)).toBe(true);

      clock.advance(MINUTE);
      const second = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(politeness[i % 2]!)));
      expect(host.requests).toHaveLength(10); // robots.txt is known now: 5 feeds
      expect(second.filter((p) => p.verdict === 'go')).toHaveLength(5);
    } finally {
      await host.close();
    }
  });
});

describe('two offer servers', { timeout: 120_000 }, () => {
  it('send one host at most FETCH_HOST_PER_MINUTE requests a minute together; waiting sources are not in error', async () => {
    const settings = testSettings({ FETCH_HOST_PER_MINUTE: 3 });
    const clock = minuteClock();
    const first = await startTestOfferserver(settings, { clock });
    const second = await startTestOfferserver(settings, { clock });
    const host = await startFixtureServer();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 8; i += 1) {
        host.routes.set(`/f${i}`, serve(fixture('atom.xml')));
        ids.push((await first.addSource({ kind: 'feed', url: `${host.url}/f${i}`, defaultLocation: berlin, refreshSeconds: 3_600 })).id);
      }
      const perMinute: number[] = [];
      for (let minute = 0; minute < 6; minute += 1) {
        const before = host.requests.length;
        await Promise.all([first.runOnce(), second.runOnce()]);
        perMinute.push(host.requests.length - before);
        clock.advance(MINUTE);
      }
      expect(perMinute.every((n) => n <= 3)).toBe(true);
      expect(perMinute[0]).toBe(3);
      for (let i = 0; i < 8; i += 1) expect(host.hits(`/f${i}`)).toBe(1); // every source got its turn, once
      for (const id of ids) expect((await first.getSource(id)).state).toMatchObject({ consecutiveErrors: 0, lastError: null, lastStatus: 200 });
    } finally {
      await first.stop();
      await second.stop();
      await dropDatabase(settings);
      await host.close();
    }
  });
});
