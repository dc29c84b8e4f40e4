import { contracts } from '@pushtech/contracts';
import type { OutgoingMessage, Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { Redis } from '@pushtech/redis';
import { backoffDelay, sleep, type BackoffPolicy } from '@pushtech/service';
import { createEnricher, type Enrich } from './enrich.ts';
import type { KafkastoreMetrics } from './metrics.ts';
import { produceRequests, type TopicMessages } from './records.ts';
import { parseEntry } from './stream-entry.ts';
import { isMissingGroup, trackerStream, type StreamEntry } from './tracker-stream.ts';

/**
 * The loop: read a batch from the tracker's stream, enrich it, produce it to
 * Kafka, then acknowledge and delete it in Redis. Nothing is acknowledged
 * before Kafka has it (at-least-once). Built from injected clients so tests
 * run it in-process.
 */

export interface KafkastoreOptions {
  /** Commands that must not wait behind a blocking read (janitor, gauges) use it; the loop reads on its own duplicate. */
  redis: Redis;
  producer: Producer;
  logger: Logger;
  metrics: KafkastoreMetrics;
  stream: string;
  group: string;
  consumer: string;
  eventsTopic: string;
  dlqTopic: string;
  batchMaxEvents: number;
  batchMaxWaitMs: number;
  /** Entries pending longer than this (a dead consumer's) are taken over. */
  claimIdleMs: number;
  /** How often the stream length and pending gauges are refreshed. */
  gaugeRefreshMs?: number;
  /**
   * On stop, how long it goes on moving what the stream still holds, and retrying a batch
   * that Kafka does not accept, before it leaves the rest in Redis.
   */
  stopGraceMs?: number;
  enrich?: Enrich;
  /** How many produced ids it remembers to skip copies (default RECENT_IDS). */
  recentIds?: number;
}

export interface KafkastoreStatus {
  /** The last produce attempt failed with this message (cleared by the next success). */
  kafkaError?: string;
  /** The last Redis command of the loop failed with this message (cleared by the next success). */
  redisError?: string;
}

export interface Kafkastore {
  status(): KafkastoreStatus;
  /**
   * Moves what the stream still holds (so a tracker pod that goes away leaves nothing
   * behind), within the stop grace period; then stops the loops and closes the reading connection.
   */
  stop(): Promise<void>;
}

/** The default of `stopGraceMs`. */
export const STOP_GRACE_MS = 10_000;

/** How many of the ids it produced last the kafkastore remembers, to skip an entry that repeats one. */
export const RECENT_IDS = 100_000;

/**
 * The ids of the last `capacity` events Kafka acknowledged: a Set keeps insertion order, so the
 * oldest is the first one. An entry with one of them is a copy (a client that sent a batch again,
 * with the ids it gave its events, after an answer it never got): acknowledged, not produced again.
 */
function recentIds(capacity: number) {
  const ids = new Set<string>();
  return {
    has: (id: string) => ids.has(id),
    add(id: string) {
      ids.add(id);
      if (ids.size > capacity) ids.delete(ids.values().next().value!);
    },
  };
}

/** Between attempts, for Kafka at start and for the loop's Redis reads, acknowledgements and produce requests: 100 ms doubling to 5 s. */
export const RETRY_POLICY: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

export function startKafkastore(options: KafkastoreOptions): Kafkastore {
  const { producer, metrics, eventsTopic, dlqTopic, batchMaxEvents, batchMaxWaitMs, claimIdleMs } = options;
  const logger = options.logger.child({ component: 'kafkastore', stream: options.stream, consumer: options.consumer });
  const enrich = options.enrich ?? createEnricher();
  const stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
  const names = { stream: options.stream, group: options.group, consumer: options.consumer };

  const reader = options.redis.duplicate();
  reader.on('error', () => {}); // failures surface on the commands; ioredis reconnects on its own
  const readerStream = trackerStream(reader, names);
  const sideStream = trackerStream(options.redis, names);

  const status: KafkastoreStatus = {};
  let stopping = false;
  let stopDeadline = Infinity;
  let groupReady = false;
  /** Read our own pending list (from `pendingCursor`) before new entries: at start, and after a claim. */
  let drainPending = true;
  let pendingCursor = '0-0';
  /** Set by the janitor; the loop turns it into a new drain before its next read. */
  let claimedSinceRead = false;

  const produced = recentIds(options.recentIds ?? RECENT_IDS);

  /** Failures in a row, each reset by a success. */
  let redisFailures = 0;
  let kafkaFailures = 0;

  function redisFailed(err: unknown, what: string): number {
    if (isMissingGroup(err)) groupReady = false;
    redisFailures += 1;
    const delay = backoffDelay(RETRY_POLICY, redisFailures);
    status.redisError = errorMessage(err);
    logger.warn({ err: status.redisError, attempt: redisFailures, retryInMs: delay }, `redis: ${what} failed`);
    return delay;
  }

  function redisOk(): void {
    if (status.redisError !== undefined) logger.info('redis: reachable again');
    status.redisError = undefined;
    redisFailures = 0;
  }

  async function nextBatch(): Promise<StreamEntry[]> {
    if (!groupReady) {
      await readerStream.ensureGroup();
      groupReady = true;
    }
    if (claimedSinceRead) {
      claimedSinceRead = false;
      drainPending = true;
      pendingCursor = '0-0';
    }
    if (drainPending) {
      const entries = await readerStream.readPending(pendingCursor, batchMaxEvents);
      if (entries.length > 0) {
        pendingCursor = entries.at(-1)!.id;
        return entries;
      }
      drainPending = false;
    }
    // Empty only when nothing new came within the wait: what stop() takes for "drained".
    return readerStream.readNew(batchMaxEvents, batchMaxWaitMs);
  }

  /** Produces until Kafka acknowledges; false only when stopping and the grace period is over. */
  async function produce(batches: TopicMessages[], count: number): Promise<boolean> {
    for (;;) {
      const started = performance.now();
      try {
        await producer.sendBatch(batches);
        metrics.produceSeconds.observe((performance.now() - started) / 1000);
        if (status.kafkaError !== undefined) logger.info({ failures: kafkaFailures }, 'kafka: reachable again');
        status.kafkaError = undefined;
        kafkaFailures = 0;
        return true;
      } catch (err) {
        metrics.produceFailures.inc();
        status.kafkaError = errorMessage(err);
        kafkaFailures += 1;
        const delay = backoffDelay(RETRY_POLICY, kafkaFailures);
        if (stopping && Date.now() + delay > stopDeadline) {
          logger.warn({ err: status.kafkaError, entries: count }, 'kafka: giving up on the batch in hand to stop; its entries stay pending in redis');
          return false;
        }
        logger.warn({ err: status.kafkaError, entries: count, attempt: kafkaFailures, retryInMs: delay }, 'kafka: produce failed; entries stay in redis');
        await sleep(delay);
      }
    }
  }

  async function ackAndDelete(ids: string[]): Promise<boolean> {
    for (;;) {
      try {
        await readerStream.ackAndDelete(ids);
        redisOk();
        return true;
      } catch (err) {
        const delay = redisFailed(err, 'XACK/XDEL');
        // Unacknowledged entries are read again (our pending list) or claimed: duplicates, not loss.
        if (stopping && Date.now() + delay > stopDeadline) return false;
        await sleep(delay);
      }
    }
  }

  /** False when stopping made it give up on the batch (produce or acknowledge): its entries stay pending in Redis. */
  async function handle(entries: StreamEntry[]): Promise<boolean> {
    metrics.eventsIn.inc(entries.length);
    metrics.batchSize.observe(entries.length);
    const started = performance.now();
    const events: OutgoingMessage[] = [];
    const rejected: OutgoingMessage[] = [];
    const time = new Date().toISOString();
    const eventIds = new Set<string>();
    let copies = 0;
    for (const { id, fields } of entries) {
      if (fields === null) {
        logger.warn({ streamId: id }, 'pending entry no longer in the stream; acknowledging it');
        continue;
      }
      const parsed = parseEntry(fields);
      let reason: string;
      let raw: string;
      if (parsed.ok) {
        if (produced.has(parsed.event.id) || eventIds.has(parsed.event.id)) {
          copies++;
          continue;
        }
        eventIds.add(parsed.event.id);
        try {
          events.push(contracts.events.encode(enrich(parsed.event)));
          continue;
        } catch (err) {
          reason = `enrichment failed: ${errorMessage(err)}`;
          raw = JSON.stringify(parsed.event);
        }
      } else {
        ({ reason, raw } = parsed);
      }
      logger.warn({ streamId: id, reason }, 'unparseable stream entry: sent to the DLQ');
      rejected.push(contracts.eventsDlq.encode({ streamId: id, stream: options.stream, reason, raw, time }));
    }
    metrics.enrichSeconds.observe((performance.now() - started) / 1000);

    const requests = produceRequests([{ topic: eventsTopic, messages: events }, { topic: dlqTopic, messages: rejected }]);
    for (const request of requests) {
      if (!(await produce(request, entries.length))) return false;
    }
    for (const eventId of eventIds) produced.add(eventId);
    metrics.eventsOut.inc(events.length);
    metrics.duplicates.inc(copies);
    metrics.dlq.inc(rejected.length);
    return ackAndDelete(entries.map((e) => e.id));
  }

  /** Until stop, then on until a read finds nothing more, or the grace period is over. */
  async function run(): Promise<void> {
    while (!(stopping && Date.now() >= stopDeadline)) {
      let entries: StreamEntry[];
      try {
        entries = await nextBatch();
        redisOk();
      } catch (err) {
        if (stopping) return;
        await sleep(redisFailed(err, 'reading the stream'));
        continue;
      }
      if (entries.length > 0) {
        if (!(await handle(entries))) return;
      } else if (stopping) {
        logger.info('stream drained for stop');
        return;
      }
    }
    logger.warn({ stopGraceMs }, 'stop grace period over: what the stream still holds waits there for the next start');
  }

  /** Takes over entries pending longer than `claimIdleMs`; the loop then reads them from our pending list. */
  async function claimIdle(): Promise<void> {
    let cursor = '0-0';
    let claimed = 0;
    do {
      const step = await sideStream.claimIdle(cursor, claimIdleMs, batchMaxEvents);
      cursor = step.cursor;
      claimed += step.claimed;
    } while (cursor !== '0-0' && !stopping);
    if (claimed > 0) {
      metrics.claimed.inc(claimed);
      logger.info({ claimed }, 'claimed entries left pending by an idle consumer');
      claimedSinceRead = true;
    }
  }

  async function refreshGauges(): Promise<void> {
    const { length, pending } = await sideStream.lengths();
    metrics.streamLength.set(length);
    metrics.streamPending.set(pending);
  }

  /** Runs `task` now and then every `everyMs` (never two at once) until stop; failures are logged and retried next time. */
  function every(everyMs: number, what: string, task: () => Promise<void>): { stop(): Promise<void> } {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();
    const tick = () => {
      running = task()
        .catch((err) => {
          if (!isMissingGroup(err)) logger.warn({ err: errorMessage(err) }, `${what} failed`);
        })
        .finally(() => {
          if (!stopping) timer = setTimeout(tick, everyMs).unref();
        });
    };
    timer = setTimeout(tick, 0).unref();
    return {
      async stop() {
        clearTimeout(timer);
        await running;
      },
    };
  }

  const loop = run();
  const janitor = every(Math.max(100, Math.floor(claimIdleMs / 2)), 'claiming idle entries', claimIdle);
  const gauges = every(options.gaugeRefreshMs ?? 5_000, 'refreshing stream gauges', refreshGauges);
  logger.info({ group: options.group, eventsTopic, dlqTopic, batchMaxEvents, batchMaxWaitMs, claimIdleMs }, 'kafkastore started');

  let stopped: Promise<void> | undefined;
  return {
    status: () => ({ ...status }),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        stopDeadline = Date.now() + stopGraceMs;
        await Promise.all([loop, janitor.stop(), gauges.stop()]);
        reader.disconnect();
        logger.info('kafkastore stopped');
      })();
      return stopped;
    },
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
