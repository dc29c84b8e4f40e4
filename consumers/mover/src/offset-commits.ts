/**
 * Which offsets of `events` may be committed: an event is done once what it
 * asked for is done (its position applied, or nothing to do), and a
 * partition's offset moves past an event only when it and every event before
 * it are done. Positions wait up to MIN_INTERVAL_MS, so offsets trail a little;
 * a crash re-reads the events not done, and re-applying a position is harmless.
 */
export interface TrackedEvent {
  done(): void;
}

export interface OffsetCommits {
  track(partition: number, offset: number): TrackedEvent;
  /** The offsets to commit (next offset to read, by partition) that moved since the last `committed`. */
  committable(): { partition: number; offset: number }[];
  committed(offsets: { partition: number; offset: number }[]): void;
  /** After a rebalance: kafkajs reads again from the committed offsets. */
  reset(): void;
}

export function createOffsetCommits(): OffsetCommits {
  let partitions = new Map<number, { entries: { offset: number; done: boolean }[]; next: number; committed: number }>();
  return {
    track(partition, offset) {
      let p = partitions.get(partition);
      if (p === undefined) { p = { entries: [], next: offset, committed: -1 }; partitions.set(partition, p); }
      const entry = { offset, done: false };
      p.entries.push(entry);
      p.next = offset + 1;
      return { done: () => { entry.done = true; } };
    },
    committable() {
      const offsets: { partition: number; offset: number }[] = [];
      for (const [partition, p] of partitions) {
        let head = 0;
        while (head < p.entries.length && p.entries[head]!.done) head++;
        if (head > 0) p.entries.splice(0, head);
        const offset = p.entries[0]?.offset ?? p.next;
        if (offset > p.committed) offsets.push({ partition, offset });
      }
      return offsets;
    },
    committed(offsets) {
      for (const { partition, offset } of offsets) {
        const p = partitions.get(partition);
        if (p !== undefined && offset > p.committed) p.committed = offset;
      }
    },
    reset() {
      partitions = new Map();
    },
  };
}
