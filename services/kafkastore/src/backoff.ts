/**
 * Capped exponential back-off: 100 ms, 200 ms, 400 ms … 5 s, 5 s …
 * `next()` gives the delay before the next attempt; `reset()` after a success.
 */
export interface Backoff {
  next(): number;
  reset(): void;
  /** Failed attempts since the last success. */
  readonly failures: number;
}

export function createBackoff(initialMs = 100, maxMs = 5_000): Backoff {
  let failures = 0;
  return {
    next() {
      const delay = Math.min(initialMs * 2 ** Math.min(failures, 30), maxMs);
      failures++;
      return delay;
    },
    reset() {
      failures = 0;
    },
    get failures() {
      return failures;
    },
  };
}
