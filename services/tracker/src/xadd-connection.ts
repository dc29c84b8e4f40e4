/**
 * The tracker's single-event XADDs, on a Redis connection of their own that
 * speaks RESP directly. Every `xadd` of one turn of the event loop goes out in
 * one socket write (sent by `setImmediate`, after the turn has read every
 * socket that was ready); Redis answers in order, and each answer settles its
 * call.
 *
 * Why not ioredis here: at 13,000 events/s its per-command objects (command,
 * arguments, promise, queue entry) were promoted out of the young generation,
 * and the tracker's scavenges took 2–7 ms each — the p99 of a request
 * (0.5 ms with the XADDs stubbed out). This connection keeps no reference to
 * an entry once it is in the turn's command string (keeping the entries in
 * the batch until answered promoted ~650 bytes per event: sampling heap
 * profile of objects surviving minor GCs), and keeps one callback pair per
 * call. Batch requests (MULTI), XLEN and health checks keep using ioredis.
 *
 * Failure rules, as the tracker's ioredis client has them: while the
 * connection is down a call fails at once (nothing is queued to be written
 * after its caller was answered 503); calls whose answer has not come within
 * `timeoutMs` fail, and the connection is dropped (so no late answer can be
 * taken for another call's) and made again with back-off (`RECONNECT_BACKOFF`).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Logger } from '@pushtech/logging';
import { backoffDelay, type BackoffPolicy } from '@pushtech/service';

export interface XaddConnectionOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` */
  url: string;
  /** The connection's name in Redis's CLIENT LIST. */
  name: string;
  stream: string;
  field: string;
  timeoutMs: number;
  logger: Logger;
  /** For `rediss://`: more TLS options (e.g. `ca` for a private CA); by default Node's trusted CAs verify the server. */
  tls?: ConnectionOptions;
  /** Told after each write was answered: how many entries, in how many seconds. */
  onFlush?(entries: number, seconds: number): void;
}

export interface XaddConnection {
  /** Resolves once Redis holds the entry; rejects when Redis is unreachable, refuses it or does not answer in time. */
  xadd(entry: string): Promise<void>;
  /** Connected now: a call would be written. */
  readonly ready: boolean;
  /** Resolves true once connected, false after `timeoutMs` (the connection keeps trying). */
  whenReady(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Between attempts to connect again after the connection was lost. */
export const RECONNECT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 2_000 };

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/** A RESP command: an array of bulk strings. */
export function respCommand(args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/** The commands that open a connection: AUTH when the URL has a password, the connection's name, SELECT when the URL names a database. */
export function handshake(url: URL, name: string): string[][] {
  const commands: string[][] = [];
  const password = decodeURIComponent(url.password);
  const username = decodeURIComponent(url.username);
  if (password !== '') commands.push(username !== '' ? ['AUTH', username, password] : ['AUTH', password]);
  commands.push(['CLIENT', 'SETNAME', name]);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && db !== '0') commands.push(['SELECT', db]);
  return commands;
}

/**
 * Reads RESP replies from `buffer` (latin1: one character per byte, so bulk
 * lengths count right); returns each reply as an error message or null (not
 * an error), and what is left of the buffer.
 */
export function readReplies(buffer: string): { replies: (string | null)[]; rest: string } {
  const replies: (string | null)[] = [];
  let at = 0;
  for (;;) {
    const end = buffer.indexOf('\r\n', at);
    if (end < 0) break;
    const kind = buffer[at];
    if (kind === '$') {
      const length = Number(buffer.slice(at + 1, end));
      const next = length < 0 ? end + 2 : end + 2 + length + 2;
      if (buffer.length < next) break;
      replies.push(null);
      at = next;
    } else if (kind === '+' || kind === ':' || kind === '-') {
      replies.push(kind === '-' ? buffer.slice(at + 1, end) : null);
      at = end + 2;
    } else {
      throw new Error(`unexpected reply from redis: ${JSON.stringify(buffer.slice(at, end))}`);
    }
  }
  return { replies, rest: buffer.slice(at) };
}

export function connectXadd(options: XaddConnectionOptions): XaddConnection {
  const url = new URL(options.url);
  const openingCommands = handshake(url, options.name);
  const opening = openingCommands.map(respCommand).join('');
  const prefix = respCommand(['XADD', options.stream, '*', options.field, '']).slice(0, -'$0\r\n\r\n'.length);
  let socket: Socket | undefined;
  let ready = false;
  let closed = false;
  let failures = 0;
  let received = '';
  // The commands of this turn, and who waits for their answers.
  let pendingOut = '';
  let pendingWaiters: Waiter[] = [];
  const waiting: Waiter[] = [];
  const onReady: (() => void)[] = [];

  function fail(reason: Error): void {
    ready = false;
    for (const waiter of waiting.splice(0)) waiter.reject(reason);
    pendingOut = '';
    for (const waiter of pendingWaiters.splice(0)) waiter.reject(reason);
  }

  function open(): void {
    if (closed) return;
    const port = Number(url.port || 6379);
    const host = url.hostname;
    const next = url.protocol === 'rediss:' ? tlsConnect({ host, port, servername: host, ...options.tls }) : tcpConnect({ host, port });
    socket = next;
    next.setNoDelay(true);
    next.setEncoding('latin1');
    next.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      received = '';
      for (const [command] of openingCommands) {
        waiting.push({ resolve() {}, reject: (err) => options.logger.error({ err: err.message, command }, 'redis refused the connection handshake') });
      }
      if (opening !== '') next.write(opening);
      ready = true;
      failures = 0;
      for (const resolve of onReady.splice(0)) resolve();
      options.logger.info('xadd connection to redis ready');
    });
    next.on('data', (chunk: string) => {
      let read;
      try {
        read = readReplies(received + chunk);
      } catch (err) {
        next.destroy(err as Error);
        return;
      }
      received = read.rest;
      for (const reply of read.replies) {
        const waiter = waiting.shift();
        if (reply === null) waiter?.resolve();
        else waiter?.reject(new Error(reply));
      }
    });
    next.on('error', () => {}); // 'close' follows and says it
    next.once('close', () => {
      if (socket === next) socket = undefined;
      fail(new Error('the connection to redis was lost'));
      if (closed) return;
      failures += 1;
      setTimeout(open, backoffDelay(RECONNECT_BACKOFF, failures)).unref();
    });
  }

  function flush(): void {
    const out = pendingOut;
    const batch = pendingWaiters;
    pendingOut = '';
    pendingWaiters = [];
    if (!ready || socket === undefined) {
      for (const waiter of batch) waiter.reject(new Error('redis is unreachable'));
      return;
    }
    for (const waiter of batch) waiting.push(waiter);
    const entries = batch.length;
    const started = performance.now();
    const current = socket;
    current.write(out);
    // Cleared when the batch's last answer comes (or the connection is lost first).
    const timer = setTimeout(() => {
      if (socket === current) current.destroy(new Error(`redis did not answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    timer.unref();
    const lastWaiter = batch[entries - 1]!;
    const settle = lastWaiter.resolve;
    const refuse = lastWaiter.reject;
    lastWaiter.resolve = () => {
      clearTimeout(timer);
      options.onFlush?.(entries, (performance.now() - started) / 1000);
      settle();
    };
    lastWaiter.reject = (err) => {
      clearTimeout(timer);
      refuse(err);
    };
  }

  open();

  return {
    xadd(entry) {
      return new Promise<void>((resolve, reject) => {
        if (!ready) {
          reject(new Error('redis is unreachable'));
          return;
        }
        if (pendingWaiters.length === 0) setImmediate(flush);
        pendingOut += `${prefix}$${Buffer.byteLength(entry)}\r\n${entry}\r\n`;
        pendingWaiters.push({ resolve, reject });
      });
    },
    get ready() {
      return ready;
    },
    whenReady(timeoutMs) {
      if (ready) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        onReady.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
    close() {
      closed = true;
      socket?.end();
      fail(new Error('the xadd connection was closed'));
    },
  };
}
