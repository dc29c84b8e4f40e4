import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMinuteCounts } from './minute-counts.ts';
import { statsRoutes } from './stats-routes.ts';

const NOW = Date.parse('2026-11-24T12:30:00Z');

async function appWith(times: string[]) {
  const counts = createMinuteCounts({ retentionMs: 3_600_000, now: () => NOW });
  times.forEach((time, i) => { counts.add({ id: `e${i}`, time: Date.parse(time), type: 'location', country: 'DE', device: 'mobile', os: 'iOS' }); });
  const app = Fastify();
  await app.register(statsRoutes, { counts, retentionHours: 1 });
  return app;
}

describe('GET /stats', () => {
  it('answers the minutes, oldest first, with the window', async () => {
    const app = await appWith(['2026-11-24T12:05:10Z', '2026-11-24T12:01:00Z', '2026-11-24T12:05:50Z']);
    const res = await app.inject('/stats');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ retentionHours: 1, windowStart: '2026-11-24T11:30:00Z' });
    expect(body.minutes.map((m: { minute: string; total: number }) => [m.minute, m.total])).toEqual([['2026-11-24T12:01:00Z', 1], ['2026-11-24T12:05:00Z', 2]]);
    expect(body.minutes[1].byType).toEqual([{ type: 'location', count: 2 }]);
  });

  it('?since= keeps the minutes from then on', async () => {
    const app = await appWith(['2026-11-24T12:01:00Z', '2026-11-24T12:05:10Z']);
    const res = await app.inject('/stats?since=2026-11-24T13:03:00%2B01:00');
    expect(res.json().minutes.map((m: { minute: string }) => m.minute)).toEqual(['2026-11-24T12:05:00Z']);
  });

  it('a bad `since` is a 400 naming the field and the rule', async () => {
    const app = await appWith([]);
    const res = await app.inject('/stats?since=yesterday');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'bad_request', errors: [{ field: 'since', rule: 'must be an RFC 3339 timestamp, e.g. 2026-11-24T12:00:00Z' }] });
  });
});
