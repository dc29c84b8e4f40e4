/**
 * The rate limit toward OneSignal: sends start at least 1000 / perSecond ms
 * apart (no bursts after a quiet spell), and none before a `Retry-After`
 * that OneSignal asked for. `perSecond` 0 switches the spacing off; the
 * `Retry-After` hold still applies.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Pacer {
  /** Waits for the next send slot; resolves with the milliseconds waited (0 when none). Resolves early on abort. */
  take(signal?: AbortSignal): Promise<number>;
  /** Nothing starts before `until` (ms since the epoch). */
  holdUntil(until: number): void;
  /** The hold from the last `Retry-After`, if it is still in the future. */
  heldUntil(): number | undefined;
}

export interface PacerOptions {
  perSecond: number;
  now?: () => number;
  wait?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

export function createPacer(options: PacerOptions): Pacer {
  const interval = options.perSecond > 0 ? 1000 / options.perSecond : 0;
  const now = options.now ?? Date.now;
  const wait = options.wait ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }).catch(() => {}));
  let nextSlot = 0;
  let hold = 0;
  return {
    async take(signal) {
      const t = now();
      const start = Math.max(nextSlot, t, hold);
      nextSlot = start + interval;
      const ms = start - t;
      // Below a millisecond, timers cannot wait precisely: the spacing is kept on average.
      if (ms >= 1) await wait(ms, signal);
      return ms;
    },
    holdUntil(until) {
      hold = Math.max(hold, until);
    },
    heldUntil() {
      return hold > now() ? hold : undefined;
    },
  };
}
