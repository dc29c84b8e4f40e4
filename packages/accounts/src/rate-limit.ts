/**
 * Login rate limits: token buckets in memory, bounded. Each key (an email, an IP) holds
 * `limit` attempts that refill evenly over `windowMs`; an attempt takes one, none left means
 * "wait `retryAfterMs`". The map keeps at most `maxKeys` keys, dropping the least recently
 * used: an attacker must touch `maxKeys` other keys between two attempts on one key to make
 * it forget that key, and the per-IP limit bounds how fast one client can do that.
 */
import { isIPv6 } from 'node:net';

export interface LimitDecision {
  allowed: boolean;
  /** When not allowed: how long until the next attempt is allowed. */
  retryAfterMs: number;
}

export interface AttemptLimiterOptions {
  /** Attempts a key may make at once (the bucket's size). */
  limit: number;
  /** The time a bucket takes to refill from empty to full. */
  windowMs: number;
  /** Keys kept; beyond, the least recently used is dropped. */
  maxKeys: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class AttemptLimiter {
  readonly #limit: number;
  readonly #msPerToken: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** A Map iterates in insertion order: re-inserting on each use keeps the least recently used first. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: AttemptLimiterOptions) {
    if (!(options.limit >= 1 && options.windowMs > 0 && options.maxKeys >= 1)) throw new Error('the limiter needs limit ≥ 1, windowMs > 0, maxKeys ≥ 1');
    this.#limit = options.limit;
    this.#msPerToken = options.windowMs / options.limit;
    this.#maxKeys = options.maxKeys;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one attempt for `key` if there is one left. */
  take(key: string): LimitDecision {
    const now = this.#now();
    const bucket = this.#refilled(key, now);
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) * this.#msPerToken) };
  }

  /** Forgets `key` (a successful sign-in clears its account's failures). */
  reset(key: string): void {
    this.#buckets.delete(key);
  }

  get size(): number {
    return this.#buckets.size;
  }

  #refilled(key: string, now: number): Bucket {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return { tokens: this.#limit, at: now };
    const tokens = Math.min(this.#limit, bucket.tokens + Math.max(0, now - bucket.at) / this.#msPerToken);
    return { tokens, at: now };
  }
}

/**
 * The key of a client address: an IPv4 address as is, an IPv6 address by its /64 (one
 * subscriber usually gets a whole /64, so per-address limits would be no limit at all).
 * An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is its IPv4 address.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(ip: string): string[] {
  const address = ip.split('%')[0]!.toLowerCase();
  const [head, tail] = address.includes('::') ? address.split('::') as [string, string] : [address, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...(tail === undefined ? [] : zeros), ...right].map((group) => group.replace(/^0+(?=.)/, ''));
}
