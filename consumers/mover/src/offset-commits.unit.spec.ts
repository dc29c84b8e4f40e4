import { describe, expect, it } from 'vitest';
import { createOffsetCommits } from './offset-commits.ts';

describe('offset commits', () => {
  it('moves past an event only when it and every event before it are done', () => {
    const commits = createOffsetCommits();
    const a = commits.track(0, 10);
    const b = commits.track(0, 11);
    const c = commits.track(0, 12);
    commits.track(1, 5).done();
    expect(commits.committable()).toEqual([{ partition: 0, offset: 10 }, { partition: 1, offset: 6 }]);
    commits.committed([{ partition: 0, offset: 10 }, { partition: 1, offset: 6 }]);
    b.done();
    c.done();
    expect(commits.committable()).toEqual([]);
    a.done();
    expect(commits.committable()).toEqual([{ partition: 0, offset: 13 }]);
  });

  it('starts over after a rebalance', () => {
    const commits = createOffsetCommits();
    commits.track(0, 10);
    commits.reset();
    expect(commits.committable()).toEqual([]);
  });
});
