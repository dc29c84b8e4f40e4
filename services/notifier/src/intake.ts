/**
 * Reads `notify.requests` into the notifier and commits offsets only for
 * requests that are settled (done, or stored for retry) — not when they were
 * read. The fair scheduler settles requests out of order, so each partition's
 * commit is the first request not settled yet (`offsets.ts`). When the
 * notifier holds `queueMax` requests, consumption pauses until half of them
 * are gone.
 *
 * This needs a consumer with manual commits and pause/resume, which
 * `runConsumer` of `@pushtech/kafka` does not offer (it commits a batch once
 * its handler returns). It uses the kafkajs consumer of the shared `Kafka`
 * client directly, in this one file; it belongs in `@pushtech/kafka` (see
 * the README).
 */
import type { Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { Gauge } from 'prom-client';
import type { Notifier } from './notifier.ts';
import { createOffsetTracker } from './offsets.ts';

export interface IntakeOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  logger: Logger;
  notifier: Pick<Notifier, 'take' | 'capacity'>;
  intakePaused?: Gauge;
  /** Offsets of settled requests are committed at most this often. */
  commitIntervalMs?: number;
  /** A group without a committed offset starts at the oldest request (default), so none produced before the first start is missed. */
  fromBeginning?: boolean;
  /** Bytes per fetch and partition: with `queueMax`, bounds what is held in memory. */
  maxBytesPerPartition?: number;
  /** How long the group waits for a silent member (one that was killed) before handing its partitions on. */
  sessionTimeoutMs?: number;
}

export interface Intake {
  /** Resolves once the group is joined and partitions are assigned. */
  joined: Promise<void>;
  paused(): boolean;
  /** Stops taking requests in (consumption paused); settled ones are still committed. */
  stopTaking(): void;
  /** Commits what is settled, leaves the group and disconnects. */
  close(): Promise<void>;
}

export async function startIntake(options: IntakeOptions): Promise<Intake> {
  const { kafka, groupId, topic, notifier } = options;
  const logger = options.logger.child({ component: 'intake', topic, groupId });
  const commitIntervalMs = options.commitIntervalMs ?? 200;
  const tracker = createOffsetTracker();
  /** Per partition: the offset after the last record taken in; earlier ones delivered again are skipped. */
  const nextExpected = new Map<string, bigint>();
  const keyOf = (t: string, p: number) => `${p}:${t}`;
  let taking = true;
  let pausedForRoom = false;
  let commitTimer: NodeJS.Timeout | undefined;
  let commitChain = Promise.resolve();
  let commitEverything = false;
  let closing = false;

  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    // Handlers only enqueue, so heartbeats flow; a member that died is noticed after 10 s (kafkajs: 30 s).
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: 1_000,
    // A fetch waits this long for new records (it returns at once when there are some); while consumption
    // is paused kafkajs sleeps this long between looks, so it is also the delay of a resume and of a stop.
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
  });

  async function commit(all: boolean): Promise<void> {
    const offsets = all || commitEverything ? tracker.positions() : tracker.takeCommits();
    if (offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets);
      commitEverything = false;
    } catch (err) {
      commitEverything = true;
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'kafka: committing offsets failed; trying again');
      scheduleCommit();
    }
  }

  function scheduleCommit(): void {
    if (commitTimer || closing) return;
    commitTimer = setTimeout(() => {
      commitTimer = undefined;
      commitChain = commitChain.then(() => commit(false));
    }, commitIntervalMs);
  }

  function pauseForRoom(): void {
    if (pausedForRoom) return;
    pausedForRoom = true;
    consumer.pause([{ topic }]);
    options.intakePaused?.set(1);
    logger.info('queues full: consumption paused');
    void notifier.capacity.whenRoom().then(() => {
      pausedForRoom = false;
      options.intakePaused?.set(0);
      if (!taking) return;
      consumer.resume([{ topic }]);
      logger.info('room in the queues: consumption resumed');
    });
  }

  let resolveJoined: () => void;
  const joined = new Promise<void>((resolve) => { resolveJoined = resolve; });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const assignment = event.payload.memberAssignment;
    const owned = (t: string, p: number) => assignment[t]?.includes(p) === true;
    tracker.retain(owned);
    for (const key of nextExpected.keys()) {
      const [p, ...rest] = key.split(':');
      if (!owned(rest.join(':'), Number(p))) nextExpected.delete(key);
    }
    logger.info({ assignment }, 'joined the group');
    resolveJoined();
  });
  consumer.on(consumer.events.CRASH, (event) => {
    // Closing while the group is still forming ends the pending join with a connection error.
    if (closing) logger.info({ err: String(event.payload.error) }, 'kafka consumer stopped while joining the group');
    else logger.error({ err: String(event.payload.error), restart: event.payload.restart }, 'kafka consumer crashed');
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning ?? true });
  // Not awaited: joining can take up to the session timeout of a member that died, and
  // stopping must not wait for that. `joined` tells when partitions are assigned.
  const running = consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const key = keyOf(batch.topic, batch.partition);
      for (const message of batch.messages) {
        if (!taking || !isRunning() || isStale()) break;
        const offset = BigInt(message.offset);
        const expected = nextExpected.get(key);
        if (expected !== undefined && offset < expected) {
          // Delivered again after a rejoin: already taken in (and tracked).
          resolveOffset(message.offset);
          continue;
        }
        if (notifier.capacity.full()) {
          pauseForRoom();
          break;
        }
        tracker.track(batch.topic, batch.partition, message.offset);
        const taken = notifier.take(message.value, () => {
          tracker.done(batch.topic, batch.partition, message.offset);
          scheduleCommit();
        });
        if (!taken) break; // stopping: it stays uncommitted and comes again after a restart
        nextExpected.set(key, offset + 1n);
        resolveOffset(message.offset);
      }
      await heartbeat();
    },
  }).catch((err: unknown) => {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'kafka consumer failed to start');
  });

  let closed: Promise<void> | undefined;
  return {
    joined,
    paused: () => pausedForRoom || !taking,
    stopTaking() {
      if (!taking) return;
      taking = false;
      consumer.pause([{ topic }]);
    },
    close() {
      closed ??= (async () => {
        taking = false;
        closing = true;
        clearTimeout(commitTimer);
        commitTimer = undefined;
        await commitChain;
        await commit(true);
        logger.info({ unsettled: tracker.outstanding() }, 'stopping consumer');
        await consumer.disconnect();
        await running;
      })();
      return closed;
    },
  };
}
