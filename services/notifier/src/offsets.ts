/**
 * Which offsets may be committed when records finish out of order. The fair
 * scheduler finishes requests in a different order than Kafka delivered them
 * (B's one request before A's thousand), so a partition's committed offset is
 * the first record that is not finished yet: everything before it is done or
 * stored for retry, and a restart starts there.
 */

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read (Kafka's commit convention), as a string. */
  offset: string;
}

export interface OffsetTracker {
  /** A record was taken in; offsets of one partition arrive in increasing order. */
  track(topic: string, partition: number, offset: string): void;
  /** A tracked record is finished (done, or stored for retry). */
  done(topic: string, partition: number, offset: string): void;
  /** Commit points that moved since the last call. */
  takeCommits(): TopicPartitionOffset[];
  /** Where each partition stands, moved or not (for the final commit). */
  positions(): TopicPartitionOffset[];
  /** Records taken in and not finished. */
  outstanding(): number;
  /** Forgets partitions not in `keep` (after a rebalance took them away). */
  retain(keep: (topic: string, partition: number) => boolean): void;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Tracked offsets not yet known to be below the commit point, in order. */
  open: bigint[];
  head: number;
  finished: Set<bigint>;
  /** Next offset after the last tracked one. */
  end: bigint;
  committed: bigint | undefined;
}

export function createOffsetTracker(): OffsetTracker {
  const partitions = new Map<string, PartitionState>();
  let outstanding = 0;

  const keyOf = (topic: string, partition: number) => `${partition}:${topic}`;

  function stateOf(topic: string, partition: number): PartitionState {
    const key = keyOf(topic, partition);
    let state = partitions.get(key);
    if (!state) {
      state = { topic, partition, open: [], head: 0, finished: new Set(), end: 0n, committed: undefined };
      partitions.set(key, state);
    }
    return state;
  }

  function commitPoint(state: PartitionState): bigint {
    while (state.head < state.open.length && state.finished.has(state.open[state.head]!)) {
      state.finished.delete(state.open[state.head]!);
      state.head++;
    }
    if (state.head > 1024 && state.head * 2 > state.open.length) {
      state.open = state.open.slice(state.head);
      state.head = 0;
    }
    return state.head < state.open.length ? state.open[state.head]! : state.end;
  }

  return {
    track(topic, partition, offset) {
      const state = stateOf(topic, partition);
      const o = BigInt(offset);
      state.open.push(o);
      if (o + 1n > state.end) state.end = o + 1n;
      outstanding++;
    },
    done(topic, partition, offset) {
      const state = partitions.get(keyOf(topic, partition));
      if (!state) return; // the partition was revoked meanwhile
      const o = BigInt(offset);
      if (state.finished.has(o)) return;
      state.finished.add(o);
      outstanding--;
    },
    takeCommits() {
      const commits: TopicPartitionOffset[] = [];
      for (const state of partitions.values()) {
        const point = commitPoint(state);
        if (state.end === 0n || point === state.committed) continue;
        state.committed = point;
        commits.push({ topic: state.topic, partition: state.partition, offset: point.toString() });
      }
      return commits;
    },
    positions() {
      return [...partitions.values()].filter((s) => s.end > 0n).map((s) => ({ topic: s.topic, partition: s.partition, offset: commitPoint(s).toString() }));
    },
    outstanding: () => outstanding,
    retain(keep) {
      for (const [key, state] of partitions) {
        if (keep(state.topic, state.partition)) continue;
        outstanding -= state.open.length - state.head - state.finished.size;
        partitions.delete(key);
      }
    },
  };
}
