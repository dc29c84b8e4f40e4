/**
 * Reads `notify.requests` into the notifier and commits offsets only for
 * requests that are settled (done, or stored for retry) — not when they were
 * read. The fair scheduler settles requests out of order: each request is
 * acknowledged when it is settled, and each partition's commit is the first
 * request not settled yet (`runAckConsumer` of @pushtech/kafka). When the
 * notifier holds `queueMax` requests, consumption pauses until half of them
 * are gone.
 */
import { runAckConsumer, type Kafka } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { Gauge } from 'prom-client';
import type { Notifier } from './notifier.ts';

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
  const logger = options.logger.child({ component: 'intake', topic });
  let taking = true;
  let waitingForRoom = false;

  const consumer = await runAckConsumer({
    kafka,
    groupId,
    topics: [topic],
    logger,
    fromBeginning: options.fromBeginning ?? true,
    commitIntervalMs: options.commitIntervalMs ?? 200,
    sessionTimeoutMs: options.sessionTimeoutMs,
    maxBytesPerPartition: options.maxBytesPerPartition,
    take(message) {
      if (notifier.capacity.full()) {
        waitForRoom();
        return false;
      }
      // false: stopping; it stays uncommitted and comes again after a restart
      return notifier.take(message.value, message.ack);
    },
  });

  function waitForRoom(): void {
    if (waitingForRoom) return;
    waitingForRoom = true;
    options.intakePaused?.set(1);
    logger.info('queues full: consumption paused');
    void notifier.capacity.whenRoom().then(() => {
      waitingForRoom = false;
      options.intakePaused?.set(0);
      if (!taking) return;
      consumer.resume();
      logger.info('room in the queues: consumption resumed');
    });
  }

  return {
    joined: consumer.joined,
    paused: () => consumer.paused(),
    stopTaking() {
      taking = false;
      consumer.pause();
    },
    close() {
      taking = false;
      return consumer.stop();
    },
  };
}
