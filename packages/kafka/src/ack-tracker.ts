/**
 * Which offsets may be committed when messages finish out of order: a
 * partition's commit point is its first message not acknowledged yet (or the
 * offset after the last one taken, when every one is), so everything before
 * it is finished and a restart starts there. A message finished after a
 * later one never lets the commit pass it.
 */

export interface CommitPoint {
  topic: string;
  partition: number;
  /** The next offset to read (Kafka's commit convention). */
  offset: number;
}

export interface TrackedMessage {
  /** Finished; safe to call more than once, and after its partition was taken away (then it does nothing). */
  ack(): void;
}

export interface AckTracker {
  /** A message was taken; offsets of one partition come in increasing order. */
  track(topic: string, partition: number, offset: number): TrackedMessage;
  /** Forgets the last message tracked on its partition (it was offered, and not taken after all). */
  untrack(topic: string, partition: number, offset: number): void;
  /** The offset after the last message taken on a partition: earlier ones delivered again are skipped. */
  next(topic: string, partition: number): number | undefined;
  /** Commit points that moved past the last one `committed`. */
  commitPoints(): CommitPoint[];
  committed(points: CommitPoint[]): void;
  /** Messages taken and not acknowledged. */
  unacked(): number;
  /** Forgets the partitions not in `keep` (a rebalance took them away). */
  retain(keep: (topic: string, partition: number) => boolean): void;
}

interface Entry {
  offset: number;
  acked: boolean;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Tracked entries from `head` on: those not known to be below the commit point, in offset order. */
  entries: Entry[];
  head: number;
  unacked: number;
  /** The offset after the last one tracked. */
  next: number;
  committed: number;
}

export function createAckTracker(): AckTracker {
  const partitions = new Map<string, PartitionState>();
  const keyOf = (topic: string, partition: number) => `${partition}:${topic}`;

  function commitPoint(state: PartitionState): number {
    while (state.head < state.entries.length && state.entries[state.head]!.acked) state.head++;
    if (state.head > 1024 && state.head * 2 > state.entries.length) {
      state.entries = state.entries.slice(state.head);
      state.head = 0;
    }
    return state.head < state.entries.length ? state.entries[state.head]!.offset : state.next;
  }

  return {
    track(topic, partition, offset) {
      const key = keyOf(topic, partition);
      let state = partitions.get(key);
      if (state === undefined) {
        state = { topic, partition, entries: [], head: 0, unacked: 0, next: offset, committed: -1 };
        partitions.set(key, state);
      }
      const owner = state;
      const entry: Entry = { offset, acked: false };
      owner.entries.push(entry);
      owner.unacked++;
      owner.next = offset + 1;
      return {
        ack() {
          if (entry.acked) return;
          entry.acked = true;
          owner.unacked--;
        },
      };
    },
    untrack(topic, partition, offset) {
      const state = partitions.get(keyOf(topic, partition));
      const last = state?.entries.at(-1);
      if (state === undefined || last === undefined || last.offset !== offset || last.acked) return;
      state.entries.pop();
      state.unacked--;
      last.acked = true; // an ack that still comes changes nothing
      state.next = offset;
    },
    next: (topic, partition) => partitions.get(keyOf(topic, partition))?.next,
    commitPoints() {
      const points: CommitPoint[] = [];
      for (const state of partitions.values()) {
        const offset = commitPoint(state);
        if (offset > state.committed) points.push({ topic: state.topic, partition: state.partition, offset });
      }
      return points;
    },
    committed(points) {
      for (const point of points) {
        const state = partitions.get(keyOf(point.topic, point.partition));
        if (state !== undefined && point.offset > state.committed) state.committed = point.offset;
      }
    },
    unacked() {
      let sum = 0;
      for (const state of partitions.values()) sum += state.unacked;
      return sum;
    },
    retain(keep) {
      for (const [key, state] of partitions) if (!keep(state.topic, state.partition)) partitions.delete(key);
    },
  };
}
