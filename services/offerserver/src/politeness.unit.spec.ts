import { describe, expect, it } from 'vitest';
import { createHostLimiter, robotsToken } from './politeness.ts';

describe('createHostLimiter', () => {
  it('lets N requests per host through in any minute, then says how long to wait', () => {
    let now = 0;
    const limiter = createHostLimiter(2, () => now);
    expect(limiter.take('a.example')).toBe(0);
    now = 10_000;
    expect(limiter.take('a.example')).toBe(0);
    expect(limiter.take('a.example')).toBe(50_000);
    expect(limiter.take('b.example')).toBe(0); // per host
    now = 60_001;
    expect(limiter.take('a.example')).toBe(0);
    expect(limiter.take('a.example')).toBe(9_999);
  });
});

describe('robotsToken', () => {
  it('is the User-Agent\'s product name', () => {
    expect(robotsToken('PushtechOfferServer/0.1 (+https://example.org)')).toBe('PushtechOfferServer');
  });
});
