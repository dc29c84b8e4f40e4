// The compose file's nginx.conf in a real nginx (Debian's; scripts/install-test-tools.sh installs
// it) in front of services on 127.0.0.1: the upstream addresses and the listen port are the only
// lines changed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@pushtech/testing';

const NGINX = '/usr/sbin/nginx';
const conf = readFileSync(fileURLToPath(new URL('../docker-compose/nginx.conf', import.meta.url)), 'utf8');

/** The upstream names of nginx.conf (`upstream storage { server storage:8083; … }`). */
export const NGINX_UPSTREAMS = [...conf.matchAll(/upstream (\w+)\s+\{/g)].map((match) => match[1]!);

/** The compose file's nginx.conf, pointed at 127.0.0.1 ports, with its files under `dir`. */
export function localNginxConf(dir: string, port: number, upstreams: Record<string, number>): string {
  let local = conf.replace(/listen 80;/, `listen 127.0.0.1:${port};`);
  for (const [name, upstreamPort] of Object.entries(upstreams)) {
    local = local.replace(new RegExp(`server ${name}:\\d+`), `server 127.0.0.1:${upstreamPort}`);
  }
  const left = /server [a-z]+:\d+/.exec(local);
  if (left !== null) throw new Error(`nginx.conf: upstream "${left[0]}" has no local port`);
  local = local.replace('http {', `http {\n  access_log ${dir}/access.log;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;`);
  return `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\n${local}`;
}

export interface LocalNginx {
  /** `http://127.0.0.1:<port>` */
  base: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Runs nginx.conf with each upstream at the port given (an upstream left out gets a port nobody
 * listens on); resolves once nginx answers.
 */
export async function startNginx(upstreams: Record<string, number>): Promise<LocalNginx> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: ./pushtech test installs it (scripts/install-test-tools.sh)`);
  const nobody = await freePort();
  const all = Object.fromEntries(NGINX_UPSTREAMS.map((name) => [name, upstreams[name] ?? nobody]));
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pushtech-nginx-'));
  // Started as root, nginx's workers run as nobody: they write request bodies in here.
  chmodSync(dir, 0o755);
  for (const temp of ['body', 'proxy']) mkdirSync(join(dir, temp), { mode: 0o777 });
  writeFileSync(join(dir, 'nginx.conf'), localNginxConf(dir, port, all));
  const nginx = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr!.on('data', (chunk) => (stderr += chunk));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${stderr}`);
    return (await fetch(`${base}/healthz`).catch(() => undefined))?.ok || undefined;
  }, 'nginx answering', 10_000, 50);
  return {
    base,
    dir,
    async stop() {
      if (nginx.exitCode === null) {
        nginx.kill('SIGTERM');
        await once(nginx, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
