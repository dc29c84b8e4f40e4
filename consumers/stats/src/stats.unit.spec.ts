// The stats service on a stand-in for Kafka (no servers): GET /stats, its errors, the answer
// while the reader is not running yet, and the minute timer that forgets old minutes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '@pushtech/config';
import { createLogger } from '@pushtech/logging';
import { statsConfigSpec } from './config.ts';
import type { MinuteCounts } from './minute-counts.ts';
import { statsService, type StatsKafka } from './stats.ts';

const NOW = Date.parse('2026-11-24T12:30:00Z');

/** Stats with a 1 h window on a stand-in whose reader reads nothing; it starts once `readerStarts` resolves. */
async function startOnStandIn(readerStarts: Promise<void> = Promise.resolve()) {
  const kafka: StatsKafka = {
    async startReader() {
      await readerStarts;
      return { stop: async () => {} };
    },
    ping: async () => {},
    close: async () => {},
  };
  const service = statsService({ dependencies: () => ({ kafka: { connect: async () => kafka } }) });
  return service.start({ config: loadConfig(statsConfigSpec, { RETENTION_HOURS: '1' }), logger: createLogger('stats-test', 'silent'), listen: false });
}

function add(counts: MinuteCounts, times: string[]): void {
  for (const time of times) counts.add({ id: time, time: Date.parse(time), type: 'location', country: 'DE', device: 'mobile', os: 'iOS' });
}

let service: Awaited<ReturnType<typeof startOnStandIn>> | undefined;
/** Lets a held reader start (a stop waits for the start in progress). */
let startReader = () => {};

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setInterval', 'clearInterval'] });
});

afterEach(async () => {
  startReader();
  await service?.stop();
  service = undefined;
  vi.useRealTimers();
});

describe('GET /stats', () => {
  it('answers the minutes, oldest first, with the window', async () => {
    service = await startOnStandIn();
    add((await service.ready).counts, ['2026-11-24T12:05:10Z', '2026-11-24T12:01:00Z', '2026-11-24T12:05:50Z']);
    const res = await service.http.inject('/stats');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({ retentionHours: 1, windowStart: '2026-11-24T11:30:00Z' });
    expect(body.minutes.map((m: { minute: string; total: number }) => [m.minute, m.total])).toEqual([['2026-11-24T12:01:00Z', 1], ['2026-11-24T12:05:00Z', 2]]);
    expect(body.minutes[1].byType).toEqual([{ type: 'location', count: 2 }]);
  });

  it('?since= keeps the minutes from then on', async () => {
    service = await startOnStandIn();
    add((await service.ready).counts, ['2026-11-24T12:01:00Z', '2026-11-24T12:05:10Z']);
    const res = await service.http.inject('/stats?since=2026-11-24T13:03:00%2B01:00');
    expect(res.json().minutes.map((m: { minute: string }) => m.minute)).toEqual(['2026-11-24T12:05:00Z']);
  });

  it('a bad `since` is a 400 `invalid_request` naming the field and the rule', async () => {
    service = await startOnStandIn();
    await service.ready;
    const res = await service.http.inject('/stats?since=yesterday');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', errors: [{ field: 'since', rule: 'must be an RFC 3339 timestamp, e.g. 2026-11-24T12:00:00Z' }] });
  });

  it('is 503 `unavailable` with Retry-After until the reader runs (no counts that only look empty)', async () => {
    service = await startOnStandIn(new Promise<void>((resolve) => { startReader = resolve; }));
    const starting = await service.http.inject('/stats');
    expect(starting.statusCode).toBe(503);
    expect(starting.headers['retry-after']).toBe('1');
    expect(starting.json()).toEqual({ error: 'unavailable', message: 'stats is not available: nothing was changed, retry later' });
    expect((await service.http.inject('/readyz')).statusCode).toBe(503);
    startReader();
    await service.ready;
    expect((await service.http.inject('/stats')).statusCode).toBe(200);
    expect((await service.http.inject('/readyz')).statusCode).toBe(200);
  });
});

describe('the minute timer', () => {
  it('forgets each minute once it leaves the window, and stops with the service', async () => {
    service = await startOnStandIn();
    const { counts } = await service.ready;
    add(counts, ['2026-11-24T11:31:30Z']);
    await vi.advanceTimersByTimeAsync(60_000); // 12:31: the window starts at 11:31
    expect(counts.size).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000); // 12:32: 11:31 has left it
    expect(counts.size).toBe(0);
    expect((await service.http.inject('/metrics')).body).toContain('stats_minutes{service="stats"} 0');

    add(counts, ['2026-11-24T11:33:30Z']);
    await service.stop();
    await vi.advanceTimersByTimeAsync(5 * 60_000); // 12:37: 11:33 is out of the window, but nothing prunes any more
    expect(counts.size).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
