/**
 * The one back-off of the code base: exponential, capped, with jitter, stoppable by an AbortSignal.
 * Every retry loop (dependencies at start, producers, consumers, the notifier's queue) uses it.
 */

export interface BackoffPolicy {
  /** Delay after the first failure. */
  initialMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /** Growth per failure (default 2). */
  factor?: number;
  /**
   * Share of the delay that is random (default 0.5: "equal jitter", between half and the whole
   * delay). 0 gives exact delays; 1 is "full jitter" (anywhere between 0 and the delay).
   */
  jitter?: number;
}

/** The delay before attempt `failures + 1`, after `failures` (≥ 1) failures in a row. */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const jitter = policy.jitter ?? 0.5;
  // Capping the exponent first keeps a long outage from overflowing to Infinity.
  const exponent = Math.min(Math.max(failures - 1, 0), 64);
  const delay = Math.min(policy.maxMs, policy.initialMs * factor ** exponent);
  return Math.round(delay * (1 - jitter + jitter * random()));
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions {
  policy: BackoffPolicy;
  /** Stops retrying: the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after each failure with the delay before the next attempt (log it here). */
  onFailure?: (err: unknown, failures: number, delayMs: number) => void;
  /** A failure this returns false for is not retried (default: every failure is retried). */
  retryable?: (err: unknown) => boolean;
  /** At most this many attempts (default: until it succeeds or the signal aborts). */
  maxAttempts?: number;
  random?: () => number;
}

/** Calls `attempt` until it resolves, sleeping `backoffDelay` between failures. */
export async function retry<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let failures = 0; ; ) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(failures + 1);
    } catch (err) {
      failures += 1;
      if (options.retryable?.(err) === false || failures >= (options.maxAttempts ?? Infinity)) throw err;
      const delayMs = backoffDelay(options.policy, failures, options.random);
      options.onFailure?.(err, failures, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}
