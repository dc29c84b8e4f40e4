import geoip from 'geoip-lite';
import UAParser from 'ua-parser-js';
import type { EnrichedContext, EnrichedEvent, Geo, TrackedEvent } from '@pushtech/contracts';

/**
 * Pure enrichment: the tracker's `data.context` (ip, user agent) gains `geo`,
 * `device`, `os` and `browser`. geoip-lite reads its database from the npm
 * package at start (no network); ua-parser-js is 1.x (2.x is AGPL).
 */

/**
 * Country, region, city, position and time zone of an IP address (v4, v6 or
 * v4-mapped v6). Private, loopback, link-local, unknown and malformed addresses
 * give null.
 */
export function lookupGeo(ip: string): Geo | null {
  const found = geoip.lookup(ip);
  if (found === null || found.country === '') return null;
  const [lat, lon] = found.ll;
  if (typeof lat !== 'number' || typeof lon !== 'number') return null;
  return { country: found.country, region: found.region, city: found.city, lat, lon, timezone: found.timezone };
}

export type DeviceInfo = Pick<EnrichedContext, 'device' | 'os' | 'browser'>;

const UNKNOWN_DEVICE: DeviceInfo = Object.freeze({ device: {}, os: {}, browser: {} });

/** Keeps only the fields that have a value, so the JSON carries no `undefined` holes. */
function defined<T extends Record<string, string | undefined>>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(fields)) if (value) out[key as keyof T] = value as T[keyof T];
  return out;
}

/** Browser, OS and device of a user agent. ua-parser-js leaves `device.type` unset for desktops. */
export function parseUserAgent(userAgent: string | undefined): DeviceInfo {
  if (!userAgent) return UNKNOWN_DEVICE;
  const result = new UAParser(userAgent).getResult();
  return {
    device: defined({ type: result.device.type, vendor: result.device.vendor, model: result.device.model }),
    os: defined({ name: result.os.name, version: result.os.version }),
    browser: defined({ name: result.browser.name, version: result.browser.version }),
  };
}

export interface UserAgentCache {
  parse(userAgent: string | undefined): DeviceInfo;
  readonly stats: { hits: number; misses: number; size: number };
}

/**
 * `parseUserAgent` behind a bounded LRU map: traffic repeats a few thousand
 * user agents, and parsing one costs far more than a map lookup. Cached results
 * are frozen, since every event with that user agent shares them.
 */
export function createUserAgentCache(maxEntries = 10_000): UserAgentCache {
  const entries = new Map<string, DeviceInfo>();
  const stats = { hits: 0, misses: 0, size: 0 };
  return {
    stats,
    parse(userAgent) {
      if (!userAgent) return UNKNOWN_DEVICE;
      const cached = entries.get(userAgent);
      if (cached !== undefined) {
        stats.hits++;
        // Map keeps insertion order: re-inserting makes this the most recently used.
        entries.delete(userAgent);
        entries.set(userAgent, cached);
        return cached;
      }
      stats.misses++;
      const parsed = deepFreeze(parseUserAgent(userAgent));
      entries.set(userAgent, parsed);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      stats.size = entries.size;
      return parsed;
    },
  };
}

function deepFreeze(info: DeviceInfo): DeviceInfo {
  Object.freeze(info.device);
  Object.freeze(info.os);
  Object.freeze(info.browser);
  return Object.freeze(info);
}

export type Enrich = (event: TrackedEvent) => EnrichedEvent;

/** The tracked event with geo and device data added to `data.context`; everything else unchanged. */
export function createEnricher(userAgents: UserAgentCache = createUserAgentCache()): Enrich {
  return (event) => {
    const context = event.data.context;
    const enriched: EnrichedContext = { ...context, geo: lookupGeo(context.ip), ...userAgents.parse(context.userAgent) };
    return { ...event, data: { ...event.data, context: enriched } };
  };
}
