/**
 * Events per minute by type, country, device type and OS, in memory, for the last
 * `retentionMs`. A minute is the floor of the event's `time` to the minute (UTC):
 * 12:05:59.999 is in 12:05, 12:06:00.000 in 12:06.
 *
 * - An event whose minute is older than the window, or more than `maxFutureMs` ahead
 *   of the clock, is not counted (`outside_window`).
 * - An id seen among the last `dedupeWindow` events is not counted again (`duplicate`):
 *   the kafkastore delivers at least once, and a retry repeats the same id.
 * - Each dimension keeps at most `maxKeysPerMinute` distinct values per minute; further
 *   values are counted under `other`, so odd event types cannot grow memory without bound.
 */
import type { CountedEvent } from './event-dimensions.ts';

export const MINUTE_MS = 60_000;
export const OTHER = 'other';

export type CountResult = 'counted' | 'duplicate' | 'outside_window';

export interface MinuteStats {
  /** The minute's start, RFC 3339 in UTC without milliseconds, e.g. `2026-11-24T12:05:00Z`. */
  minute: string;
  total: number;
  byType: { type: string; count: number }[];
  byCountry: { country: string; count: number }[];
  byDevice: { device: string; count: number }[];
  byOs: { os: string; count: number }[];
}

export interface MinuteCountsOptions {
  retentionMs: number;
  /** The clock (tests inject one). */
  now?: () => number;
  maxFutureMs?: number;
  dedupeWindow?: number;
  maxKeysPerMinute?: number;
}

export interface MinuteCounts {
  add(event: CountedEvent): CountResult;
  /** Minutes with at least one event, oldest first; from the minute holding `sinceMs` on. */
  minutes(sinceMs?: number): MinuteStats[];
  /** Forgets the minutes that left the window; returns how many. */
  prune(): number;
  /** Start of the oldest minute still in the window. */
  windowStart(): number;
  readonly size: number;
}

type Dimension = 'type' | 'country' | 'device' | 'os';
const DIMENSIONS: readonly Dimension[] = ['type', 'country', 'device', 'os'];

interface Minute {
  total: number;
  counts: Record<Dimension, Map<string, number>>;
}

export const floorToMinute = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
export const minuteLabel = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

function sorted<K extends string>(counts: Map<string, number>, key: K): ({ [P in K]: string } & { count: number })[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([value, count]) => ({ [key]: value, count }) as { [P in K]: string } & { count: number });
}

export function createMinuteCounts(options: MinuteCountsOptions): MinuteCounts {
  const now = options.now ?? Date.now;
  const maxFutureMs = options.maxFutureMs ?? 5 * MINUTE_MS;
  const maxKeys = options.maxKeysPerMinute ?? 100;
  const dedupeWindow = options.dedupeWindow ?? 100_000;
  const minutes = new Map<number, Minute>();
  // Recent ids: a set for lookups and a ring that says which id to forget next.
  const seen = new Set<string>();
  const ring: (string | undefined)[] = new Array<string | undefined>(dedupeWindow);
  let ringNext = 0;

  const windowStart = () => floorToMinute(now() - options.retentionMs);

  const remember = (id: string) => {
    const old = ring[ringNext];
    if (old !== undefined) seen.delete(old);
    ring[ringNext] = id;
    ringNext = (ringNext + 1) % dedupeWindow;
    seen.add(id);
  };

  const prune = () => {
    const start = windowStart();
    let removed = 0;
    for (const minute of minutes.keys()) {
      if (minute < start) {
        minutes.delete(minute);
        removed++;
      }
    }
    return removed;
  };

  return {
    add(event) {
      const minute = floorToMinute(event.time);
      if (minute < windowStart() || event.time > now() + maxFutureMs) return 'outside_window';
      if (seen.has(event.id)) return 'duplicate';
      remember(event.id);
      let counts = minutes.get(minute);
      if (counts === undefined) {
        counts = { total: 0, counts: { type: new Map(), country: new Map(), device: new Map(), os: new Map() } };
        minutes.set(minute, counts);
      }
      counts.total++;
      for (const dimension of DIMENSIONS) {
        const map = counts.counts[dimension];
        const value = event[dimension];
        const key = map.has(value) || map.size < maxKeys ? value : OTHER;
        map.set(key, (map.get(key) ?? 0) + 1);
      }
      return 'counted';
    },
    minutes(sinceMs) {
      prune();
      const from = Math.max(windowStart(), sinceMs === undefined ? -Infinity : floorToMinute(sinceMs));
      return [...minutes.entries()]
        .filter(([minute]) => minute >= from)
        .sort((a, b) => a[0] - b[0])
        .map(([minute, m]) => ({
          minute: minuteLabel(minute),
          total: m.total,
          byType: sorted(m.counts.type, 'type'),
          byCountry: sorted(m.counts.country, 'country'),
          byDevice: sorted(m.counts.device, 'device'),
          byOs: sorted(m.counts.os, 'os'),
        }));
    },
    prune,
    windowStart,
    get size() {
      return minutes.size;
    },
  };
}
