/**
 * The tracker client's core: no DOM, no Node — only `fetch`, timers and a `TrackerStore`, so the
 * browser and React Native adapters (and tests) give it what their platform has.
 *
 * Every event gets a UUIDv7 here and keeps it: the tracker stores a batch event under the id it
 * brings, so a batch sent again after an answer that never came (a timeout, a dropped
 * connection, a beacon) reaches Kafka with the same ids, and consumers treat an id they have
 * seen as done. After a 2xx the batch's events are removed from the queue and never sent again.
 */
import { backoffDelay, type BackoffPolicy } from '@pushtech/backoff';
import { locationFilter, type LocationThresholds, type Position } from './location-filter.ts';
import type { QueuedEvent, TrackerMeta, TrackerStore } from './store.ts';
import { uuidv7 } from './uuid.ts';

/** The part of `fetch` the tracker uses: the global one of browsers, React Native and Node fits. */
export type Fetch = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; json(): Promise<unknown> }>;

export interface TrackerOptions {
  /** The tracker's base URL (`https://t.example.com`); batches go to `<endpoint>/t/batch`. */
  endpoint: string;
  store: TrackerStore;
  fetch?: Fetch;
  /** How long an event may wait for others to share its request (default 1,000 ms). */
  flushIntervalMs?: number;
  /** Events per request (default and at most 500, the tracker's limit). */
  maxBatchEvents?: number;
  /** Bytes per request (default and at most 1 MiB, the tracker's limit). */
  maxBatchBytes?: number;
  /** Events kept while they cannot be sent; beyond, the oldest are dropped and counted (default 10,000). */
  maxQueueEvents?: number;
  /** Back-off after failures (default 1 s doubling to 5 min, equal jitter). A 429/503's Retry-After wins. */
  retry?: BackoffPolicy;
  /** A request without an answer by then is a failure, retried (default 15 s). */
  requestTimeoutMs?: number;
  /** Rate limit of `location()` (default 25 m and 1 s). */
  location?: LocationThresholds;
  /** Called for what the tracker refused or dropped (default `console.warn`). */
  onWarning?: (message: string, detail?: unknown) => void;
}

export interface TrackerStats {
  /** Events waiting to be sent. */
  queued: number;
  /** Events the tracker accepted (2xx). */
  sent: number;
  /** Events the tracker refused (4xx for that event): dropped with a warning. */
  rejected: number;
  /** Events dropped because the queue was full (oldest first), across sessions. */
  dropped: number;
}

export interface Tracker {
  /** Queues an event; answers its id. */
  track(type: string, data?: Record<string, unknown>): string;
  /** The signed-in user (`null`: signed out); later events carry it. Sends an `identify` event. */
  identify(userId: string | null): void;
  /** A `page.view` event. */
  page(data?: Record<string, unknown>): string;
  /** A `location` event, if the position passes the distance and time thresholds; answers its id then. */
  location(position: Position): string | undefined;
  /** This device's id, kept across sessions (undefined until the store has been read). */
  anonymousId(): string | undefined;
  /** Sends what is queued now, without waiting for the interval or a back-off; resolves when that request ends. */
  flush(): Promise<void>;
  /**
   * The page or app is going away: hands what is queued to `send` (e.g. `navigator.sendBeacon`), at
   * most `maxBytes` (default 60,000: browsers allow 64 KiB in flight). The events stay queued: a
   * beacon's answer is never seen, so the next start sends them again, with the same ids.
   */
  beacon(send: (url: string, body: string) => boolean, maxBytes?: number): boolean;
  /** Resolves once the store has every change made so far. */
  persisted(): Promise<void>;
  stats(): TrackerStats;
  /** Resolves once the stored queue has been read (events queued before are kept). */
  ready: Promise<void>;
  /** Stops the timers (what is queued stays in the store). */
  stop(): void;
}

const MAX_EVENTS = 500;
const MAX_BYTES = 1024 * 1024;

/** UTF-8 length of a string (the tracker's limits are in bytes). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7ff) n += c >= 0xd800 && c < 0xdc00 ? 1 : 2; // a surrogate pair is 4 bytes for 2 units
    else if (c > 0x7f) n += 1;
  }
  return n;
}

/** Retry-After: seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

interface BatchAnswer {
  accepted?: number;
  rejected?: { index: number; field: string; rule: string }[];
}

export function createTracker(options: TrackerOptions): Tracker {
  const url = `${options.endpoint.replace(/\/$/, '')}/t/batch`;
  const { store } = options;
  const send = options.fetch ?? ((u, init) => fetch(u, init));
  const flushIntervalMs = options.flushIntervalMs ?? 1_000;
  const maxEvents = Math.min(options.maxBatchEvents ?? MAX_EVENTS, MAX_EVENTS);
  const maxBytes = Math.min(options.maxBatchBytes ?? MAX_BYTES, MAX_BYTES);
  const maxQueue = options.maxQueueEvents ?? 10_000;
  const retry = options.retry ?? { initialMs: 1_000, maxMs: 300_000 };
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const warn = options.onWarning ?? ((message: string, detail?: unknown) => console.warn(`[tracker] ${message}`, detail ?? ''));

  let queue: QueuedEvent[] = [];
  let meta: TrackerMeta = {};
  let loaded = false;
  let userChanged = false;
  const stats = { sent: 0, rejected: 0, dropped: 0 };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backingOff = false;
  let inFlight: Promise<void> | undefined;
  let failures = 0;
  /** Shrinks after a 413 (a batch the tracker found too large), back to `maxEvents` after a success. */
  let batchLimit = maxEvents;
  let stopped = false;
  /** One warning per spell of a full queue. */
  let warnedFull = false;

  // Store operations run one after another; writes made in one turn share one `put`.
  let chain: Promise<unknown> = Promise.resolve();
  let toPut: QueuedEvent[] = [];
  const later = (op: () => Promise<unknown>) => {
    chain = chain.then(op).catch((err) => warn('the store failed; events are kept in memory', err));
  };
  const put = (event: QueuedEvent) => {
    if (toPut.push(event) === 1) {
      later(() => {
        const events = toPut;
        toPut = [];
        return store.put(events);
      });
    }
  };
  const saveMeta = () => later(() => store.setMeta({ ...meta }));
  const forget = (events: QueuedEvent[]) => {
    const ids = new Set(events.map((e) => e.id));
    queue = queue.filter((e) => !ids.has(e.id));
    later(() => store.remove([...ids]));
  };

  const stamp = (event: QueuedEvent) => {
    if (meta.userId !== undefined) event.userId = meta.userId;
    if (meta.anonymousId !== undefined) event.anonymousId = meta.anonymousId;
  };

  function capQueue(): void {
    const over = queue.length - maxQueue;
    if (over <= 0) return;
    const oldest = queue.slice(0, over);
    if (!warnedFull) warn(`queue full (${maxQueue} events): dropping the oldest`);
    warnedFull = true;
    forget(oldest);
    stats.dropped += over;
    meta.dropped = (meta.dropped ?? 0) + over;
    saveMeta();
  }

  function enqueue(type: string, data: Record<string, unknown>, at = Date.now()): string {
    const event: QueuedEvent = { id: uuidv7(), type, data, time: new Date(at).toISOString() };
    queue.push(event);
    if (loaded) {
      stamp(event);
      put(event);
      capQueue();
      schedule();
    }
    return event.id;
  }

  function schedule(): void {
    if (!loaded || stopped || backingOff || inFlight || queue.length === 0) return;
    if (queue.length >= batchLimit) void sendBatch();
    else timer ??= setTimeout(() => void sendBatch(), flushIntervalMs);
  }

  function wait(ms: number): void {
    if (stopped) return;
    backingOff = true;
    timer = setTimeout(() => {
      backingOff = false;
      timer = undefined;
      void sendBatch();
    }, ms);
  }

  /** The oldest events that fit one request, and its body. */
  function takeBatch(limitEvents: number, limitBytes: number): { events: QueuedEvent[]; body: string } {
    const parts: string[] = [];
    let bytes = 2;
    for (const event of queue) {
      const json = JSON.stringify(event);
      const size = utf8Length(json) + 1;
      if (parts.length === limitEvents || (parts.length > 0 && bytes + size > limitBytes)) break;
      parts.push(json);
      bytes += size;
    }
    return { events: queue.slice(0, parts.length), body: `[${parts.join(',')}]` };
  }

  /** Drops the refused events of a batch, one warning each. */
  function reject(events: QueuedEvent[], answer: BatchAnswer): void {
    const byIndex = new Map<number, string[]>();
    for (const { index, field, rule } of answer.rejected ?? []) byIndex.set(index, [...(byIndex.get(index) ?? []), `${field} ${rule}`]);
    for (const [index, reasons] of byIndex) {
      const event = events[index];
      if (event) warn(`event ${event.type} ${event.id} refused by the tracker and dropped: ${reasons.join('; ')}`, event);
    }
    stats.rejected += byIndex.size;
  }

  /** One request; answers whether more is waiting to go at once (the batch did not take the whole queue). */
  async function attempt(): Promise<boolean> {
    const { events, body } = takeBatch(batchLimit, maxBytes);
    const more = events.length < queue.length;
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), timeoutMs);
    let status = 0;
    let answer: BatchAnswer = {};
    let waitMs: number | undefined;
    try {
      const res = await send(url, {
        method: 'POST',
        // text/plain needs no CORS preflight; the tracker reads it as JSON.
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body,
        signal: abort.signal,
      });
      status = res.status;
      waitMs = retryAfterMs(res.headers.get('retry-after'));
      answer = ((await res.json().catch(() => ({}))) ?? {}) as BatchAnswer;
    } catch {
      status = 0; // no answer: offline, refused, timed out
    } finally {
      clearTimeout(timeout);
    }

    const done = status >= 200 && status < 300;
    if (done || (status === 400 && answer.accepted === 0 && Array.isArray(answer.rejected))) {
      stats.sent += done ? (answer.accepted ?? events.length - (answer.rejected?.length ?? 0)) : 0;
      reject(events, answer);
      forget(events);
      failures = 0;
      batchLimit = maxEvents;
      warnedFull = false;
      return more;
    }
    if (status === 413 && events.length > 1) {
      batchLimit = Math.ceil(events.length / 2);
      return true;
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      // Sending the same request again cannot succeed: drop it rather than block the queue.
      warn(`the tracker answered ${status}: ${events.length} events dropped`, answer);
      stats.rejected += events.length;
      forget(events);
      return more;
    }
    failures++;
    // Retry-After is the server's word (429, 503): never sooner, plus up to 10 % so clients spread
    // out; the back-off when it is longer (a long outage, or `Retry-After: 0`).
    wait(Math.max(backoffDelay(retry, failures), waitMs === undefined ? 0 : waitMs * (1 + Math.random() / 10)));
    return false;
  }

  function sendBatch(): Promise<void> {
    if (inFlight) return inFlight;
    clearTimeout(timer);
    timer = undefined;
    backingOff = false;
    if (!loaded || stopped || queue.length === 0) return Promise.resolve();
    inFlight = attempt().then((more) => {
      inFlight = undefined;
      if (more) void sendBatch();
      else schedule();
    });
    return inFlight;
  }

  const ready = store
    .load()
    .catch((err) => {
      warn('the store could not be read; starting with an empty queue', err);
      return { events: [] as QueuedEvent[], meta: {} as TrackerMeta };
    })
    .then(({ events, meta: stored }) => {
      const early = queue;
      meta = { ...stored, ...(userChanged ? { userId: meta.userId } : {}) };
      if (meta.anonymousId === undefined) meta.anonymousId = uuidv7();
      stats.dropped = meta.dropped ?? 0;
      saveMeta();
      const seen = new Set(events.map((e) => e.id));
      queue = [...events.sort((a, b) => (a.id < b.id ? -1 : 1)), ...early.filter((e) => !seen.has(e.id))];
      loaded = true;
      for (const event of early) {
        stamp(event);
        put(event);
      }
      capQueue();
      schedule();
    });

  const locations = locationFilter(options.location ?? {}, ({ lng, lat, accuracy }, at) => {
    lastLocationId = enqueue('location', accuracy === undefined ? { lng, lat } : { lng, lat, accuracy }, at);
  });
  let lastLocationId: string | undefined;

  return {
    track: (type, data = {}) => enqueue(type, data),
    identify(userId) {
      meta.userId = userId ?? undefined;
      userChanged = true;
      if (loaded) saveMeta();
      enqueue('identify', {});
    },
    page: (data = {}) => enqueue('page.view', data),
    location(position) {
      lastLocationId = undefined;
      locations.offer(position);
      return lastLocationId;
    },
    anonymousId: () => (loaded ? meta.anonymousId : undefined),
    flush: () => sendBatch(),
    beacon(sendBeacon, maxBeaconBytes = 60_000) {
      if (!loaded || queue.length === 0) return false;
      const { body } = takeBatch(maxEvents, maxBeaconBytes);
      return body !== '[]' && sendBeacon(url, body);
    },
    persisted: () => ready.then(() => chain).then(() => undefined),
    stats: () => ({ queued: queue.length, ...stats }),
    ready,
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      locations.stop();
    },
  };
}
