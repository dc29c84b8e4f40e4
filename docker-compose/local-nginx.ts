// The compose file's nginx.conf run by a real nginx (Debian's; scripts/install-test-tools.sh
// installs it) on 127.0.0.1, with a self-signed certificate made for the run: for tests, the
// website's browser tests, `bench:web` and the demo. Only what ties the file to the containers
// changes: listen ports, upstream addresses and the paths of its files.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@pushtech/testing';

const NGINX = '/usr/sbin/nginx';
const conf = readFileSync(fileURLToPath(new URL('nginx.conf', import.meta.url)), 'utf8');

/** The upstream names of nginx.conf (`upstream storage { server storage:8083; … }`). */
export const NGINX_UPSTREAMS = [...conf.matchAll(/upstream (\w+)\s+\{/g)].map((match) => match[1]!);

/** Where an upstream's service listens on 127.0.0.1: one port, or several (a service being rolled). */
export type UpstreamPorts = number | number[];

/** Replaces `from` in `text`, failing when it is not there (the conf changed under the test). */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  if (!(typeof from === 'string' ? text.includes(from) : from.test(text))) throw new Error(`nginx.conf no longer has ${String(from)}`);
  return text.replace(from, to);
}

/** The compose file's nginx.conf with `upstreams` (name → ports on 127.0.0.1) and its files under `dir`. */
export function localNginxConf(dir: string, ports: { http: number; https: number }, upstreams: Record<string, UpstreamPorts>): string {
  let local = replaceOnce(conf, 'listen 80;', `listen 127.0.0.1:${ports.http};`);
  local = replaceOnce(local, 'listen 443 ssl http2;', `listen 127.0.0.1:${ports.https} ssl http2;`);
  local = local.replaceAll('/etc/nginx/tls/', `${dir}/tls/`).replaceAll('/etc/nginx/maintenance/', `${dir}/maintenance/`);
  local = replaceOnce(local, 'access_log /dev/stdout json;', `access_log ${dir}/access.log json;`);
  for (const [name, servers] of Object.entries(upstreams)) {
    local = replaceOnce(local, new RegExp(`server ${name}:\\d+;`), [servers].flat().map((port) => `server 127.0.0.1:${port};`).join(' '));
  }
  if (/server [a-z]+:\d+/.test(local)) throw new Error(`an upstream is not rewritten: ${/server [a-z]+:\d+/.exec(local)![0]}`);
  local = replaceOnce(local, 'http {', `http {\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;`);
  return `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\n${local}`;
}

export interface LocalNginx {
  /** `http://127.0.0.1:port`: the port-80 server (redirects). */
  readonly http: string;
  /** `https://127.0.0.1:port`. */
  readonly https: string;
  /** The self-signed certificate nginx presents (PEM): a client's `ca`. */
  readonly ca: string;
  readonly dir: string;
  /** Creates or removes the maintenance flag file. */
  maintenance(on: boolean): void;
  /** Writes the conf with these upstreams changed and reloads nginx (`nginx -s reload`, as in compose). */
  reload(changed: Record<string, UpstreamPorts>): Promise<void>;
  /** The JSON lines of the access log so far. */
  accessLog(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
function selfSignedCertificate(tlsDir: string): void {
  mkdirSync(tlsDir, { recursive: true });
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(tlsDir, 'tls.key'), '-out', join(tlsDir, 'tls.crt'),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Runs nginx.conf with each upstream at the ports given; an upstream left out gets a port nobody
 * listens on (nginx answers its paths 502). Resolves once nginx answers.
 */
export async function startLocalNginx(given: Record<string, UpstreamPorts>): Promise<LocalNginx> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: ./pushtech test installs it (scripts/install-test-tools.sh)`);
  const unknown = Object.keys(given).filter((name) => !NGINX_UPSTREAMS.includes(name));
  if (unknown.length > 0) throw new Error(`nginx.conf has no upstream ${unknown.join(', ')} (it has ${NGINX_UPSTREAMS.join(', ')})`);
  const nobody = await freePort();
  const upstreams: Record<string, UpstreamPorts> = { ...Object.fromEntries(NGINX_UPSTREAMS.map((name) => [name, nobody])), ...given };
  const dir = mkdtempSync(join(tmpdir(), 'pushtech-nginx-'));
  // Started as root, nginx's workers run as nobody: they write request bodies in here.
  chmodSync(dir, 0o755);
  for (const temp of ['body', 'proxy']) mkdirSync(join(dir, temp), { mode: 0o777 });
  mkdirSync(join(dir, 'maintenance'));
  selfSignedCertificate(join(dir, 'tls'));
  const ports = { http: await freePort(), https: await freePort() };
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, localNginxConf(dir, ports, upstreams));
  const nginx: ChildProcess = spawn(NGINX, ['-c', confFile, '-p', dir, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr!.on('data', (chunk) => (stderr += chunk));
  const http = `http://127.0.0.1:${ports.http}`;
  await waitFor(async () => {
    if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${stderr}`);
    return (await fetch(`${http}/healthz`).catch(() => undefined))?.ok || undefined;
  }, 'nginx answering', 10_000, 50);
  const flag = join(dir, 'maintenance', 'on');
  return {
    http,
    https: `https://127.0.0.1:${ports.https}`,
    ca: readFileSync(join(dir, 'tls', 'tls.crt'), 'utf8'),
    dir,
    maintenance(on) {
      if (on) writeFileSync(flag, '');
      else rmSync(flag, { force: true });
    },
    async reload(changed) {
      Object.assign(upstreams, changed);
      writeFileSync(confFile, localNginxConf(dir, ports, upstreams));
      const reloaded = spawn(NGINX, ['-c', confFile, '-p', dir, '-s', 'reload'], { stdio: 'ignore' });
      const [code] = await once(reloaded, 'exit');
      if (code !== 0) throw new Error(`nginx -s reload exited ${code}`);
    },
    accessLog() {
      const file = join(dir, 'access.log');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    async stop() {
      if (nginx.exitCode === null) {
        nginx.kill('SIGTERM');
        await once(nginx, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * This process's TLS clients (Node's fetch among them) trust `ca` from now on, as if it were
 * installed; connections open already keep the trust they had.
 */
export function trustInThisProcess(ca: string): void {
  setDefaultCACertificates([...getCACertificates('default'), ca]);
}

/**
 * How Chromium names a certificate it is told to trust (`--ignore-certificate-errors-spki-list`):
 * the SHA-256 of its public key (SPKI), base64.
 */
export function spkiHash(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

export interface H2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text, and as it came. */
  body: string;
  bytes: Buffer;
}

export interface H2Client {
  readonly session: ClientHttp2Session;
  request(path: string, options?: { method?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<H2Answer>;
  close(): void;
}

/**
 * An HTTP/2 client of `origin` that trusts `ca` (fetch speaks HTTP/1.1 and trusts only the system's
 * CAs). Like a browser, it opens a new connection once nginx has said GOAWAY (a reload does), and
 * sends again a request that the old connection refused before nginx took it (RFC 9113 §8.7).
 */
export function h2Client(origin: string, ca: string, options: { localAddress?: string } = {}): H2Client {
  let session = open();
  function open(): ClientHttp2Session {
    const opened = connect(origin, { ca, ...options });
    opened.on('error', () => {});
    opened.on('goaway', () => opened.close());
    return opened;
  }
  function current(): ClientHttp2Session {
    if (session.closed || session.destroyed) session = open();
    return session;
  }
  function once(path: string, { method = 'GET', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<H2Answer> {
    return new Promise((resolve, reject) => {
      const stream = current().request({ ':method': method, ':path': path, ...headers });
      const chunks: Buffer[] = [];
      let answer: IncomingHttpHeaders | undefined;
      stream.on('response', (h) => (answer = h));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      const answered = () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: Number(answer?.[':status']), headers: answer ?? {}, body: bytes.toString('utf8'), bytes });
      };
      stream.on('end', answered);
      // nginx may answer (a 413) before it has read the whole body, then reset the stream.
      stream.on('error', (err) => (answer ? answered() : reject(err)));
      stream.end(body);
    });
  }
  /** Refused before the server took it: no stream made on a closing connection, or a stream it refused. */
  const unprocessed = (err: unknown) => ['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION'].includes((err as { code?: string }).code ?? '') || /NGHTTP2_REFUSED_STREAM/.test(String(err));
  return {
    get session() {
      return current();
    },
    async request(path, requestOptions = {}) {
      try {
        return await once(path, requestOptions);
      } catch (err) {
        if (!unprocessed(err)) throw err;
        return once(path, requestOptions);
      }
    },
    close: () => session.close(),
  };
}
