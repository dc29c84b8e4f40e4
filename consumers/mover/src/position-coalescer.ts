/**
 * Coalescing of a user's positions: at most one is applied per
 * `minIntervalMs`. A position that arrives sooner waits, replacing any
 * position still waiting, and is applied when the interval is up (a timer),
 * so the last position always arrives: a listing ends where its owner stopped.
 *
 * `offer` answers a promise that resolves once that position, or a newer one
 * that replaced it, has been applied: the consumer commits an event's offset
 * only then. A failed apply is retried (with back-off) unless a newer
 * position has come meanwhile, which is applied instead.
 */
import type { Point } from '@pushtech/listings';
import { backoffDelay, type BackoffPolicy } from '@pushtech/service';

/** A failed position is retried after 250 ms, doubling to at most 10 s; no jitter (one user's own retries). */
export const RETRY_POLICY: BackoffPolicy = { initialMs: 250, maxMs: 10_000, jitter: 0 };

export interface PositionCoalescerOptions {
  minIntervalMs: number;
  /** Applies a user's position (moves the user's listings); throws to have it retried. */
  apply(userId: string, location: Point): Promise<void>;
  onCoalesced?(): void;
  onFailure?(err: unknown, userId: string, attempt: number): void;
  now?(): number;
  /** Back-off after the n-th failure in a row (default RETRY_POLICY). */
  retryDelayMs?(attempt: number): number;
}

interface Pending {
  location: Point;
  applied: (() => void)[];
}

interface UserState {
  pending?: Pending;
  /** When the last apply started. */
  lastAppliedAt: number;
  running?: Promise<void>;
  timer?: NodeJS.Timeout;
  /** Forgets an idle user once its interval is over. */
  forget?: NodeJS.Timeout;
  failures: number;
}

export interface PositionCoalescer {
  offer(userId: string, location: Point): Promise<void>;
  /** Applies every waiting position now (ignoring the interval) and resolves when none is left. */
  drain(): Promise<void>;
  /** Users with a position waiting or being applied. */
  pendingUsers(): number;
  /** Stops every timer (positions still waiting are dropped: their events are not committed). */
  close(): void;
}

export function createPositionCoalescer(options: PositionCoalescerOptions): PositionCoalescer {
  const { minIntervalMs, apply } = options;
  const now = options.now ?? Date.now;
  const retryDelayMs = options.retryDelayMs ?? ((failures: number) => backoffDelay(RETRY_POLICY, failures));
  const users = new Map<string, UserState>();
  let draining = false;

  function schedule(userId: string, user: UserState): void {
    if (user.timer !== undefined || user.running !== undefined || user.pending === undefined) return;
    const rate = draining ? 0 : user.lastAppliedAt + minIntervalMs - now();
    const wait = Math.max(0, rate, user.failures > 0 ? retryDelayMs(user.failures) : 0);
    if (wait === 0) {
      run(userId, user);
      return;
    }
    user.timer = setTimeout(() => {
      user.timer = undefined;
      run(userId, user);
    }, wait);
  }

  function run(userId: string, user: UserState): void {
    const batch = user.pending;
    if (batch === undefined) return;
    user.pending = undefined;
    user.lastAppliedAt = now();
    user.running = (async () => {
      try {
        await apply(userId, batch.location);
        user.failures = 0;
        for (const resolve of batch.applied) resolve();
      } catch (err) {
        user.failures++;
        options.onFailure?.(err, userId, user.failures);
        if (user.pending === undefined) user.pending = batch; // retry it
        else user.pending.applied.push(...batch.applied); // a newer position stands for it
      } finally {
        user.running = undefined;
      }
      if (user.pending !== undefined) {
        schedule(userId, user);
        return;
      }
      clearTimeout(user.forget);
      user.forget = setTimeout(() => {
        if (user.pending === undefined && user.running === undefined && user.timer === undefined) users.delete(userId);
      }, minIntervalMs);
    })();
  }

  return {
    offer(userId, location) {
      const user = users.get(userId) ?? { lastAppliedAt: -Infinity, failures: 0 };
      users.set(userId, user);
      clearTimeout(user.forget);
      user.forget = undefined;
      const applied = new Promise<void>((resolve) => {
        if (user.pending === undefined) {
          user.pending = { location, applied: [resolve] };
        } else {
          user.pending.location = location;
          user.pending.applied.push(resolve);
          options.onCoalesced?.();
        }
      });
      schedule(userId, user);
      return applied;
    },
    async drain() {
      draining = true;
      for (;;) {
        const busy: Promise<void>[] = [];
        for (const [userId, user] of users) {
          if (user.timer !== undefined && user.failures === 0) {
            clearTimeout(user.timer);
            user.timer = undefined;
          }
          schedule(userId, user);
          if (user.running !== undefined) busy.push(user.running);
        }
        const waiting = [...users.values()].some((u) => u.pending !== undefined);
        if (busy.length === 0 && !waiting) break;
        await (busy.length > 0 ? Promise.all(busy) : new Promise((resolve) => setTimeout(resolve, 50)));
      }
      draining = false;
    },
    pendingUsers: () => [...users.values()].filter((u) => u.pending !== undefined || u.running !== undefined).length,
    close() {
      for (const user of users.values()) {
        clearTimeout(user.timer);
        clearTimeout(user.forget);
      }
      users.clear();
    },
  };
}
