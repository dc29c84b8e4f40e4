/**
 * Items' images through the imageserver's upload path: an imageserver process (its own
 * entry point, a temporary volume), a feed whose items have image enclosures, one of them
 * too big. The imported listing refers to the stored image; the big one is left out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Listing } from '@pushtech/listings';
import { freePort, waitFor } from '@pushtech/testing';
import { dropDatabase, readListings, serve, startFixtureServer, startTestOfferserver, testClock, testSettings, TEST_SECRET, type FixtureServer, type TestOfferserver } from './test-offerserver.ts';

/** A `width`×`height` PNG of one colour. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x80)]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

let imageserver: ChildProcess;
let imageserverUrl: string;
let imagesDir: string;
let server: FixtureServer;
let offers: TestOfferserver;

beforeAll(async () => {
  imagesDir = mkdtempSync(join(tmpdir(), 'offer-images-'));
  const port = await freePort();
  imageserverUrl = `http://127.0.0.1:${port}`;
  imageserver = spawn(process.execPath, [fileURLToPath(new URL('../../imageserver/src/index.ts', import.meta.url))], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: TEST_SECRET, IMAGES_DIR: imagesDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(async () => ((await fetch(`${imageserverUrl}/readyz`).catch(() => undefined))?.ok ? true : undefined), 'the imageserver', 60_000, 100);
  server = await startFixtureServer();
  offers = await startTestOfferserver(testSettings({ IMAGESERVER_URL: imageserverUrl, FETCH_MAX_BYTES: 200_000 }));
}, 90_000);

afterAll(async () => {
  await offers?.stop();
  if (offers !== undefined) await dropDatabase(offers.settings);
  await server?.close();
  if (imageserver !== undefined && imageserver.exitCode === null) {
    imageserver.kill('SIGTERM');
    await once(imageserver, 'exit');
  }
  rmSync(imagesDir, { recursive: true, force: true });
});

describe('items\' images', { timeout: 120_000 }, () => {
  it('are fetched with the fetcher\'s limits and stored through POST /images; the listing refers to them', async () => {
    const small = png(64, 48);
    const big = Buffer.concat([png(64, 48), Buffer.alloc(300_000)]); // over FETCH_MAX_BYTES
    server.routes.set('/small.png', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(small));
    server.routes.set('/big.png', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(big));
    const item = (n: number, image: string) => `<item><title>Thing ${n}</title><link>https://x.example/${n}</link><guid>t${n}</guid><enclosure url="${server.url}${image}" type="image/png" length="1"/></item>`;
    server.routes.set('/rss', serve(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>${item(1, '/small.png')}${item(2, '/big.png')}</channel></rss>`));
    const listings = await readListings(offers.settings.LISTINGS_TOPIC);
    try {
      const source = await offers.addSource({ kind: 'feed', url: `${server.url}/rss`, defaultLocation: { type: 'Point', coordinates: [13.405, 52.52] } });
      await offers.runOnce();
      await listings.caughtUp();
      const created = listings.events().filter((e) => e.type === 'listing.created').map((e) => e.data as Listing);
      const withImage = created.find((l) => l.title === 'Thing 1')!;
      expect(withImage.imageIds).toHaveLength(1);
      const stored = await (await fetch(`${imageserverUrl}/images/${withImage.imageIds[0]}`)).json();
      expect(stored).toMatchObject({ ownerId: `source:${source.id}`, width: 64, height: 48 });
      expect(created.find((l) => l.title === 'Thing 2')!.imageIds).toEqual([]);
      expect(server.hits('/small.png')).toBe(1);

      // Fetched again: the image is known, not imported twice; nothing changed.
      offers.clock.advance(3_600_000);
      await offers.runOnce();
      await listings.caughtUp();
      expect(server.hits('/small.png')).toBe(1);
      expect(listings.events().filter((e) => e.type !== 'listing.created')).toEqual([]);
    } finally {
      await listings.stop();
    }
  });

  it('follow the host\'s politeness: robots.txt, and the per-host rate (a waiting image is imported on a later fetch)', async () => {
    const image = png(16, 16);
    const host = await startFixtureServer({ '/robots.txt': serve('User-agent: *\nDisallow: /private/\n', 'text/plain') });
    for (const path of ['/private/p.png', '/i1.png', '/i2.png', '/i3.png']) host.routes.set(path, (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(image));
    const item = (n: number, path: string) => `<item><title>Polite ${n}</title><link>https://x.example/p${n}</link><guid>p${n}</guid><enclosure url="${host.url}${path}" type="image/png" length="1"/></item>`;
    host.routes.set('/rss', serve(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>${item(0, '/private/p.png')}${item(1, '/i1.png')}${item(2, '/i2.png')}${item(3, '/i3.png')}</channel></rss>`));
    const settings = testSettings({ IMAGESERVER_URL: imageserverUrl, FETCH_HOST_PER_MINUTE: 3 });
    const clock = testClock(Math.ceil(Date.now() / 60_000) * 60_000 + 1_000);
    const polite = await startTestOfferserver(settings, { clock });
    const listings = await readListings(settings.LISTINGS_TOPIC);
    const imageHits = () => ['/i1.png', '/i2.png', '/i3.png'].map((p) => host.hits(p)).reduce((a, b) => a + b, 0);
    try {
      await polite.addSource({ kind: 'feed', url: `${host.url}/rss`, defaultLocation: { type: 'Point', coordinates: [13.405, 52.52] }, refreshSeconds: 600 });
      await polite.runOnce();
      // robots.txt, the feed and one image: the minute's 3 requests; the other images wait.
      expect(host.requests).toHaveLength(3);
      expect(imageHits()).toBe(1);
      await listings.caughtUp();
      expect(listings.events().filter((e) => e.type === 'listing.created' && (e.data as Listing).imageIds.length === 1)).toHaveLength(1);

      clock.advance(600_000);
      await polite.runOnce(); // the feed and the two waiting images
      expect(host.requests).toHaveLength(6);
      expect(imageHits()).toBe(3);
      expect(host.hits('/private/p.png')).toBe(0); // disallowed by robots.txt: never fetched
      await listings.caughtUp();
      expect(listings.events().filter((e) => e.type === 'listing.updated').map((e) => (e.data as Listing).imageIds.length)).toEqual([1, 1]);
    } finally {
      await listings.stop();
      await polite.stop();
      await dropDatabase(settings);
      await host.close();
    }
  });
});
