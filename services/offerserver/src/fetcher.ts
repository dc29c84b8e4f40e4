/**
 * One guarded HTTP GET: http(s) only, addresses checked after DNS (private, loopback and
 * link-local refused unless allowed: SSRF), redirects followed up to a bound and checked again,
 * one deadline for the whole exchange, the body read up to a size limit.
 */
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface FetchOptions {
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  allowPrivate: boolean;
  headers?: Record<string, string>;
}

export interface FetchResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** After redirects. */
  url: string;
}

export type FetchErrorCode = 'bad_url' | 'refused_address' | 'too_many_redirects' | 'too_large' | 'timeout' | 'network';

export class FetchError extends Error {
  readonly code: FetchErrorCode;
  constructor(code: FetchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FetchError';
    this.code = code;
  }
}

/** Public unicast only: no private, loopback, link-local, unique-local, multicast, reserved… */
export function isPublicAddress(address: string): boolean {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as Array<{ address: string; family: number }>;
      const refused = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (refused !== undefined) {
        return callback(new FetchError('refused_address', `${hostname} resolves to ${refused.address}, a private or local address`), '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

function checkUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchError('bad_url', `not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchError('bad_url', `only http and https are fetched, not ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !allowPrivate && !isPublicAddress(host)) throw new FetchError('refused_address', `${host} is a private or local address`);
  return url;
}

function getOnce(url: URL, options: FetchOptions, signal: AbortSignal): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.get(url, {
      headers: { 'user-agent': options.userAgent, accept: '*/*', ...options.headers },
      lookup: guardedLookup(options.allowPrivate),
      signal,
    }, (response) => {
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        response.destroy();
        return reject(new FetchError('too_large', `the body is ${declared} bytes, over the limit of ${options.maxBytes}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          response.destroy();
          reject(new FetchError('too_large', `the body is over the limit of ${options.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), url: url.href }));
      response.on('error', reject);
    });
    request.on('error', (err) => {
      if (err instanceof FetchError) return reject(err);
      if (signal.aborted) return reject(new FetchError('timeout', `no complete answer within ${options.timeoutMs} ms`, { cause: err }));
      reject(new FetchError('network', err.message, { cause: err }));
    });
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchUrl(raw: string, options: FetchOptions): Promise<FetchResult> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = checkUrl(raw, options.allowPrivate);
  for (let redirects = 0; ; redirects += 1) {
    const result = await getOnce(url, options, signal).catch((err: unknown) => {
      if (signal.aborted && !(err instanceof FetchError && err.code !== 'network')) throw new FetchError('timeout', `no complete answer within ${options.timeoutMs} ms`, { cause: err });
      throw err;
    });
    const location = result.headers.location;
    if (!REDIRECTS.has(result.status) || location === undefined) return result;
    if (redirects >= options.maxRedirects) throw new FetchError('too_many_redirects', `more than ${options.maxRedirects} redirects`);
    url = checkUrl(new URL(location, url).href, options.allowPrivate);
  }
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
