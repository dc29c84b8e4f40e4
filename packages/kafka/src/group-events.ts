/** What every consumer mode of this package needs to know about its kafkajs consumer's group. */
import type { Consumer } from 'kafkajs';
import type { Logger } from '@pushtech/logging';

/** Partitions by topic. */
export type Assignment = Record<string, number[]>;

export interface GroupEventOptions {
  logger: Logger;
  groupId: string;
  /** True once stopping: a crash then is the stop cutting a join short, not worth an error line. */
  stopping(): boolean;
  onAssigned?(assignment: Assignment): void;
  /** The partitions are no longer this member's: a rebalance started, the consumer crashed, or it stopped. */
  onRevoked?(reason: 'rebalancing' | 'crashed' | 'stopped'): void;
  /** The consumer failed; `restarting`: the client starts it again on its own. */
  onCrash?(error: Error, restarting: boolean): void;
}

export interface GroupEvents {
  /** Resolves at the first assignment. */
  joined: Promise<void>;
  /**
   * Resolves when the first fetch has completed: after the join and after the start offsets were
   * resolved, so a group that starts at the end of a topic reads what is written from then on.
   */
  reading: Promise<void>;
  /** Joined, and not crashed or stopped since. */
  member(): boolean;
}

export function watchGroup(consumer: Consumer, options: GroupEventOptions): GroupEvents {
  const { logger, groupId } = options;
  let member = false;
  let resolveJoined!: () => void;
  const joined = new Promise<void>((resolve) => { resolveJoined = resolve; });
  const reading = new Promise<void>((resolve) => {
    const remove = consumer.on(consumer.events.FETCH, () => { remove(); resolve(); });
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member = true;
    logger.info({ groupId, assignment: payload.memberAssignment }, 'kafka: partitions assigned');
    options.onAssigned?.(payload.memberAssignment);
    resolveJoined();
  });
  consumer.on(consumer.events.REBALANCING, () => options.onRevoked?.('rebalancing'));
  consumer.on(consumer.events.STOP, () => {
    member = false;
    options.onRevoked?.('stopped');
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    member = false;
    const { error, restart } = payload;
    // Stopping while the group is still forming ends the pending join with a connection error.
    if (options.stopping()) logger.info({ groupId, err: error.message }, 'kafka: consumer stopped while joining its group');
    else logger.error({ groupId, err: error.message, restart }, 'kafka: consumer crashed');
    options.onRevoked?.('crashed');
    if (!options.stopping()) options.onCrash?.(error, restart);
  });
  return { joined, reading, member: () => member };
}
