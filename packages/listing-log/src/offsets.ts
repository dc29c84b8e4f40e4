/** Offsets of a topic's partitions, as plain numbers (Kafka offsets stay far below 2^53). */
import { retryRetriable, type KafkaAdmin, type Offsets } from '@pushtech/kafka';

export type { Offsets };

export interface Watermarks {
  /** The oldest offset still on the broker. */
  low: Offsets;
  /** The offset the next record will get: the end of each partition. */
  high: Offsets;
}

export async function watermarks(admin: KafkaAdmin, topic: string): Promise<Watermarks> {
  const low: Offsets = new Map();
  const high: Offsets = new Map();
  for (const p of await retryRetriable(() => admin.fetchTopicOffsets(topic))) {
    low.set(p.partition, Number(p.low));
    high.set(p.partition, Number(p.high));
  }
  return { low, high };
}

/** What group `groupId` committed on `topic`: the next offset to read, -1 where it has committed nothing. */
export async function committedOffsets(admin: KafkaAdmin, groupId: string, topic: string): Promise<Offsets> {
  const [answer] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((answer?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

/** Where to start reading after a consumer's commits: its offset, or the beginning where it has none. */
export function startAfter(committed: Offsets, marks: Watermarks): Offsets {
  const start: Offsets = new Map();
  for (const [partition, low] of marks.low) {
    const offset = committed.get(partition) ?? -1;
    start.set(partition, offset < low ? low : offset);
  }
  return start;
}

/** True when `position` (next offset to read, by partition) has reached `target` on every partition. */
export function reached(position: Offsets, target: Offsets): boolean {
  for (const [partition, end] of target) if ((position.get(partition) ?? 0) < end) return false;
  return true;
}

/** Records between `position` and `target`, summed over partitions. */
export function behind(position: Offsets, target: Offsets): number {
  let sum = 0;
  for (const [partition, end] of target) sum += Math.max(0, end - (position.get(partition) ?? 0));
  return sum;
}
