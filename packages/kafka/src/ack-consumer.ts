/**
 * A consumer in a group whose messages are finished one by one, in any order:
 * each message is offered to `take` in log order per partition, and its
 * `ack()` says it is finished (done, or stored somewhere safe). Each
 * partition's committed offset is its first message not acknowledged yet
 * (ack-tracker.ts), so a crash or a stop re-reads exactly the unfinished ones
 * and never skips one (at-least-once).
 *
 * Consumption pauses while `pause()` holds it, when `take` refuses a message
 * (until `resume()`), and while `maxUnacked` messages wait for their ack.
 */
import type { Logger } from '@pushtech/logging';
import { createAckTracker } from './ack-tracker.ts';
import { kafkajsOf, type Kafka } from './client.ts';
import { watchGroup, type Assignment } from './group-events.ts';
import { toConsumed, type ConsumedMessage } from './messages.ts';
import { subscribe } from './topics.ts';

export interface AckedMessage extends ConsumedMessage {
  /** Finished: the commit may move past this message once every earlier one is finished too. */
  ack(): void;
}

export interface AckConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  /**
   * One message, in log order per partition. Return false to refuse it: consumption pauses
   * (as `pause()`), and the message is offered again after `resume()`.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing takes the message
  take(message: AckedMessage): boolean | void;
  /** Where a group with no committed offset starts: the oldest message, or only new ones (default). */
  fromBeginning?: boolean;
  /** Consumption pauses while this many messages wait for their ack, and goes on at half of it. */
  maxUnacked?: number;
  /** Finished offsets are committed at most this often (default 500 ms), and at stop. */
  commitIntervalMs?: number;
  /** How long the group waits for a silent member (one that was killed) before handing its partitions on (default 10 s). */
  sessionTimeoutMs?: number;
  /** Bytes per fetch and partition. */
  maxBytesPerPartition?: number;
  /** How long a fetch waits for new messages; while paused, also the delay of a resume and of a stop (default 250 ms). */
  maxWaitMs?: number;
  onAssigned?(assignment: Assignment): void;
  /** The partitions are no longer this member's: a rebalance started, the consumer crashed, or it stopped. */
  onRevoked?(reason: 'rebalancing' | 'crashed' | 'stopped'): void;
}

export interface AckConsumer {
  /** Resolves at the first assignment. */
  joined: Promise<void>;
  /** Resolves after the first fetch (a new group that starts at the end reads what is written from then on). */
  reading: Promise<void>;
  /** Joined, and not crashed or stopped since. */
  member(): boolean;
  /** Stops offering messages until `resume()`; acks and commits go on. */
  pause(): void;
  resume(): void;
  paused(): boolean;
  /** Messages taken and not acknowledged. */
  unacked(): number;
  /** Stops taking messages, commits what is finished, leaves the group and disconnects. */
  stop(): Promise<void>;
}

export async function runAckConsumer(options: AckConsumerOptions): Promise<AckConsumer> {
  const { kafka, groupId, topics } = options;
  const logger = options.logger.child({ groupId });
  const commitIntervalMs = options.commitIntervalMs ?? 500;
  const maxUnacked = options.maxUnacked ?? Number.POSITIVE_INFINITY;
  const tracker = createAckTracker();
  const consumer = kafkajsOf(kafka).consumer({
    groupId,
    allowAutoTopicCreation: false,
    // Handlers do not hold the batch, so heartbeats flow; a member that died is noticed after 10 s (kafkajs: 30 s).
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: options.maxWaitMs ?? 250,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
  });
  let stopping = false;
  let held = false;
  let full = false;
  let pausedTopics = false;
  let commitTimer: NodeJS.Timeout | undefined;
  let commits: Promise<void> = Promise.resolve();

  const paused = () => held || full || stopping;
  // kafkajs forgets pauses when it restarts a crashed consumer: applied again after every join.
  function applyPause(): void {
    const want = paused();
    if (want === pausedTopics) return;
    pausedTopics = want;
    try {
      if (want) consumer.pause(topics.map((topic) => ({ topic })));
      else consumer.resume(topics.map((topic) => ({ topic })));
    } catch (err) {
      logger.debug({ err: String(err) }, 'kafka: pause/resume before the consumer runs; applied at the join');
    }
  }

  function acked(): void {
    if (full && tracker.unacked() <= maxUnacked / 2) {
      full = false;
      applyPause();
    }
    scheduleCommit();
  }

  async function commit(): Promise<void> {
    const points = tracker.commitPoints();
    if (points.length === 0) return;
    try {
      await consumer.commitOffsets(points.map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) })));
      tracker.committed(points);
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'kafka: committing offsets failed (rebalancing?); trying again');
      scheduleCommit();
    }
  }

  function scheduleCommit(): void {
    if (commitTimer !== undefined || stopping) return;
    commitTimer = setTimeout(() => {
      commitTimer = undefined;
      commits = commits.then(commit);
    }, commitIntervalMs);
  }

  const group = watchGroup(consumer, {
    logger,
    groupId,
    stopping: () => stopping,
    onAssigned(assignment) {
      // Partitions still ours are read again from the committed offset: what was taken since is skipped.
      tracker.retain((topic, partition) => assignment[topic]?.includes(partition) === true);
      if (full && tracker.unacked() <= maxUnacked / 2) full = false;
      pausedTopics = false;
      applyPause();
      options.onAssigned?.(assignment);
    },
    onRevoked: options.onRevoked,
  });

  await consumer.connect();
  try {
    await subscribe(consumer, topics, options.fromBeginning ?? false);
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw err;
  }
  // Not awaited: joining can take up to the session timeout of a member that died, and
  // stopping must not wait for that. `joined` tells when partitions are assigned.
  const running = consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const { topic, partition } = batch;
      for (const message of batch.messages) {
        if (paused() || !isRunning() || isStale()) break; // not resolved: fetched again after a resume
        const offset = Number(message.offset);
        const next = tracker.next(topic, partition);
        if (next !== undefined && offset < next) {
          resolveOffset(message.offset); // delivered again after a rejoin: already taken
          continue;
        }
        const tracked = tracker.track(topic, partition, offset);
        const taken = options.take({ ...toConsumed(topic, partition, message), ack: () => { tracked.ack(); acked(); } });
        if (taken === false) {
          tracker.untrack(topic, partition, offset);
          held = true;
          applyPause();
          break;
        }
        resolveOffset(message.offset);
        if (tracker.unacked() >= maxUnacked) {
          full = true;
          applyPause();
        }
      }
      scheduleCommit(); // also puts a new group's start on record before anything is finished
      await heartbeat();
    },
  }).catch((err: unknown) => {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'kafka: consumer failed to start');
  });
  applyPause();

  let stopped: Promise<void> | undefined;
  return {
    joined: group.joined,
    reading: group.reading,
    member: group.member,
    pause() {
      held = true;
      applyPause();
    },
    resume() {
      held = false;
      applyPause();
    },
    paused,
    unacked: () => tracker.unacked(),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        applyPause();
        clearTimeout(commitTimer);
        commitTimer = undefined;
        await commits;
        await commit();
        logger.info({ unacked: tracker.unacked() }, 'kafka: stopping consumer');
        await consumer.disconnect();
        await running;
      })();
      return stopped;
    },
  };
}
