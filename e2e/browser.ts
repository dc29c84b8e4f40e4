// Real Chromium for browser tests: Debian's package (scripts/install-test-tools.sh installs it
// if it is missing), driven by playwright-core (no browser download).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { spkiHash } from '../docker-compose/local-nginx.ts';

export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium's own connections are refused by this machine's closed network.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const root = fileURLToPath(new URL('../', import.meta.url));

export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const install = spawnSync('bash', [`${root}scripts/install-test-tools.sh`], { stdio: 'inherit', timeout: 600_000 });
  if (install.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`Chromium is missing and scripts/install-test-tools.sh failed (exit ${install.status})`);
}

/**
 * Chromium; with `trust`, a self-signed certificate (PEM, e.g. local nginx's) is accepted as if it were
 * installed, so its origin is a secure context where service workers register. (A context's
 * `ignoreHTTPSErrors` alone shows the pages but lets no service worker register.)
 */
export async function launchChromium(options: { trust?: string } = {}): Promise<Browser> {
  ensureChromium();
  const trust = options.trust === undefined ? [] : [`--ignore-certificate-errors-spki-list=${spkiHash(options.trust)}`];
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...trust], headless: true });
}
