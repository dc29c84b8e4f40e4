import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { ConfigError, int, string, url, type ConfigOf, type Reader } from '@pushtech/config';
import { DEFAULT_TRACKER_STREAM } from '@pushtech/contracts';
import { serviceConfig } from '@pushtech/service';

/** Fastify's `trustProxy`: false, true, a hop count, or the proxies' addresses/CIDRs. */
export type TrustProxy = boolean | number | string[];

const proxyAddressNames = ['loopback', 'linklocal', 'uniquelocal'];

function isProxyAddress(item: string): boolean {
  if (proxyAddressNames.includes(item)) return true;
  const [address, prefix, ...rest] = item.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const version = isIP(address);
  if (version === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (version === 4 ? 32 : 128);
}

function trustProxy(): Reader<TrustProxy> {
  const rule = `false, true, a number of hops, or a comma-separated list of addresses/CIDRs (or ${proxyAddressNames.join(', ')})`;
  return {
    read(name, raw) {
      const value = raw?.trim() ?? '';
      if (value === '' || value === 'false') return false;
      if (value === 'true') return true;
      if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
      const items = value.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length > 0 && items.every(isProxyAddress)) return items;
      throw new ConfigError(name, `must be ${rule}`, raw);
    },
    describe: () => `${rule} (default false)`,
  };
}

function origins(): Reader<string[]> {
  const rule = 'a comma-separated list of origins like https://example.com';
  return {
    read(name, raw) {
      const items = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      for (const item of items) {
        let origin: string | undefined;
        try {
          origin = new URL(item).origin;
        } catch {
          origin = undefined;
        }
        if (origin !== item) throw new ConfigError(name, `must be ${rule} (scheme, host and port only)`, raw);
      }
      return items;
    },
    describe: () => `${rule} (default empty: no cross-origin access)`,
  };
}

/**
 * Fastify's own hop count trusts nobody (since 5.x it fails closed), so a count
 * becomes a function trusting the `hops` nearest addresses: the socket's peer and
 * the last `hops - 1` entries of X-Forwarded-For. Only safe when every request
 * passes through those proxies.
 */
export function fastifyTrustProxy(value: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value !== 'number') return value;
  return (_address, hop) => hop < value;
}

export const trackerConfigSpec = {
  ...serviceConfig({ port: 8081 }),
  TRACKER_ID: string({ default: hostname() }),
  REDIS_URL: url({ protocols: ['redis:', 'rediss:'], default: 'redis://127.0.0.1:16379' }),
  REDIS_STREAM: string({ default: DEFAULT_TRACKER_STREAM }),
  STREAM_HIGH_WATER_MARK: int({ min: 1, default: 1_000_000 }),
  TRUST_PROXY: trustProxy(),
  CORS_ORIGINS: origins(),
};

export type TrackerConfig = ConfigOf<typeof trackerConfigSpec>;
