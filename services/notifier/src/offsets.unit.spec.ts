import { describe, expect, it } from 'vitest';
import { createOffsetTracker } from './offsets.ts';

describe('offset tracker', () => {
  it('commits up to the first record that is not settled', () => {
    const t = createOffsetTracker();
    for (const o of ['10', '11', '12', '13']) t.track('r', 0, o);
    expect(t.takeCommits()).toEqual([{ topic: 'r', partition: 0, offset: '10' }]);
    t.done('r', 0, '12');
    t.done('r', 0, '13');
    expect(t.takeCommits()).toEqual([]); // 10 and 11 are open
    t.done('r', 0, '10');
    expect(t.takeCommits()).toEqual([{ topic: 'r', partition: 0, offset: '11' }]);
    t.done('r', 0, '11');
    expect(t.takeCommits()).toEqual([{ topic: 'r', partition: 0, offset: '14' }]);
    expect(t.outstanding()).toBe(0);
    expect(t.positions()).toEqual([{ topic: 'r', partition: 0, offset: '14' }]);
  });

  it('keeps partitions apart, and forgets revoked ones', () => {
    const t = createOffsetTracker();
    t.track('r', 0, '5');
    t.track('r', 1, '7');
    t.done('r', 1, '7');
    expect(t.takeCommits()).toEqual([{ topic: 'r', partition: 0, offset: '5' }, { topic: 'r', partition: 1, offset: '8' }]);
    t.retain((_topic, partition) => partition === 1);
    expect(t.outstanding()).toBe(0);
    t.done('r', 0, '5'); // settled after the partition was taken away: ignored
    expect(t.positions()).toEqual([{ topic: 'r', partition: 1, offset: '8' }]);
  });

  it('counts a record settled twice once', () => {
    const t = createOffsetTracker();
    t.track('r', 0, '0');
    t.track('r', 0, '1');
    t.done('r', 0, '1');
    t.done('r', 0, '1');
    expect(t.outstanding()).toBe(1);
  });
});
