import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { retryRetriable } from './topics.ts';

// What the broker answers for a moment while a partition's leader moves: kafkajs builds it from
// its error table entry (its typings say Error, its constructor reads type, code and retriable).
const notLeaderEntry = { type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true, message: 'This server is not the leader for that topic-partition' };
const notLeader = () => new KafkaJSProtocolError(notLeaderEntry as unknown as Error);
const offsets = [{ partition: 0, offset: '5', high: '5', low: '0' }];

/** An admin whose answers are `answers`, one per call (an Error is thrown). */
function adminAnswering(answers: (Error | typeof offsets)[]) {
  const calls: string[] = [];
  return {
    calls,
    async fetchTopicOffsets(topic: string) {
      calls.push(topic);
      const answer = answers.shift()!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

describe('retryRetriable(() => admin.fetchTopicOffsets(topic))', () => {
  it('asks again while the broker answers "not the leader"', async () => {
    const admin = adminAnswering([notLeader(), notLeader(), offsets]);
    expect(await retryRetriable(() => admin.fetchTopicOffsets('events'))).toEqual(offsets);
    expect(admin.calls).toEqual(['events', 'events', 'events']);
  });

  it('gives up after its attempts, with the broker’s error', async () => {
    const admin = adminAnswering([notLeader(), notLeader(), notLeader()]);
    await expect(retryRetriable(() => admin.fetchTopicOffsets('events'), 3)).rejects.toThrow('not the leader');
    expect(admin.calls).toHaveLength(3);
  });

  it('does not ask again after an error that retrying cannot fix', async () => {
    const admin = adminAnswering([new KafkaJSNumberOfRetriesExceeded(new Error('connection refused'), { retryCount: 2, retryTime: 300 }), offsets]);
    await expect(retryRetriable(() => admin.fetchTopicOffsets('events'))).rejects.toThrow('connection refused');
    expect(admin.calls).toHaveLength(1);
  });
});
