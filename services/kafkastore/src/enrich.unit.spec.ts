import { describe, expect, it } from 'vitest';
import type { TrackedEvent } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { createEnricher, createUserAgentCache, lookupGeo, parseUserAgent } from './enrich.ts';

const IPHONE_SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const DESKTOP_CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

function tracked(context: TrackedEvent['data']['context']): TrackedEvent {
  return createEnvelope({ source: 'tracker/test', type: 'page.view', subject: 'user-1', data: { path: '/a', context } });
}

describe('lookupGeo', () => {
  it('places a public address in its country, with position and time zone', () => {
    expect(lookupGeo('8.8.8.8')).toEqual({
      country: 'US', region: expect.any(String), city: expect.any(String),
      lat: expect.any(Number), lon: expect.any(Number), timezone: expect.stringMatching(/^America\//),
    });
    expect(lookupGeo('81.169.145.105')).toMatchObject({ country: 'DE', timezone: 'Europe/Berlin' });
  });

  it('reads IPv6 and IPv4-mapped IPv6 addresses', () => {
    expect(lookupGeo('2a00:1450:4001:82b::200e')).toMatchObject({ country: 'DE', city: 'Frankfurt am Main' });
    expect(lookupGeo('::ffff:8.8.8.8')).toMatchObject({ country: 'US' });
  });

  it.each(['127.0.0.1', '::1', '10.1.2.3', '172.16.0.1', '192.168.1.1', 'fe80::1', '::ffff:127.0.0.1', 'not-an-ip', ''])(
    'gives null for private, loopback and malformed address %j', (ip) => {
      expect(lookupGeo(ip)).toBeNull();
    });
});

describe('parseUserAgent', () => {
  it('knows an iPhone running Safari', () => {
    expect(parseUserAgent(IPHONE_SAFARI)).toEqual({
      device: { type: 'mobile', vendor: 'Apple', model: 'iPhone' },
      os: { name: 'iOS', version: '17.4' },
      browser: { name: 'Mobile Safari', version: '17.4' },
    });
  });

  it('leaves the device type out for a desktop browser, and everything out without a user agent', () => {
    expect(parseUserAgent(DESKTOP_CHROME)).toEqual({ device: {}, os: { name: 'Windows', version: '10' }, browser: { name: 'Chrome', version: '124.0.0.0' } });
    expect(parseUserAgent(undefined)).toEqual({ device: {}, os: {}, browser: {} });
  });
});

describe('user agent cache', () => {
  it('parses a user agent once and answers the next lookups from the cache', () => {
    const cache = createUserAgentCache(10);
    const first = cache.parse(IPHONE_SAFARI);
    const second = cache.parse(IPHONE_SAFARI);
    expect(second).toBe(first);
    expect(cache.stats).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('is bounded and evicts the least recently used entry', () => {
    const cache = createUserAgentCache(2);
    cache.parse('agent-a');
    cache.parse('agent-b');
    cache.parse('agent-a'); // a is now more recent than b
    cache.parse('agent-c'); // evicts b
    expect(cache.stats.size).toBe(2);
    cache.parse('agent-a');
    expect(cache.stats.hits).toBe(2);
    cache.parse('agent-b');
    expect(cache.stats.misses).toBe(4);
  });
});

describe('createEnricher', () => {
  it('adds geo, device, os and browser to data.context and keeps everything else', () => {
    const event = tracked({ ip: '8.8.8.8', userAgent: IPHONE_SAFARI, userId: 'user-1', clientTime: '2025-01-01T00:00:00Z' });
    const enriched = createEnricher()(event);
    expect(enriched).toEqual({
      ...event,
      data: {
        path: '/a',
        context: {
          ...event.data.context,
          geo: expect.objectContaining({ country: 'US' }),
          device: { type: 'mobile', vendor: 'Apple', model: 'iPhone' },
          os: { name: 'iOS', version: '17.4' },
          browser: { name: 'Mobile Safari', version: '17.4' },
        },
      },
    });
    expect(event.data.context).not.toHaveProperty('geo'); // the input is not modified
  });

  it('gives geo null for a loopback address, without an error', () => {
    const enriched = createEnricher()(tracked({ ip: '127.0.0.1' }));
    expect(enriched.data.context.geo).toBeNull();
    expect(enriched.data.context.device).toEqual({});
  });
});
