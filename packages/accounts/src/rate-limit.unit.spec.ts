import { describe, expect, it } from 'vitest';
import { AttemptLimiter, clientKey } from './rate-limit.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

describe('AttemptLimiter (token buckets)', () => {
  it('allows `limit` attempts at once, then refuses with the time until the next one', () => {
    const time = clock();
    const limiter = new AttemptLimiter({ limit: 3, windowMs: 60_000, maxKeys: 10, now: time.now });
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 20_000 });
    time.advance(5_000);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 15_000 });
  });

  it('refills evenly over the window, up to the limit', () => {
    const time = clock();
    const limiter = new AttemptLimiter({ limit: 3, windowMs: 60_000, maxKeys: 10, now: time.now });
    for (let i = 0; i < 3; i++) limiter.take('a');
    time.advance(20_000);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    time.advance(10 * 60_000);
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('keys are independent, and reset forgets one', () => {
    const time = clock();
    const limiter = new AttemptLimiter({ limit: 1, windowMs: 60_000, maxKeys: 10, now: time.now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
    limiter.reset('a');
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('keeps at most maxKeys keys, dropping the least recently used', () => {
    const time = clock();
    const limiter = new AttemptLimiter({ limit: 1, windowMs: 60_000, maxKeys: 3, now: time.now });
    limiter.take('target');
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`spray-${i}`);
      if (i % 2 === 0) expect(limiter.take('target').allowed).toBe(false); // used often: never forgotten
    }
    expect(limiter.size).toBe(3);
    expect(limiter.take('spray-0').allowed).toBe(true); // long unused: forgotten
  });
});

describe('clientKey', () => {
  it('an IPv4 address is itself, also when IPv4-mapped', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('an IPv6 address counts by its /64, however it is written', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
  });
});
