/**
 * Read-your-writes: a write answers once the projection shows it. The waiter
 * polls the listing's document for `version ≥ v`, and wakes up early when the
 * projector of this process signals that it touched the listing.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** In-process notification: the projector touched these documents. */
export interface AppliedSignal {
  notify(keys: Iterable<string>): void;
  /** Resolves at the next notification for `key`, or after `ms`. */
  next(key: string, ms: number): Promise<void>;
}

export function createAppliedSignal(): AppliedSignal {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    notify(keys) {
      for (const key of keys) emitter.emit(key);
    },
    async next(key, ms) {
      const abort = new AbortController();
      let listener: (() => void) | undefined;
      const notified = new Promise<void>((resolve) => {
        listener = () => resolve();
        emitter.once(key, listener);
      });
      try {
        await Promise.race([notified, sleep(ms, undefined, { signal: abort.signal }).catch(() => {})]);
      } finally {
        abort.abort();
        emitter.off(key, listener!);
      }
    },
  };
}

export type Projected = 'applied' | 'conflict' | 'timeout';

export interface WaitOptions {
  /** The projection's version and applied event ids of a listing (null: not there yet). */
  readVersion: (id: string) => Promise<{ version: number; eventIds: string[] } | null>;
  signal: AppliedSignal;
  timeoutMs: number;
  pollMs?: number;
}

/**
 * Waits until the projection of listing `id` has `version` or newer: `applied`
 * if event `eventId` is among the applied ones, `conflict` if another event
 * took that version (a concurrent write won), `timeout` after `timeoutMs`.
 */
export async function awaitProjection(id: string, version: number, eventId: string, options: WaitOptions): Promise<Projected> {
  const deadline = Date.now() + options.timeoutMs;
  const pollMs = options.pollMs ?? 50;
  for (;;) {
    const seen = await options.readVersion(id);
    if (seen !== null && seen.version >= version) return seen.eventIds.includes(eventId) ? 'applied' : 'conflict';
    const left = deadline - Date.now();
    if (left <= 0) return 'timeout';
    await options.signal.next(id, Math.min(pollMs, left));
  }
}

/** The signal key of a subscription's device document (listing ids are used as they are). */
export function deviceSignalKey(subscriptionId: string): string {
  return `device:${subscriptionId}`;
}

export interface DocumentWaitOptions<D> {
  /** The projection's document now (null: not there). */
  read: () => Promise<D | null>;
  /** `applied` or `conflict` once the document tells; undefined: not yet. */
  check: (doc: D | null) => Exclude<Projected, 'timeout'> | undefined;
  signal: AppliedSignal;
  /** The key the projector signals when it touches the document. */
  signalKey: string;
  timeoutMs: number;
  pollMs?: number;
}

/** Like `awaitProjection`, for documents without versions (devices): waits until `check` decides, or `timeout`. */
export async function awaitDocument<D>(options: DocumentWaitOptions<D>): Promise<Projected> {
  const deadline = Date.now() + options.timeoutMs;
  const pollMs = options.pollMs ?? 50;
  for (;;) {
    const decided = options.check(await options.read());
    if (decided !== undefined) return decided;
    const left = deadline - Date.now();
    if (left <= 0) return 'timeout';
    await options.signal.next(options.signalKey, Math.min(pollMs, left));
  }
}
