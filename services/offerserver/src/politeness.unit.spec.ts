import { describe, expect, it } from 'vitest';
import { robotsToken } from './politeness.ts';

describe('robotsToken', () => {
  it('is the User-Agent\'s product name', () => {
    expect(robotsToken('PushtechOfferServer/0.1 (+https://example.org)')).toBe('PushtechOfferServer');
  });
});
