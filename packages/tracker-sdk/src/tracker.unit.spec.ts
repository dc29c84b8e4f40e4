import { UUID_V7 } from '@pushtech/events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { asyncStorageStore, type AsyncStorageLike } from './react-native.ts';
import { memoryStore, type QueuedEvent } from './store.ts';
import { createTracker, type Fetch, type TrackerOptions } from './tracker.ts';

type Answer = { status: number; retryAfter?: string; body?: unknown } | 'network' | 'hang';

/** The tracker's side of the wire: records each request, answers from a script (default 200, everything accepted). */
function fakeTracker() {
  const requests: { at: number; url: string; contentType: string; events: QueuedEvent[] }[] = [];
  const script: ((events: QueuedEvent[]) => Answer)[] = [];
  const fetch: Fetch = (url, init) => {
    const events = JSON.parse(init.body) as QueuedEvent[];
    requests.push({ at: Date.now(), url, contentType: init.headers['content-type']!, events });
    const answer = script.shift()?.(events) ?? { status: 200, body: { accepted: events.length, ids: events.map((e) => e.id), rejected: [] } };
    if (answer === 'network') return Promise.reject(new TypeError('Failed to fetch'));
    if (answer === 'hang') {
      return new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    return Promise.resolve({
      status: answer.status,
      headers: { get: (name: string) => (name === 'retry-after' ? (answer.retryAfter ?? null) : null) },
      json: async () => answer.body ?? {},
    });
  };
  const answerNext = (...answers: Answer[]) => script.push(...answers.map((a) => () => a));
  return { requests, fetch, script, answerNext };
}

const T0 = Date.parse('2026-03-01T10:00:00Z');
let server: ReturnType<typeof fakeTracker>;
let warnings: string[];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  server = fakeTracker();
  warnings = [];
});
afterEach(() => {
  vi.useRealTimers();
});

async function started(options: Partial<TrackerOptions> = {}) {
  const store = memoryStore();
  const tracker = createTracker({
    endpoint: 'https://t.example/',
    store,
    fetch: server.fetch,
    retry: { initialMs: 1_000, maxMs: 8_000, jitter: 0 },
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  await tracker.ready;
  return { tracker, store: (options.store ?? store) as ReturnType<typeof memoryStore> };
}

describe('batching', () => {
  it('sends the events of one interval in one POST /t/batch, each with its own id, the client time and the anonymous id', async () => {
    const { tracker, store } = await started();
    const ids = [tracker.track('cart.add', { sku: 'A-1' }), tracker.page({ path: '/' })];
    vi.advanceTimersByTime(500);
    ids.push(tracker.track('click'));
    expect(store.events.size).toBe(0); // written once this turn is over
    await tracker.persisted();
    expect(store.events.size).toBe(3);
    await vi.advanceTimersByTimeAsync(499);
    expect(server.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request!.url).toBe('https://t.example/t/batch');
    expect(request!.contentType).toBe('text/plain;charset=UTF-8'); // no CORS preflight
    const anonymousId = tracker.anonymousId();
    expect(anonymousId).toMatch(UUID_V7);
    expect(request!.events).toEqual([
      { id: ids[0], type: 'cart.add', data: { sku: 'A-1' }, time: '2026-03-01T10:00:00.000Z', anonymousId },
      { id: ids[1], type: 'page.view', data: { path: '/' }, time: '2026-03-01T10:00:00.000Z', anonymousId },
      { id: ids[2], type: 'click', data: {}, time: '2026-03-01T10:00:00.500Z', anonymousId },
    ]);
    for (const id of ids) expect(id).toMatch(UUID_V7);
    await tracker.persisted();
    expect(store.events.size).toBe(0);
    expect(tracker.stats()).toEqual({ queued: 0, sent: 3, rejected: 0, dropped: 0 });
  });

  it('ids sort in creation order, also within one millisecond', async () => {
    const { tracker } = await started();
    const ids = Array.from({ length: 5_000 }, () => tracker.track('tick'));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('at most 500 events per request, sent without waiting when a batch is full, and a backlog drains at once', async () => {
    const { tracker } = await started();
    for (let n = 0; n < 1_200; n++) tracker.track('tick', { n });
    await vi.advanceTimersByTimeAsync(0);
    expect(server.requests.map((r) => r.events.length)).toEqual([500, 500, 200]);
    expect(server.requests.map((r) => r.at - T0)).toEqual([0, 0, 0]);
    expect(server.requests.flatMap((r) => r.events.map((e) => e.data.n))).toEqual(Array.from({ length: 1_200 }, (_, n) => n));
  });

  it('at most 1 MiB per request', async () => {
    const { tracker } = await started();
    for (let n = 0; n < 80; n++) tracker.track('big', { n, s: 'é'.repeat(15_000) }); // ~30 KB each in UTF-8
    await vi.advanceTimersByTimeAsync(1_000);
    const sizes = server.requests.map((r) => Buffer.byteLength(JSON.stringify(r.events)));
    expect(sizes.length).toBe(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(1024 * 1024);
    expect(server.requests.reduce((n, r) => n + r.events.length, 0)).toBe(80);
  });
});

describe('the persistent queue', () => {
  it('starts with what the store holds, oldest first, and keeps the anonymous id and user across restarts', async () => {
    const store = memoryStore();
    const first = await started({ store, fetch: () => Promise.reject(new TypeError('offline')) });
    first.tracker.identify('u-1');
    const ids = [first.tracker.track('a'), first.tracker.track('b')];
    await first.tracker.persisted();
    first.tracker.stop();
    const anonymousId = first.tracker.anonymousId();

    const second = await started({ store });
    expect(second.tracker.anonymousId()).toBe(anonymousId);
    second.tracker.track('c');
    await vi.advanceTimersByTimeAsync(1_000);
    const events = server.requests[0]!.events;
    expect(events.map((e) => [e.type, e.userId, e.anonymousId])).toEqual([
      ['identify', 'u-1', anonymousId],
      ['a', 'u-1', anonymousId],
      ['b', 'u-1', anonymousId],
      ['c', 'u-1', anonymousId],
    ]);
    expect(events.slice(1, 3).map((e) => e.id)).toEqual(ids);
  });

  it('events tracked before the store is read are kept, after the stored ones, with the stored identity', async () => {
    const store = memoryStore();
    store.meta = { anonymousId: 'a-stored', userId: 'u-stored' };
    await store.put([{ id: '019d5e4a-7c31-7a2e-9b1f-3c5d7e9f1a2b', type: 'old', data: {}, time: '2026-02-01T00:00:00Z' }]);
    const tracker = createTracker({ endpoint: 'https://t.example', store, fetch: server.fetch });
    tracker.track('early');
    expect(tracker.anonymousId()).toBeUndefined();
    await tracker.ready;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.requests[0]!.events.map((e) => [e.type, e.anonymousId, e.userId])).toEqual([
      ['old', undefined, undefined],
      ['early', 'a-stored', 'u-stored'],
    ]);
  });

  it('is capped: the oldest events are dropped and counted, with one warning, and the count is kept', async () => {
    const { tracker, store } = await started({ maxQueueEvents: 5, fetch: () => Promise.reject(new TypeError('offline')) });
    for (let n = 0; n < 8; n++) tracker.track('tick', { n });
    await tracker.persisted();
    expect([...store.events.values()].map((e) => e.data.n)).toEqual([3, 4, 5, 6, 7]);
    expect(tracker.stats()).toMatchObject({ queued: 5, dropped: 3 });
    expect(warnings).toEqual(['queue full (5 events): dropping the oldest']);
    expect(store.meta.dropped).toBe(3);
  });

  it('a store that fails leaves the events in memory: they are still sent', async () => {
    const store = memoryStore();
    store.put = () => Promise.reject(new Error('quota exceeded'));
    const { tracker } = await started({ store });
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.requests[0]!.events.map((e) => e.type)).toEqual(['a']);
    expect(warnings).toEqual(['the store failed; events are kept in memory']);
  });

  it('on an AsyncStorage-shaped store: one key per event and one for the meta', async () => {
    const map = new Map<string, string>();
    const storage: AsyncStorageLike = {
      getItem: async (k) => map.get(k) ?? null,
      setItem: async (k, v) => void map.set(k, v),
      getAllKeys: async () => [...map.keys()],
      multiGet: async (keys) => keys.map((k) => [k, map.get(k) ?? null] as const),
      multiSet: async (pairs) => {
        for (const [k, v] of pairs) map.set(k, v);
      },
      multiRemove: async (keys) => {
        for (const k of keys) map.delete(k);
      },
    };
    const offline = await started({ store: asyncStorageStore(storage) as ReturnType<typeof memoryStore>, fetch: () => Promise.reject(new TypeError('offline')) });
    const id = offline.tracker.track('a', { x: 1 });
    await offline.tracker.persisted();
    offline.tracker.stop();
    expect([...map.keys()].sort()).toEqual([`pushtech-tracker:e:${id}`, 'pushtech-tracker:meta']);

    const online = await started({ store: asyncStorageStore(storage) as ReturnType<typeof memoryStore> });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.requests[0]!.events.map((e) => [e.id, e.data])).toEqual([[id, { x: 1 }]]);
    await online.tracker.persisted();
    expect([...map.keys()]).toEqual(['pushtech-tracker:meta']);
  });
});

describe('failures', () => {
  it('retries with exponential back-off, sending the same ids again, until the tracker takes them', async () => {
    const { tracker } = await started();
    server.answerNext('network', { status: 500 }, 'network', { status: 503 });
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(1_000 + 1_000 + 2_000 + 4_000 + 8_000);
    expect(server.requests.map((r) => r.at - T0)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(new Set(server.requests.map((r) => r.events[0]!.id)).size).toBe(1);
    expect(tracker.stats()).toMatchObject({ queued: 0, sent: 1 });
  });

  it('the back-off has jitter: equal jitter by default', async () => {
    const { tracker } = await started({ retry: undefined });
    vi.spyOn(Math, 'random').mockReturnValue(0);
    server.answerNext('network', 'network');
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(1_000 + 500 + 1_000);
    expect(server.requests.map((r) => r.at - T0)).toEqual([1_000, 1_500, 2_500]); // half of 1 s, then half of 2 s
  });

  it.each([503, 429])('a %i waits as long as Retry-After says, longer than the back-off', async (status) => {
    const { tracker } = await started();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    server.answerNext({ status, retryAfter: '7', body: { error: 'busy' } });
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(1_000 + 6_999);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests.map((r) => r.at - T0)).toEqual([1_000, 8_000]);
  });

  it('Retry-After shorter than the back-off (0, after failures): the back-off', async () => {
    const { tracker } = await started();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    server.answerNext('network', { status: 503, retryAfter: '0' });
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(1_000 + 1_000 + 2_000);
    expect(server.requests.map((r) => r.at - T0)).toEqual([1_000, 2_000, 4_000]);
  });

  it('Retry-After as an HTTP date', async () => {
    const { tracker } = await started();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    server.answerNext({ status: 503, retryAfter: new Date(T0 + 31_000).toUTCString() });
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(31_000);
    expect(server.requests.map((r) => r.at - T0)).toEqual([1_000, 31_000]);
  });

  it('a request without an answer times out and is retried', async () => {
    const { tracker } = await started({ requestTimeoutMs: 5_000 });
    server.answerNext('hang');
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(1_000 + 5_000 + 1_000);
    expect(server.requests.map((r) => r.at - T0)).toEqual([1_000, 7_000]);
    expect(tracker.stats().sent).toBe(1);
  });

  it('flush() sends at once, also while backing off (the browser is back online)', async () => {
    const { tracker } = await started();
    server.answerNext('network');
    tracker.track('a');
    await vi.advanceTimersByTimeAsync(1_000);
    await tracker.flush();
    expect(server.requests.map((r) => r.at - T0)).toEqual([1_000, 1_000]);
    expect(tracker.stats().queued).toBe(0);
  });

  it('an event the tracker refuses is dropped with a warning; the others are sent once', async () => {
    const { tracker, store } = await started();
    server.script.push((events) => ({
      status: 200,
      body: { accepted: 2, ids: [events[0]!.id, events[2]!.id], rejected: [{ index: 1, field: 'type', rule: 'must match ^[a-z]…' }, { index: 1, field: 'data', rule: 'too big' }] },
    }));
    tracker.track('a');
    const bad = tracker.track('Bad');
    tracker.track('c');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.requests).toHaveLength(1);
    expect(warnings).toEqual([`event Bad ${bad} refused by the tracker and dropped: type must match ^[a-z]…; data too big`]);
    expect(tracker.stats()).toEqual({ queued: 0, sent: 2, rejected: 1, dropped: 0 });
    await tracker.persisted();
    expect(store.events.size).toBe(0);
  });

  it('a batch whose every event is refused (400 invalid_batch) is dropped, not retried', async () => {
    const { tracker } = await started();
    server.answerNext({ status: 400, body: { error: 'invalid_batch', accepted: 0, rejected: [{ index: 0, field: 'type', rule: 'r' }] } });
    tracker.track('Bad');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.requests).toHaveLength(1);
    expect(tracker.stats()).toMatchObject({ queued: 0, rejected: 1 });
  });

  it('a 413 halves the batch and sends again', async () => {
    const { tracker } = await started();
    server.answerNext({ status: 413 });
    for (let n = 0; n < 10; n++) tracker.track('tick', { n });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.requests.map((r) => r.events.length)).toEqual([10, 5, 5]);
    expect(tracker.stats()).toMatchObject({ queued: 0, sent: 10 });
  });
});

describe('identify, page, location', () => {
  it('identify: later events carry the user; null signs out', async () => {
    const { tracker } = await started();
    tracker.track('before');
    tracker.identify('u-42');
    tracker.track('during');
    tracker.identify(null);
    tracker.track('after');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.requests[0]!.events.map((e) => [e.type, e.userId])).toEqual([
      ['before', undefined],
      ['identify', 'u-42'],
      ['during', 'u-42'],
      ['identify', undefined],
      ['after', undefined],
    ]);
  });

  it('location: skips moves under 25 m, holds one that comes within 1 s and sends the newest when the second is up', async () => {
    const { tracker } = await started({ flushIntervalMs: 10_000 });
    expect(tracker.location({ lng: 13.4, lat: 52.52, accuracy: 8 })).toMatch(UUID_V7);
    vi.advanceTimersByTime(2_000);
    expect(tracker.location({ lng: 13.4, lat: 52.5201 })).toBeUndefined(); // 11 m
    expect(tracker.location({ lng: 13.4, lat: 52.521 })).toMatch(UUID_V7); // 111 m, 2 s later
    vi.advanceTimersByTime(300);
    expect(tracker.location({ lng: 13.4, lat: 52.522 })).toBeUndefined(); // held: 300 ms after the last
    vi.advanceTimersByTime(300);
    expect(tracker.location({ lng: 13.4, lat: 52.523 })).toBeUndefined(); // replaces the held one
    vi.advanceTimersByTime(400);
    await vi.advanceTimersByTimeAsync(10_000);
    const sent = server.requests.flatMap((r) => r.events);
    expect(sent.map((e) => [e.type, e.data, e.time])).toEqual([
      ['location', { lng: 13.4, lat: 52.52, accuracy: 8 }, '2026-03-01T10:00:00.000Z'],
      ['location', { lng: 13.4, lat: 52.521 }, '2026-03-01T10:00:02.000Z'],
      ['location', { lng: 13.4, lat: 52.523 }, '2026-03-01T10:00:02.600Z'], // its own time, sent at 3.000
    ]);
  });

  it('location: a held position is forgotten when the phone comes back near the last one sent', async () => {
    const { tracker } = await started();
    tracker.location({ lng: 13.4, lat: 52.52 });
    tracker.location({ lng: 13.4, lat: 52.53 });
    tracker.location({ lng: 13.4, lat: 52.52001 });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.requests.flatMap((r) => r.events).map((e) => e.data.lat)).toEqual([52.52]);
  });
});

describe('beacon', () => {
  it('hands the queue to the beacon as a batch body, at most the beacon size, and keeps the events queued', async () => {
    const { tracker } = await started();
    const ids = Array.from({ length: 100 }, (_, n) => tracker.track('tick', { n, s: 'x'.repeat(1_000) }));
    const beacons: { url: string; events: QueuedEvent[] }[] = [];
    expect(tracker.beacon((url, body) => beacons.push({ url, events: JSON.parse(body) }) > 0)).toBe(true);
    expect(beacons[0]!.url).toBe('https://t.example/t/batch');
    const sent = beacons[0]!.events.map((e) => e.id);
    expect(sent).toEqual(ids.slice(0, sent.length));
    expect(sent.length).toBeGreaterThan(50);
    expect(sent.length).toBeLessThan(60); // 60,000 bytes
    expect(tracker.stats().queued).toBe(100);
  });

  it('nothing queued: no beacon', async () => {
    const { tracker } = await started();
    expect(tracker.beacon(() => true)).toBe(false);
  });
});
