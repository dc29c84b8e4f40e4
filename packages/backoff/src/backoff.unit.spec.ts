import { describe, expect, it } from 'vitest';
import { backoffDelay, retry } from './index.ts';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 1_000, jitter: 0 };

  it('doubles from the initial delay up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('stays at the cap after thousands of failures (no overflow to Infinity or NaN)', () => {
    expect(backoffDelay(policy, 10_000)).toBe(1_000);
  });

  it('takes a random share of the delay: equal jitter by default, full jitter with 1', () => {
    const equal = { initialMs: 100, maxMs: 1_000 };
    expect(backoffDelay(equal, 3, () => 0)).toBe(200);
    expect(backoffDelay(equal, 3, () => 1)).toBe(400);
    expect(backoffDelay({ ...equal, jitter: 1 }, 3, () => 0)).toBe(0);
  });
});

describe('retry', () => {
  const fast = { initialMs: 1, maxMs: 2, jitter: 0 };

  it('calls again after each failure until it succeeds, reporting each failure and its delay', async () => {
    const failures: [number, number][] = [];
    let calls = 0;
    const value = await retry(async () => {
      calls += 1;
      if (calls < 3) throw new Error(`no ${calls}`);
      return 'yes';
    }, { policy: fast, onFailure: (_err, n, delay) => failures.push([n, delay]) });
    expect(value).toBe('yes');
    expect(failures).toEqual([[1, 1], [2, 2]]);
  });

  it('gives up on a failure that is not retryable, and after maxAttempts', async () => {
    let calls = 0;
    const fatal = new Error('fatal');
    await expect(retry(async () => { calls += 1; throw fatal; }, { policy: fast, retryable: (e) => e !== fatal })).rejects.toBe(fatal);
    expect(calls).toBe(1);
    calls = 0;
    await expect(retry(async () => { calls += 1; throw new Error('again'); }, { policy: fast, maxAttempts: 3 })).rejects.toThrow('again');
    expect(calls).toBe(3);
  });

  it('stops waiting when its signal aborts, with the signal\'s reason', async () => {
    const stop = new AbortController();
    const reason = new Error('stopping');
    const pending = retry(async () => { throw new Error('down'); }, { policy: { initialMs: 60_000, maxMs: 60_000 }, signal: stop.signal, onFailure: () => stop.abort(reason) });
    await expect(pending).rejects.toBe(reason);
  });
});
