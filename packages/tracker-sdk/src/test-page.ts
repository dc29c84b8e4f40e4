/**
 * For the browser tests and `bench:sdk`: a small static server for a page that loads the built
 * browser bundle (esbuild, as `npm run build` makes it) and puts `createBrowserTracker(options)`
 * on `window.tracker`, the options coming from the page's `?options=<JSON>`.
 * Also the Chromium to drive it: Debian's, through playwright-core.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { buildBundles } from '../scripts/build.ts';
import type { BrowserTrackerOptions } from './browser.ts';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium's own connections are refused by this machine's closed network.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const root = fileURLToPath(new URL('../../../', import.meta.url));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>tracker-sdk test page</title>
<script type="module">
  import { createBrowserTracker } from '/tracker-sdk.browser.js';
  const options = JSON.parse(new URLSearchParams(location.search).get('options') ?? '{}');
  window.tracker = createBrowserTracker(options);
</script>`;

export interface TestPageServer {
  /** The page's origin (what the tracker's CORS_ORIGINS must list). */
  origin: string;
  /** The page's URL for these tracker options. */
  pageUrl(options: Partial<BrowserTrackerOptions> & { endpoint: string }): string;
  close(): Promise<void>;
}

export async function startTestPageServer(): Promise<TestPageServer> {
  const bundle = (await buildBundles()).find((b) => b.file === 'tracker-sdk.browser.js')!.code;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    else if (path === '/tracker-sdk.browser.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // "localhost", not the tracker's 127.0.0.1: the page and the tracker are different origins, as on a real site.
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    pageUrl: (options) => `${origin}/?options=${encodeURIComponent(JSON.stringify(options))}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Debian's Chromium (installed by scripts/install-test-tools.sh if missing), headless. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    const install = spawnSync('bash', [`${root}scripts/install-test-tools.sh`], { stdio: 'inherit', timeout: 600_000 });
    if (install.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`Chromium is missing and scripts/install-test-tools.sh failed (exit ${install.status})`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
