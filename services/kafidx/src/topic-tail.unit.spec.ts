import { describe, expect, it } from 'vitest';
import type { ViewedMessage } from './message-filter.ts';
import { mergeBacklog } from './topic-tail.ts';

const m = (topic: string, partition: number, offset: number, timestamp: number): ViewedMessage =>
  ({ topic, partition, offset: String(offset), timestamp, key: null, value: null, raw: null });

describe('backlog of the last N', () => {
  it('merges partitions by timestamp, oldest first', () => {
    const merged = mergeBacklog([m('a', 0, 5, 30), m('a', 0, 6, 50), m('a', 1, 9, 10), m('a', 1, 10, 40)], 10);
    expect(merged.map((x) => x.timestamp)).toEqual([10, 30, 40, 50]);
  });

  it('keeps the newest N of each topic (each partition gave up to N)', () => {
    const merged = mergeBacklog([m('a', 0, 1, 1), m('a', 0, 2, 4), m('a', 1, 1, 2), m('a', 1, 2, 3), m('b', 0, 7, 0)], 2);
    expect(merged.map((x) => `${x.topic}${x.timestamp}`)).toEqual(['b0', 'a3', 'a4']);
  });

  it('equal timestamps keep Kafka order within a partition', () => {
    const merged = mergeBacklog([m('a', 0, 3, 5), m('a', 0, 2, 5), m('a', 0, 1, 5)], 3);
    expect(merged.map((x) => x.offset)).toEqual(['1', '2', '3']);
  });
});
