import { ConfigErrors, loadConfig } from '@pushtech/config';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fastifyTrustProxy } from '@pushtech/config';
import { trackerConfigSpec } from './config.ts';

const load = (env: Record<string, string>) => loadConfig(trackerConfigSpec, env);

describe('tracker config', () => {
  it('has a default for every variable', () => {
    expect(load({})).toEqual({
      PORT: 8081,
      HOST: '0.0.0.0',
      TRACKER_ID: hostname(),
      REDIS_URL: 'redis://127.0.0.1:16379',
      REDIS_STREAM: 'pushtech:events',
      STREAM_HIGH_WATER_MARK: 1_000_000,
      TRUST_PROXY: false,
      CORS_ORIGINS: [],
      LOG_LEVEL: 'info',
    });
  });

  it.each([
    ['false', false],
    ['0', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.1, 10.1.0.0/16,loopback', ['10.0.0.1', '10.1.0.0/16', 'loopback']],
    ['::1,fd00::/8', ['::1', 'fd00::/8']],
  ])('TRUST_PROXY=%s', (raw, expected) => {
    expect(load({ TRUST_PROXY: raw }).TRUST_PROXY).toEqual(expected);
  });

  it.each(['yes', '10.0.0.300', '10.0.0.0/33', 'proxy.local'])('rejects TRUST_PROXY=%s naming the variable', (raw) => {
    expect(() => load({ TRUST_PROXY: raw })).toThrow(/TRUST_PROXY must be false, true, a number of hops/);
  });

  it('a hop count trusts that many addresses nearest to the tracker', () => {
    const trust = fastifyTrustProxy(2) as (address: string, hop: number) => boolean;
    expect([0, 1, 2].map((hop) => trust('10.0.0.1', hop))).toEqual([true, true, false]);
  });

  it('CORS_ORIGINS: a list of origins', () => {
    expect(load({ CORS_ORIGINS: 'https://example.com, http://localhost:3000' }).CORS_ORIGINS).toEqual([
      'https://example.com',
      'http://localhost:3000',
    ]);
    expect(() => load({ CORS_ORIGINS: 'https://example.com/' })).toThrow(/CORS_ORIGINS must be a comma-separated list of origins/);
    expect(() => load({ CORS_ORIGINS: 'example.com' })).toThrow(ConfigErrors);
  });

  it('reports every bad variable at once', () => {
    try {
      load({ PORT: '65536', STREAM_HIGH_WATER_MARK: '-1', LOG_LEVEL: 'loud', REDIS_URL: 'http://x' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigErrors).errors.map((e) => e.variable)).toEqual(['PORT', 'LOG_LEVEL', 'REDIS_URL', 'STREAM_HIGH_WATER_MARK']);
    }
  });
});
