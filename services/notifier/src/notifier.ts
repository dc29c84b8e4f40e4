/**
 * The notifier's core, independent of Kafka: requests come in through
 * `take(value, ack)`, wait in per-producer queues, go out to OneSignal in
 * round-robin order at the rate limit, and end as a response, a retry (stored
 * in the retry store, then queued again when due) or a drop (stale).
 *
 * `ack` is called once a request is durably settled — its response is in
 * Kafka (or it needs none), or it is in the retry store — so the caller may
 * commit its offset. On stop, requests still waiting are parked in the retry
 * store, and a restarted notifier picks them up from there.
 *
 * With Web Push on, a push to users also becomes one delivery per active web
 * subscription of theirs: items of their own (same producer queue, same
 * retries), sent to the browser's push service, answering nobody (the
 * response is OneSignal's), a 404/410 removing the subscription. The request's
 * record is acknowledged once all of its items are settled.
 */
import { notifyRequestsTopic, type ConnectRequest, type ControlRequest, type NotifyResponse, type ParsedRequest, type PushRequest } from '@pushtech/contracts';
import type { Logger } from '@pushtech/logging';
import { retry, type BackoffPolicy } from '@pushtech/service';
import type { RetryPolicy } from './backoff.ts';
import { createFairQueue } from './fair-queue.ts';
import type { NotifierMetrics } from './metrics.ts';
import { notificationBody, type NotificationSender } from './onesignal.ts';
import { decide, statusClassOf, type Answer, type Decision } from './outcome.ts';
import { createPacer } from './pacer.ts';
import type { Responder } from './responder.ts';
import type { RetryStore, StoredRequest, VersionStore } from './retry-store.ts';
import type { WebDevice, WebDevices } from './web-devices.ts';
import { webPushPayload, type WebPushSender } from './web-push.ts';

export type NotifierEvent =
  /** OneSignal answered attempt `attempt` (or did not: no status). */
  | { kind: 'answered'; uuid: string; producer: string; attempt: number; status?: number }
  | { kind: 'retry'; uuid: string; producer: string; attempt: number; delayMs: number; status?: number; retryAfterMs?: number }
  | { kind: 'responded'; uuid: string | null; producer: string; response: NotifyResponse }
  | { kind: 'dropped'; uuid: string; producer: string; reason: 'stale' }
  | { kind: 'rejected'; uuid: string | null; reason: string };

/** The Web Push channel: where the users' browser subscriptions are, and the sender to their push services. */
export interface WebPushChannel {
  sender: WebPushSender;
  devices: WebDevices;
}

export interface NotifierOptions {
  sender: NotificationSender;
  /** Web Push to the users' browsers besides OneSignal; off when undefined. */
  web?: WebPushChannel;
  retries: RetryStore;
  versions: VersionStore;
  responder: Responder;
  logger: Logger;
  metrics: NotifierMetrics;
  policy: RetryPolicy;
  /** Calls per second toward OneSignal; 0: no limit. */
  rateLimitPerS: number;
  /** Calls under way at once. */
  concurrency: number;
  /** Requests held in memory (queued, under way, waiting for a retry) before `capacity.full()` says stop taking more. */
  queueMax: number;
  random?: () => number;
  /** Observes what happens (tests record retry delays and send order with it). */
  onEvent?: (event: NotifierEvent) => void;
}

export interface Capacity {
  /** True when `queueMax` requests are held: stop taking more. */
  full(): boolean;
  /** Resolves once at most half of `queueMax` are held. */
  whenRoom(): Promise<void>;
}

export interface NotifierStats {
  /** Requests held: queued + under way + waiting for a retry + being settled. */
  held: number;
  queued: number;
  inFlight: number;
  waiting: number;
}

export interface Notifier {
  /** Loads the versions and the stored retries, then starts sending. */
  start(): Promise<void>;
  /** Takes in one request (a Kafka record's value); `ack` once it is settled. Returns false when stopping (not taken). */
  take(value: Buffer | string | null, ack: () => void): boolean;
  capacity: Capacity;
  stats(): NotifierStats;
  /** Finishes the calls under way, parks what waits in the retry store, and stops. */
  stop(): Promise<void>;
}

const NO_PRODUCER = '';
/** Back-off of a MongoDB write that must happen (a `_connect`'s version). */
const STORE_RETRY: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };
const producerLabel = (producer: string) => (producer === NO_PRODUCER ? '(none)' : producer);

interface Item {
  request: PushRequest;
  producer: string;
  attempts: number;
  firstAttemptAt: number | null;
  /** Acknowledges the Kafka record; cleared once called (done, or stored for retry). */
  ack?: () => void;
  /** A document for it is in the retry store. */
  stored: boolean;
  state: 'queued' | 'sending' | 'waiting' | 'settling';
  dueAt?: number;
  timer?: NodeJS.Timeout;
  lastError?: string;
  ignoreVersion: boolean;
  /** Retry-store writes for this request, in order. */
  storeChain: Promise<void>;
  /** A Web Push delivery of the request, to this browser subscription (its uuid: `<request uuid>/<subscription id>`). */
  web?: WebDevice;
}

/**
 * One Kafka acknowledgement shared by several parts (a request's OneSignal
 * item and its Web Push deliveries): `ack` runs once every part handed out
 * has been called and `seal` has said no more parts come.
 */
function splitAck(ack: () => void): { part(): () => void; seal(): void } {
  let open = 1;
  const release = () => { if (--open === 0) ack(); };
  return {
    part() {
      open++;
      let called = false;
      return () => { if (!called) { called = true; release(); } };
    },
    seal: release,
  };
}

/** A request's delivery to one browser: `copy` means `success` here (nobody gets a response to copy into). */
function webDelivery(request: PushRequest, device: WebDevice): PushRequest {
  const style = request.style && Object.fromEntries(Object.entries(request.style).map(([cls, entry]) => [
    cls, entry && entry.operation === 'copy' ? { ...entry, operation: 'success' as const } : entry,
  ]));
  return { ...request, uuid: `${request.uuid}/${device.subscriptionId}`, ...(style ? { style } : {}) };
}

const GONE = new Set([404, 410]);

export function createNotifier(options: NotifierOptions): Notifier {
  const { sender, retries, versions, responder, metrics, policy } = options;
  const logger = options.logger.child({ component: 'notifier' });
  const emit = options.onEvent ?? (() => {});
  const queue = createFairQueue<Item>();
  const pacer = createPacer({ perSecond: options.rateLimitPerS });
  const items = new Map<string, Item>();
  const currentVersions = new Map<string, number>();
  /** Control requests and rejections being answered. */
  const tasks = new Set<Promise<void>>();
  /** Calls under way, with what follows them (response, retry store). */
  const attempts = new Set<Promise<void>>();
  const roomWaiters: (() => void)[] = [];
  const lowWater = Math.floor(options.queueMax / 2);
  const stopping = new AbortController();
  let inFlight = 0;
  let waiting = 0;
  let wake: (() => void) | undefined;
  let loopDone: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;

  function kick(): void {
    const w = wake;
    wake = undefined;
    w?.();
  }

  function updateDepth(producer: string): void {
    metrics.queueDepth.set({ producer: producerLabel(producer) }, queue.sizeOf(producer));
  }

  /** Requests held in memory: pushes (queued, under way, waiting, settling) and control requests being answered. */
  const held = () => items.size + tasks.size;

  function roomCheck(): void {
    if (held() <= lowWater) for (const resolve of roomWaiters.splice(0)) resolve();
  }

  function release(item: Item): void {
    if (items.get(item.request.uuid) === item) items.delete(item.request.uuid);
    roomCheck();
  }

  function track(task: Promise<void>, set: Set<Promise<void>>): void {
    set.add(task);
    void task.finally(() => {
      set.delete(task);
      if (set === tasks) roomCheck();
    });
  }

  function respondLater(topic: string | undefined, response: NotifyResponse, producer: string): Promise<boolean> {
    if (topic === undefined) return Promise.resolve(true);
    return responder.send(topic, response).then(
      () => {
        metrics.responses.inc({ type: response.type });
        emit({ kind: 'responded', uuid: response.uuid, producer, response });
        return true;
      },
      (err: unknown) => {
        logger.warn({ uuid: response.uuid, responseTopic: topic, err: String(err) }, 'response not sent: the request stays for Kafka to redeliver');
        return false;
      },
    );
  }

  // --- taking requests in ---------------------------------------------------------------

  function reject(parsed: Extract<ParsedRequest, { kind: 'invalid' }>, ack: () => void): void {
    const { reply, reason, code } = parsed;
    metrics.rejected.inc({ reason: code });
    logger.warn({ uuid: reply.uuid, responseTopic: reply.responseTopic, reason }, 'request rejected');
    emit({ kind: 'rejected', uuid: reply.uuid, reason });
    if (reply.responseTopic === undefined) {
      ack();
      return;
    }
    const response: NotifyResponse = { type: 'failure', uuid: reply.uuid, versionUtcSeconds: reply.versionUtcSeconds, handledAt: Date.now() / 1000, reason };
    track(respondLater(reply.responseTopic, response, reply.responseTopic).then((sent) => { if (sent) ack(); }), tasks);
  }

  function acceptPush(request: PushRequest, ack: () => void): void {
    metrics.received.inc({ type: request.type });
    const web = options.web;
    if (web === undefined || request.args.userIds === undefined || items.has(request.uuid)) {
      enqueue(request, ack);
      return;
    }
    const parts = splitAck(ack);
    enqueue(request, parts.part());
    track(fanOut(web, request, request.args.userIds, parts), tasks);
  }

  /** Queues a Web Push delivery for each active web subscription of the users. */
  async function fanOut(web: WebPushChannel, request: PushRequest, userIds: string[], parts: ReturnType<typeof splitAck>): Promise<void> {
    const devices = await withRetries('web_devices', () => web.devices.of(userIds));
    if (devices === undefined) return; // stopping: the record stays unacknowledged, Kafka delivers it again
    for (const device of devices) {
      metrics.webPushDeliveries.inc();
      enqueue(webDelivery(request, device), parts.part(), device);
    }
    parts.seal();
  }

  function enqueue(request: PushRequest, ack: () => void, web?: WebDevice): void {
    if (items.has(request.uuid)) {
      metrics.duplicates.inc();
      logger.debug({ uuid: request.uuid }, 'duplicate request: one with this uuid is being handled');
      ack();
      return;
    }
    const item: Item = {
      request,
      producer: request.responseTopic ?? NO_PRODUCER,
      attempts: 0,
      firstAttemptAt: null,
      ack,
      stored: false,
      state: 'queued',
      ignoreVersion: false,
      storeChain: Promise.resolve(),
      ...(web ? { web } : {}),
    };
    items.set(request.uuid, item);
    queue.push(item.producer, item);
    updateDepth(item.producer);
    kick();
  }

  /** Retries `fn` until it succeeds; undefined once the notifier stops (nothing else ends it). */
  function withRetries<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    return retry(fn, {
      policy: STORE_RETRY,
      signal: stopping.signal,
      onFailure(err, attempt, retryInMs) {
        metrics.storeFailures.inc({ operation: what });
        logger.warn({ err: String(err), attempt, retryInMs }, `mongo: ${what} failed`);
      },
    }).catch(() => undefined);
  }

  async function connect(request: ConnectRequest, ack: () => void): Promise<void> {
    metrics.received.inc({ type: request.type });
    const topic = request.responseTopic;
    const previous = currentVersions.get(topic);
    if (previous === undefined || request.versionUtcSeconds > previous) currentVersions.set(topic, request.versionUtcSeconds);
    const saved = await withRetries('version', async () => { await versions.raise(topic, request.versionUtcSeconds); return true; });
    if (!saved) return; // stopping: Kafka delivers the _connect again after a restart
    logger.info({ responseTopic: topic, versionUtcSeconds: currentVersions.get(topic), previous }, 'connect: current version of the response topic');
    dropStale(topic);
    const response: NotifyResponse = { type: 'success', uuid: request.uuid, versionUtcSeconds: request.versionUtcSeconds, handledAt: Date.now() / 1000 };
    if (await respondLater(topic, response, topic)) ack();
  }

  async function ping(request: ControlRequest, ack: () => void): Promise<void> {
    metrics.received.inc({ type: request.type });
    const response: NotifyResponse = { type: 'success', uuid: request.uuid, versionUtcSeconds: request.versionUtcSeconds, handledAt: Date.now() / 1000 };
    if (await respondLater(request.responseTopic, response, request.responseTopic ?? NO_PRODUCER)) ack();
  }

  // --- stale retries --------------------------------------------------------------------

  function isStale(item: Item): boolean {
    if (item.attempts === 0 || item.ignoreVersion || item.producer === NO_PRODUCER) return false;
    const current = currentVersions.get(item.producer);
    return current !== undefined && item.request.versionUtcSeconds < current;
  }

  function drop(item: Item): void {
    if (item.state === 'waiting') waiting--;
    clearTimeout(item.timer);
    item.state = 'settling';
    metrics.dropped.inc({ reason: 'stale' });
    metrics.retriesPending.set(waiting);
    logger.info({
      uuid: item.request.uuid, responseTopic: item.producer, versionUtcSeconds: item.request.versionUtcSeconds,
      currentVersion: currentVersions.get(item.producer), attempts: item.attempts,
    }, 'stale retry dropped: a newer _connect for its response topic');
    emit({ kind: 'dropped', uuid: item.request.uuid, producer: item.producer, reason: 'stale' });
    const ack = item.ack;
    item.ack = undefined;
    ack?.();
    const removed = item.storeChain.then(async () => {
      if (item.stored) await retries.remove(item.request.uuid).catch((err: unknown) => storeFailed('remove', item, err));
    }).finally(() => release(item));
    track(removed, tasks);
  }

  function dropStale(topic: string): void {
    for (const item of queue.remove(topic, isStale)) drop(item);
    updateDepth(topic);
    for (const item of items.values()) if (item.producer === topic && item.state === 'waiting' && isStale(item)) drop(item);
  }

  // --- sending ----------------------------------------------------------------------------

  function storeFailed(operation: string, item: Item, err: unknown): void {
    metrics.storeFailures.inc({ operation });
    logger.warn({ uuid: item.request.uuid, err: String(err) }, `mongo: retry store ${operation} failed`);
  }

  function stored(item: Item): StoredRequest {
    return {
      uuid: item.request.uuid,
      request: item.request,
      attempts: item.attempts,
      firstAttemptAt: item.firstAttemptAt,
      dueAt: item.dueAt ?? Date.now(),
      ...(item.lastError === undefined ? {} : { lastError: item.lastError }),
      ...(item.ignoreVersion ? { ignoreVersion: true } : {}),
      ...(item.web ? { web: item.web } : {}),
    };
  }

  /** Saves the request for its retry; once saved, its Kafka record is settled. */
  function persist(item: Item): void {
    const entry = stored(item);
    item.storeChain = item.storeChain.then(async () => {
      try {
        await retries.save(entry);
        item.stored = true;
        const ack = item.ack;
        item.ack = undefined;
        ack?.();
      } catch (err) {
        // Still retried from memory; the Kafka record stays unacknowledged until the request ends.
        storeFailed('save', item, err);
      }
    });
  }

  function due(item: Item): void {
    if (item.state !== 'waiting') return;
    waiting--;
    metrics.retriesPending.set(waiting);
    item.state = 'queued';
    item.timer = undefined;
    queue.push(item.producer, item, { front: true });
    updateDepth(item.producer);
    kick();
  }

  function wait(item: Item, delayMs: number): void {
    item.state = 'waiting';
    item.dueAt = Date.now() + delayMs;
    waiting++;
    metrics.retriesPending.set(waiting);
    item.timer = setTimeout(() => due(item), delayMs);
  }

  function log(item: Item, decision: Decision): void {
    const fields = {
      uuid: item.request.uuid, type: item.request.type, responseTopic: item.request.responseTopic,
      ...(item.web ? { channel: 'web', userId: item.web.userId, subscriptionId: item.web.subscriptionId } : {}),
      status: decision.status, statusClass: decision.statusClass, attempt: item.attempts, operation: decision.operation,
      ...(decision.action === 'retry' ? { retryInMs: decision.delayMs, reason: decision.reason } : decision.reason ? { reason: decision.reason } : {}),
    };
    if (decision.partial !== undefined && decision.level !== 'silent') {
      logger.info({ uuid: item.request.uuid, responseTopic: item.request.responseTopic, errors: decision.partial }, 'push partly sent: OneSignal answered 2xx with errors');
    }
    if (decision.level === 'silent') return;
    const message = decision.action === 'retry' ? 'push will be retried' : decision.operation === 'failure' ? 'push failed' : 'push sent';
    logger[decision.level](fields, message);
  }

  async function finish(item: Item, response: NotifyResponse, statusClass: string): Promise<void> {
    item.state = 'settling';
    const { sentAt } = item.request;
    if (sentAt !== undefined) metrics.requestAgeSeconds.observe({ status_class: statusClass }, Math.max(0, Date.now() / 1000 - sentAt));
    // A Web Push delivery answers nobody: the request's response is its OneSignal call's.
    const sent = await respondLater(item.web ? undefined : item.request.responseTopic, response, item.producer);
    if (!sent) {
      // Not settled: a stored request is tried again after a restart, an unstored one is redelivered by Kafka.
      release(item);
      return;
    }
    await item.storeChain;
    if (item.stored) {
      try {
        await retries.remove(item.request.uuid);
      } catch (err) {
        storeFailed('remove', item, err); // it comes back after a restart: one more (idempotent) call, one more response
      }
    }
    const ack = item.ack;
    item.ack = undefined;
    ack?.();
    release(item);
  }

  async function attempt(item: Item): Promise<void> {
    if (isStale(item)) {
      drop(item);
      return;
    }
    if (item.web && !options.web) {
      // Stored while Web Push was on; it is off now (no VAPID keys): nothing can send it.
      const reason = 'web push is off (no VAPID keys): delivery dropped';
      logger.warn({ uuid: item.request.uuid, subscriptionId: item.web.subscriptionId }, reason);
      await finish(item, { type: 'failure', uuid: item.request.uuid, versionUtcSeconds: item.request.versionUtcSeconds, handledAt: Date.now() / 1000, reason }, 'none');
      return;
    }
    item.state = 'sending';
    inFlight++;
    metrics.inFlight.set(inFlight);
    item.attempts++;
    item.firstAttemptAt ??= Date.now();
    const started = performance.now();
    const web = item.web && options.web;
    const answer: Answer = web && item.web ? await web.sender.send(item.web.webPush, webPushPayload(item.request)) : await sender.send(notificationBody(item.request));
    const statusClass = statusClassOf(answer);
    (web ? metrics.webPushCalls : metrics.sends).inc({ status_class: statusClass });
    (web ? metrics.webPushCallSeconds : metrics.sendSeconds).observe({ status_class: statusClass }, (performance.now() - started) / 1000);
    inFlight--;
    metrics.inFlight.set(inFlight);
    kick();
    const status = answer.kind === 'http' ? answer.status : undefined;
    emit({ kind: 'answered', uuid: item.request.uuid, producer: item.producer, attempt: item.attempts, ...(status === undefined ? {} : { status }) });

    if (item.web && answer.kind === 'http' && GONE.has(answer.status)) {
      await subscriptionGone(item, item.web, answer.status, statusClass);
      return;
    }

    const now = Date.now();
    const decision = decide({ request: item.request, answer, attempts: item.attempts, firstAttemptAt: item.firstAttemptAt, now, policy, random: options.random });
    metrics.outcomes.inc({ operation: decision.operation, status_class: statusClass });
    if (decision.partial !== undefined) metrics.partial.inc();
    log(item, decision);

    if (decision.action === 'respond') {
      await finish(item, decision.response, statusClass);
      return;
    }
    // OneSignal's Retry-After holds every send; a push service's only delays that delivery.
    if (decision.retryAfterMs !== undefined && !item.web) {
      pacer.holdUntil(now + decision.retryAfterMs);
      metrics.retryAfterHolds.inc();
    }
    item.ignoreVersion = decision.ignoreVersion;
    item.lastError = decision.reason;
    if (isStale(item)) {
      drop(item);
      return;
    }
    emit({
      kind: 'retry', uuid: item.request.uuid, producer: item.producer, attempt: item.attempts, delayMs: decision.delayMs,
      ...(status === undefined ? {} : { status }), ...(decision.retryAfterMs === undefined ? {} : { retryAfterMs: decision.retryAfterMs }),
    });
    wait(item, decision.delayMs);
    persist(item);
  }

  /** 404/410: the browser's subscription is no more. The device is removed (`device.removed` on `users`), the delivery ends. */
  async function subscriptionGone(item: Item, device: WebDevice, status: number, statusClass: string): Promise<void> {
    const removed = await withRetries('remove_device', async () => { await options.web!.devices.remove(device); return true; });
    if (removed === undefined) {
      release(item); // stopping before Kafka took it: the request comes again (Kafka, or the retry store)
      return;
    }
    metrics.webPushRemoved.inc();
    metrics.outcomes.inc({ operation: 'failure', status_class: statusClass });
    logger.info({ uuid: item.request.uuid, userId: device.userId, subscriptionId: device.subscriptionId, status }, 'web push subscription gone: device removed');
    const reason = `status ${status}: the subscription is gone, device removed`;
    await finish(item, { type: 'failure', uuid: item.request.uuid, versionUtcSeconds: item.request.versionUtcSeconds, handledAt: Date.now() / 1000, reason }, statusClass);
  }

  async function loop(): Promise<void> {
    while (!stopping.signal.aborted) {
      if (queue.size === 0 || inFlight >= options.concurrency) {
        await new Promise<void>((resolve) => { wake = resolve; });
        continue;
      }
      const waited = await pacer.take(stopping.signal);
      if (waited > 0) {
        metrics.rateLimitWaits.inc();
        metrics.rateLimitWaitSeconds.inc(waited / 1000);
      }
      if (stopping.signal.aborted) break;
      // Picked after the wait, so a request that arrived meanwhile takes its turn now.
      const next = queue.next();
      if (!next) continue;
      updateDepth(next.producer);
      track(attempt(next.item).catch((err: unknown) => {
        logger.error({ err, uuid: next.item.request.uuid }, 'unexpected error while sending');
      }), attempts);
    }
  }

  return {
    async start() {
      for (const [topic, version] of await versions.loadAll()) currentVersions.set(topic, version);
      const loaded = await retries.loadAll();
      const now = Date.now();
      for (const entry of loaded) {
        if (items.has(entry.uuid)) continue;
        const item: Item = {
          request: entry.request,
          producer: entry.request.responseTopic ?? NO_PRODUCER,
          attempts: entry.attempts,
          firstAttemptAt: entry.firstAttemptAt,
          stored: true,
          state: 'queued',
          dueAt: entry.dueAt,
          ...(entry.lastError === undefined ? {} : { lastError: entry.lastError }),
          ignoreVersion: entry.ignoreVersion === true,
          storeChain: Promise.resolve(),
          ...(entry.web ? { web: entry.web } : {}),
        };
        items.set(entry.uuid, item);
        if (entry.dueAt <= now) {
          queue.push(item.producer, item);
          updateDepth(item.producer);
        } else wait(item, entry.dueAt - now);
      }
      if (loaded.length > 0) logger.info({ requests: loaded.length, versions: currentVersions.size }, 'retry store loaded');
      loopDone = loop();
    },

    take(value, ack) {
      if (stopping.signal.aborted) return false;
      const parsed = notifyRequestsTopic.decode(value);
      switch (parsed.kind) {
        case 'invalid':
          reject(parsed, ack);
          break;
        case 'push':
          acceptPush(parsed.request, ack);
          break;
        case 'connect':
          track(connect(parsed.request, ack), tasks);
          break;
        case 'ping':
          track(ping(parsed.request, ack), tasks);
          break;
      }
      return true;
    },

    capacity: {
      full: () => held() >= options.queueMax,
      whenRoom: () => (held() <= lowWater ? Promise.resolve() : new Promise<void>((resolve) => { roomWaiters.push(resolve); })),
    },

    stats: () => ({ held: held(), queued: queue.size, inFlight, waiting }),

    stop() {
      stopped ??= (async () => {
        stopping.abort();
        kick();
        await loopDone;
        while (attempts.size > 0 || tasks.size > 0) await Promise.all([...attempts, ...tasks]);
        // Park what waits: queued (never tried, or due again) and waiting for a retry.
        const parked: Item[] = [];
        for (const { item } of queue.drain()) parked.push(item);
        for (const item of items.values()) {
          if (item.state !== 'waiting') continue;
          clearTimeout(item.timer);
          parked.push(item);
        }
        waiting = 0;
        metrics.retriesPending.set(0);
        for (const producer of queue.producers()) updateDepth(producer);
        await Promise.all(parked.map((item) => item.storeChain));
        const unsaved = parked.filter((item) => !item.stored);
        if (unsaved.length > 0) {
          try {
            await retries.saveMany(unsaved.map(stored));
            for (const item of unsaved) {
              const ack = item.ack;
              item.ack = undefined;
              ack?.();
            }
            logger.info({ requests: unsaved.length }, 'stopping: waiting requests parked in the retry store');
          } catch (err) {
            metrics.storeFailures.inc({ operation: 'park' });
            logger.warn({ requests: unsaved.length, err: String(err) }, 'stopping: could not park waiting requests; Kafka delivers them again');
          }
        }
        for (const item of parked) release(item);
      })();
      return stopped;
    },
  };
}
