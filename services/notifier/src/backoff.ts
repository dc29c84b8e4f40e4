/**
 * When to try a request again: exponential back-off with "equal jitter"
 * (half the step fixed, half random), so delays grow with every attempt yet
 * retries of many requests that failed together spread out; and bounds on
 * how long and how often a request is retried. The notifier's documented
 * policy toward OneSignal, computed by the one back-off of @pushtech/service.
 */
import { backoffDelay } from '@pushtech/service';

export interface RetryPolicy {
  /** Delay after the first failed attempt is between baseMs / 2 and baseMs. */
  baseMs: number;
  /** No step is longer than this (before jitter). */
  maxMs: number;
  /** A request is tried at most this often, then it fails. */
  maxAttempts: number;
  /** A request first tried longer ago than this is not tried again, then it fails. */
  maxAgeMs: number;
}

/**
 * The delay after `attempts` failed attempts (1 after the first one): the step
 * `min(maxMs, baseMs · 2^(attempts-1))`, of which the first half is fixed and the
 * second half random. Delay n+1 is never shorter than delay n until the cap.
 */
export function retryDelay(attempts: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  return backoffDelay({ initialMs: policy.baseMs, maxMs: policy.maxMs, factor: 2, jitter: 0.5 }, attempts, random);
}

/**
 * `Retry-After` in milliseconds from `now`: delay-seconds (`"3"`, `"0.5"`) or
 * an HTTP date. Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date names its day and month ("Sun, 01 Jun 2025 10:00:07 GMT"); Date.parse alone takes "-1" too.
  if (!/^[A-Za-z]{3},/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
