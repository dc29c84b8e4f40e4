// Real Chromium for browser tests: Debian's package (scripts/install-test-tools.sh installs it
// if it is missing), driven by playwright-core (no browser download).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium's own connections are refused by this machine's closed network.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const root = fileURLToPath(new URL('../', import.meta.url));

export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const install = spawnSync('bash', [`${root}scripts/install-test-tools.sh`], { stdio: 'inherit', timeout: 600_000 });
  if (install.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`Chromium is missing and scripts/install-test-tools.sh failed (exit ${install.status})`);
}

export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
