/**
 * Tracker ingest benchmark: events/s and p50/p99 latency for a GET beacon, a POST
 * single event and a POST batch of 50, next to a bare Fastify route answering 204
 * (the ceiling) and to the same bare route that also waits for one XADD per event
 * (`bare_xadd_vs_bare_ratio`: the ceiling of any tracker that answers once Redis has
 * the event, on this machine); then the tracker's p99 at half of its measured maximum
 * rate, and the bare route's at the same pace (what the machine and the generator add
 * on their own).
 *
 *   node bench/ingest-tracker.ts [--duration 5]
 *
 * Needs the local Redis (REDIS_URL, default the stack's). Servers run in child
 * processes on 127.0.0.1; the load comes from this process: autocannon for the
 * maximum rates (closed loop), an evenly paced raw-socket loop for the half-load
 * run (open loop, latency counted from each request's scheduled time). Next to
 * each rate: the server's CPU time per event, which stays comparable when other
 * processes share the machine's cores and the rates do not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { STREAM_FIELD } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { createLogger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import { freePort, stackAddresses, uniqueName, waitFor } from '@pushtech/testing';
import { connectXadd } from '../services/tracker/src/xadd-connection.ts';

const trackerEntry = fileURLToPath(new URL('../services/tracker/src/index.ts', import.meta.url));
const thisFile = fileURLToPath(import.meta.url);

export interface TrackerBenchOptions {
  /** Seconds per measured case (default 5); each case is preceded by a 1 s warm-up. */
  durationS?: number;
  connections?: number;
  redisUrl?: string;
  /** Progress lines; the figures are returned, not printed. */
  log?: (line: string) => void;
}

/** Figure name → value; each name ends in its unit (`_per_s`, `_ms`, `_us_per_event`, `_ratio`). */
export type Figures = Record<string, number>;

interface Measured {
  eventsPerS: number;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  /** Server CPU time per event during the run: comparable even when other processes share the cores. */
  cpuUsPerEvent: number;
}

interface Load {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  eventsPerRequest?: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** CPU seconds a process has used so far (Linux /proc; USER_HZ is 100 on every common kernel). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export async function startServer(args: string[], env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined), `server on port ${port}`, 15_000, 100);
  return child;
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Closed loop: `connections` keep-alive connections, each sending its next request as soon as the last is answered. */
async function maxRate(load: Load, durationS: number, connections: number, serverPid: number): Promise<Measured> {
  const options = { url: load.url, method: load.method ?? 'GET', headers: load.headers, body: load.body, connections };
  await autocannon({ ...options, duration: 1 }); // warm-up: JIT, connection pools
  // autocannon's own percentiles are whole milliseconds: keep each response's exact time instead.
  const latencies: number[] = [];
  const cpuBefore = cpuSeconds(serverPid);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon({ ...options, duration: durationS }, (err, result) => (err ? reject(err) : resolve(result)));
    run.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 300) latencies.push(responseTime);
    });
  });
  const cpuUsed = cpuSeconds(serverPid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const requestsPerS = result['2xx'] / durationS;
  const events = result['2xx'] * (load.eventsPerRequest ?? 1);
  return {
    requestsPerS,
    eventsPerS: requestsPerS * (load.eventsPerRequest ?? 1),
    cpuUsPerEvent: (cpuUsed * 1e6) / events,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

const PACED_MAX_SOCKETS = 256;

/**
 * Open loop: requests sent evenly at `ratePerS`, one in flight per keep-alive socket
 * (a new socket when all are busy); latency counted from when each request was due, so
 * a stall counts for everything it delays. The first `warmUpS` seconds run at the same
 * pace on the same sockets and are not counted: they open the connections (a cold
 * start measured its connects: most of its slow requests came in its first 100 ms). Raw sockets and one pre-encoded request keep
 * the generator's own CPU cost per request at about half an HTTP client library's,
 * which matters when generator, server and Redis share two cores.
 */
async function pacedRate(load: Load, ratePerS: number, durationS: number, serverPid: number, warmUpS = 1): Promise<Measured> {
  const url = new URL(load.url);
  const body = load.body ?? '';
  const head = [
    `${load.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1`,
    `host: ${url.host}`,
    ...Object.entries(load.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    ...(body ? [`content-length: ${Buffer.byteLength(body)}`] : []),
  ].join('\r\n');
  const request = Buffer.from(`${head}\r\n\r\n${body}`);

  const warmUp = Math.round(ratePerS * warmUpS);
  const total = warmUp + Math.round(ratePerS * durationS);
  const latencies: number[] = [];
  let failed = 0;
  let finished = 0;
  let allFinished!: () => void;
  const finishedAll = new Promise<void>((resolve) => (allFinished = resolve));
  const finish = () => {
    if (++finished === total) allFinished();
  };

  interface Connection { send(due: number): void }
  const sockets: Socket[] = [];
  const idle: Connection[] = [];
  const backlog: number[] = []; // due times of requests waiting for a socket

  function connect(): Connection {
    const socket = createConnection({ host: url.hostname, port: Number(url.port), noDelay: true });
    sockets.push(socket);
    let due = 0;
    let busy = false;
    let received: Buffer = Buffer.alloc(0);
    const connection: Connection = {
      send(when) {
        due = when;
        busy = true;
        socket.write(request);
      },
    };
    socket.on('data', (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const headerEnd = received.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const headers = received.subarray(0, headerEnd).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
      if (received.length < headerEnd + 4 + length) return;
      received = Buffer.alloc(0);
      busy = false;
      if (due >= measuredFrom) {
        if (Number(headers.slice(9, 12)) < 300) latencies.push(performance.now() - due);
        else failed++;
      }
      finish();
      const next = backlog.shift();
      if (next === undefined) idle.push(connection);
      else connection.send(next);
    });
    socket.once('error', () => {
      if (idle.includes(connection)) idle.splice(idle.indexOf(connection), 1);
      if (busy) {
        if (due >= measuredFrom) failed++;
        finish();
      }
    });
    return connection;
  }

  const intervalMs = 1000 / ratePerS;
  const start = performance.now();
  const measuredFrom = start + warmUp * intervalMs;
  let cpuBefore = Number.NaN;
  for (let sent = 0; sent < total; sent++) {
    if (sent === warmUp) cpuBefore = cpuSeconds(serverPid);
    const due = start + sent * intervalMs;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    const connection = idle.pop() ?? (sockets.length < PACED_MAX_SOCKETS ? connect() : undefined);
    if (connection) connection.send(due);
    else backlog.push(due);
  }
  await Promise.race([finishedAll, sleep(30_000).then(() => Promise.reject(new Error('paced run: answers missing 30 s after the last request')))]);
  const elapsedS = (performance.now() - measuredFrom) / 1000;
  const cpuUsed = cpuSeconds(serverPid) - cpuBefore;
  for (const socket of sockets) socket.destroy();
  latencies.sort((a, b) => a - b);
  const requestsPerS = latencies.length / elapsedS;
  return {
    requestsPerS,
    eventsPerS: requestsPerS * (load.eventsPerRequest ?? 1),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failed,
    cpuUsPerEvent: (cpuUsed * 1e6) / (latencies.length * (load.eventsPerRequest ?? 1)),
  };
}

/**
 * Empties the bench's stream and, when Redis keeps an append-only file, has it
 * rewritten before the next case. In production the kafkastore keeps the stream
 * short; here nothing drains it, and a max-rate case leaves a few hundred MB of
 * log, so Redis would fork a rewrite in the middle of the next case (a pause of
 * several ms, then a child busy on one of the two cores): the case would measure
 * the previous one's leftovers.
 */
async function freshStream(redis: Redis, stream: string): Promise<void> {
  await redis.del(stream);
  if (!/aof_enabled:1/.test(await redis.info('persistence'))) return;
  await redis.bgrewriteaof().catch(() => {}); // refused while a rewrite runs: wait for that one
  await waitFor(async () => {
    const info = await redis.info('persistence');
    return /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info) ? true : undefined;
  }, 'the append-only file rewrite', 60_000, 50);
}

function batchOf(n: number): string {
  return JSON.stringify(
    Array.from({ length: n }, (_, i) => ({ type: 'page.view', data: { path: `/p/${i}`, ms: i * 10 }, anonymousId: `a-${i % 7}` })),
  );
}

export async function benchTracker(options: TrackerBenchOptions = {}): Promise<Figures> {
  const durationS = options.durationS ?? 5;
  const connections = options.connections ?? 32;
  const log = options.log ?? (() => {});
  const redisUrl = options.redisUrl ?? stackAddresses().redisUrl;
  const stream = uniqueName('bench:tracker:');
  const redis = createRedis(redisUrl, { connectionName: 'bench-tracker' });
  const figures: Figures = {};
  const report = (name: string, m: Measured) => {
    const cpu = Number.isFinite(m.cpuUsPerEvent) ? `  server CPU ${m.cpuUsPerEvent.toFixed(1)} µs/event` : '';
    log(`${name.padEnd(18)} ${Math.round(m.eventsPerS).toString().padStart(8)} events/s ${Math.round(m.requestsPerS).toString().padStart(7)} req/s  p50 ${m.p50Ms.toFixed(2).padStart(6)} ms  p99 ${m.p99Ms.toFixed(2).padStart(7)} ms${cpu}${m.failed ? `  (${m.failed} failed)` : ''}`);
  };
  const record = (name: string, m: Measured) => {
    report(name, m);
    figures[`${name}_events_per_s`] = Math.round(m.eventsPerS);
    figures[`${name}_p50_ms`] = round(m.p50Ms);
    figures[`${name}_p99_ms`] = round(m.p99Ms);
    figures[`${name}_cpu_us_per_event`] = round(m.cpuUsPerEvent, 1);
  };

  const barePort = await freePort();
  const bare = await startServer([thisFile, '--bare-server', String(barePort)], {}, barePort);
  const bareBeacon: Load = { url: `http://127.0.0.1:${barePort}/t/page.view?path=%2Fhome&anonymousId=a-1` };
  let bareGet: Measured;
  try {
    bareGet = await maxRate(bareBeacon, durationS, connections, bare.pid!);
    record('bare_get', bareGet);
  } catch (err) {
    await stopServer(bare);
    throw err;
  }

  // The tracker's floor on this machine: the bare route plus the one Redis write per event the tracker must wait for.
  const bareXaddPort = await freePort();
  const bareXadd = await startServer([thisFile, '--bare-server', String(bareXaddPort), redisUrl, stream], {}, bareXaddPort);
  try {
    await freshStream(redis, stream);
    record('bare_xadd_get', await maxRate({ ...bareBeacon, url: `http://127.0.0.1:${bareXaddPort}/t/page.view?path=%2Fhome&anonymousId=a-1` }, durationS, connections, bareXadd.pid!));
  } finally {
    await stopServer(bareXadd);
  }

  const trackerPort = await freePort();
  const tracker = await startServer([trackerEntry], {
    PORT: String(trackerPort),
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    REDIS_STREAM: stream,
    TRACKER_ID: 'bench',
    STREAM_HIGH_WATER_MARK: '100000000', // the bench measures ingest, not back-pressure
    LOG_LEVEL: 'warn',
  }, trackerPort);
  const base = `http://127.0.0.1:${trackerPort}`;
  const beacon: Load = { url: `${base}/t/page.view?path=%2Fhome&anonymousId=a-1`, headers: { 'user-agent': 'bench/1.0' } };
  try {
    await freshStream(redis, stream);
    const get = await maxRate(beacon, durationS, connections, tracker.pid!);
    record('tracker_get', get);
    await freshStream(redis, stream);
    record('tracker_post', await maxRate({
      url: `${base}/t/page.view?anonymousId=a-1`,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'bench/1.0' },
      body: JSON.stringify({ path: '/home', ms: 1200, referrer: 'https://example.com/' }),
    }, durationS, connections, tracker.pid!));
    await freshStream(redis, stream);
    const batch = await maxRate({
      url: `${base}/t/batch`,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'bench/1.0' },
      body: batchOf(50),
      eventsPerRequest: 50,
    }, durationS, connections, tracker.pid!);
    record('tracker_batch50', batch);
    figures.tracker_batch50_requests_per_s = Math.round(batch.requestsPerS);
    await freshStream(redis, stream);

    const halfRate = Math.round(get.requestsPerS / 2);
    const half = await pacedRate(beacon, halfRate, durationS, tracker.pid!);
    report(`tracker_get @${halfRate}/s`, half);
    // The floor of this machine and generator at the same pace: the bare route (its server idles meanwhile).
    const bareHalf = await pacedRate(bareBeacon, halfRate, durationS, bare.pid!);
    report(`bare_get @${halfRate}/s`, bareHalf);
    figures.bare_p99_ms_at_half_load = round(bareHalf.p99Ms);
    if (half.requestsPerS < 0.95 * halfRate) {
      log(`note: only ${Math.round(half.requestsPerS)} of ${halfRate} requests/s were answered: the machine (load generator and other processes included) could not keep the pace, so the half-load latencies measure a backlog`);
    }
    figures.tracker_half_load_rate_per_s = halfRate;
    // Below the target rate means the machine (load generator included) could not keep up: the latencies then mean little.
    figures.tracker_half_load_achieved_per_s = Math.round(half.requestsPerS);
    figures.tracker_p50_ms_at_half_load = round(half.p50Ms);
    figures.tracker_p99_ms_at_half_load = round(half.p99Ms);
  } finally {
    await stopServer(tracker);
    await stopServer(bare);
    await redis.del(stream);
    redis.disconnect();
  }
  figures.tracker_vs_bare_ratio = round(figures.tracker_get_events_per_s! / figures.bare_get_events_per_s!, 3);
  figures.bare_xadd_vs_bare_ratio = round(figures.bare_xadd_get_events_per_s! / figures.bare_get_events_per_s!, 3);
  figures.tracker_vs_bare_xadd_ratio = round(figures.tracker_get_events_per_s! / figures.bare_xadd_get_events_per_s!, 3);
  return figures;
}

/**
 * The ceiling: Fastify answering 204 on the same path, no work at all. With a
 * Redis URL and stream, the floor of the tracker's own design instead: the same
 * route, answered once Redis has one XADD of a fixed envelope-sized entry, on the
 * tracker's XADD connection, and no checks, envelope or metrics.
 */
async function serveBare(port: number, redisUrl?: string, stream?: string): Promise<void> {
  const app = Fastify();
  app.get('/healthz', async () => ({ status: 'ok' }));
  if (redisUrl === undefined || stream === undefined) {
    app.get('/t/:type', async (_request, reply) => reply.code(204).send());
  } else {
    const logger = createLogger('bench-bare-xadd', 'warn');
    const xadd = connectXadd({ url: redisUrl, name: 'bench/bare-xadd', stream, field: STREAM_FIELD, timeoutMs: 1_000, logger });
    const entry = JSON.stringify(createEnvelope({
      source: 'tracker/bench',
      type: 'page.view',
      subject: 'a-1',
      data: { path: '/home', context: { ip: '127.0.0.1', userAgent: 'bench/1.0', anonymousId: 'a-1' } },
    }));
    await xadd.whenReady(5_000);
    app.get('/t/:type', async (_request, reply) => {
      await xadd.xadd(entry);
      return reply.code(204).send();
    });
    app.addHook('onClose', async () => xadd.close());
  }
  await app.listen({ port, host: '127.0.0.1' });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

if (process.argv[1] === thisFile) {
  const args = process.argv.slice(2);
  if (args[0] === '--bare-server') {
    await serveBare(Number(args[1]), args[2], args[3]);
  } else {
    const { values } = parseArgs({ args, options: { duration: { type: 'string', default: '5' } } });
    const durationS = Number(values.duration);
    const figures = await benchTracker({ durationS, log: (line) => console.log(line) });
    console.log('');
    for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
  }
}
