import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelay } from './backoff.ts';

const policy = { baseMs: 100, maxMs: 1_600 };

describe('retryDelay', () => {
  it('doubles the step after every failed attempt, half fixed and half random', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, policy, () => 0))).toEqual([50, 100, 200, 400, 800]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1_600]);
  });

  it('never shrinks from one attempt to the next, whatever the jitter, and stops growing at maxMs', () => {
    let random = 0.37;
    const jitter = () => (random = (random * 7.13) % 1);
    const delays = Array.from({ length: 12 }, (_, i) => retryDelay(i + 1, policy, jitter));
    for (let i = 1; i < 5; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
    for (const d of delays.slice(4)) {
      expect(d).toBeGreaterThanOrEqual(800);
      expect(d).toBeLessThanOrEqual(1_600);
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, in ms from now', () => {
    const now = Date.parse('2025-06-01T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Sun, 01 Jun 2025 10:00:07 GMT', now)).toBe(7_000);
    expect(parseRetryAfter('Sun, 01 Jun 2025 09:00:00 GMT', now)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
  });
});
