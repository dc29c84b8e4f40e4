import { describe, expect, it } from 'vitest';
import { createAckTracker } from './ack-tracker.ts';

const point = (partition: number, offset: number) => ({ topic: 't', partition, offset });

describe('ack tracker', () => {
  it('commits up to the first message not acknowledged, never the highest acknowledged', () => {
    const t = createAckTracker();
    const [m10, m11, m12, m13] = [10, 11, 12, 13].map((o) => t.track('t', 0, o));
    expect(t.commitPoints()).toEqual([point(0, 10)]);
    t.committed([point(0, 10)]);
    m12!.ack();
    m13!.ack();
    expect(t.commitPoints()).toEqual([]); // 10 and 11 are open
    m10!.ack();
    expect(t.commitPoints()).toEqual([point(0, 11)]);
    t.committed([point(0, 11)]);
    m11!.ack();
    expect(t.commitPoints()).toEqual([point(0, 14)]);
    expect(t.unacked()).toBe(0);
  });

  it('offers a point again until it is committed (a failed commit is retried)', () => {
    const t = createAckTracker();
    t.track('t', 0, 5).ack();
    expect(t.commitPoints()).toEqual([point(0, 6)]);
    expect(t.commitPoints()).toEqual([point(0, 6)]);
    t.committed([point(0, 6)]);
    expect(t.commitPoints()).toEqual([]);
  });

  it('keeps partitions apart, and forgets revoked ones: their late acks change nothing', () => {
    const t = createAckTracker();
    const p0 = t.track('t', 0, 5);
    t.track('t', 1, 7).ack();
    expect(t.commitPoints()).toEqual([point(0, 5), point(1, 8)]);
    t.retain((_topic, partition) => partition === 1);
    expect(t.unacked()).toBe(0);
    expect(t.next('t', 0)).toBeUndefined();
    p0.ack();
    expect(t.commitPoints()).toEqual([point(1, 8)]);
    // Assigned again later: a fresh start from what the group committed.
    t.track('t', 0, 5);
    expect(t.unacked()).toBe(1);
    expect(t.commitPoints()).toEqual([point(1, 8), point(0, 5)]);
  });

  it('counts a message acknowledged twice once', () => {
    const t = createAckTracker();
    t.track('t', 0, 0);
    const m1 = t.track('t', 0, 1);
    m1.ack();
    m1.ack();
    expect(t.unacked()).toBe(1);
  });

  it('untrack forgets a message offered and not taken: it is offered again, and an ack of it changes nothing', () => {
    const t = createAckTracker();
    t.track('t', 0, 3).ack();
    const refused = t.track('t', 0, 4);
    t.untrack('t', 0, 4);
    expect(t.next('t', 0)).toBe(4);
    expect(t.unacked()).toBe(0);
    refused.ack();
    expect(t.unacked()).toBe(0);
    expect(t.commitPoints()).toEqual([point(0, 4)]);
    t.track('t', 0, 4);
    expect(t.commitPoints()).toEqual([point(0, 4)]);
  });

  it('stays correct past its compaction of finished entries', () => {
    const t = createAckTracker();
    const messages = Array.from({ length: 5_000 }, (_, o) => t.track('t', 0, o));
    for (let o = 0; o < 3_000; o++) messages[o]!.ack();
    expect(t.commitPoints()).toEqual([point(0, 3_000)]);
    for (let o = 4_999; o >= 3_001; o--) messages[o]!.ack();
    expect(t.commitPoints()).toEqual([point(0, 3_000)]);
    messages[3_000]!.ack();
    expect(t.commitPoints()).toEqual([point(0, 5_000)]);
  });
});
