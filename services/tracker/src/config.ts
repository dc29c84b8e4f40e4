import { hostname } from 'node:os';
import { ConfigError, int, string, trustProxy, url, type ConfigOf, type Reader } from '@pushtech/config';
import { DEFAULT_TRACKER_STREAM } from '@pushtech/contracts';
import { serviceConfig } from '@pushtech/service';

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
