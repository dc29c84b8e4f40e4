import { describe, expect, it } from 'vitest';
import type { CountedEvent } from './event-dimensions.ts';
import { createMinuteCounts, MINUTE_MS, OTHER } from './minute-counts.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-24T12:00:00Z');

function clock(start: number) {
  let now = start;
  return { now: () => now, set: (ms: number) => { now = ms; }, advance: (ms: number) => { now += ms; } };
}

let n = 0;
function ev(time: string | number, fields: Partial<Omit<CountedEvent, 'time'>> = {}): CountedEvent {
  return { id: `id-${n++}`, time: typeof time === 'number' ? time : Date.parse(time), type: 'location', country: 'DE', device: 'mobile', os: 'iOS', ...fields };
}

describe('minute counts', () => {
  it('given a known set of events, counts each minute by type, country, device and OS', () => {
    const c = clock(Date.parse('2026-11-24T12:30:00Z'));
    const counts = createMinuteCounts({ retentionMs: 24 * HOUR, now: c.now });
    const events = [
      ev('2026-11-24T12:05:01Z', { type: 'location', country: 'DE', device: 'mobile', os: 'iOS' }),
      ev('2026-11-24T12:05:20Z', { type: 'location', country: 'DE', device: 'mobile', os: 'Android' }),
      ev('2026-11-24T12:05:59Z', { type: 'page.view', country: 'FR', device: 'desktop', os: 'Windows' }),
      ev('2026-11-24T12:07:00Z', { type: 'search', country: 'unknown', device: 'unknown', os: 'unknown' }),
      ev('2026-11-24T12:07:30+01:00', { type: 'search' }), // 11:07:30 UTC
    ];
    expect(events.map((e) => counts.add(e))).toEqual(['counted', 'counted', 'counted', 'counted', 'counted']);
    expect(counts.minutes()).toEqual([
      {
        minute: '2026-11-24T11:07:00Z', total: 1,
        byType: [{ type: 'search', count: 1 }], byCountry: [{ country: 'DE', count: 1 }],
        byDevice: [{ device: 'mobile', count: 1 }], byOs: [{ os: 'iOS', count: 1 }],
      },
      {
        minute: '2026-11-24T12:05:00Z', total: 3,
        byType: [{ type: 'location', count: 2 }, { type: 'page.view', count: 1 }],
        byCountry: [{ country: 'DE', count: 2 }, { country: 'FR', count: 1 }],
        byDevice: [{ device: 'mobile', count: 2 }, { device: 'desktop', count: 1 }],
        byOs: [{ os: 'Android', count: 1 }, { os: 'Windows', count: 1 }, { os: 'iOS', count: 1 }],
      },
      {
        minute: '2026-11-24T12:07:00Z', total: 1,
        byType: [{ type: 'search', count: 1 }], byCountry: [{ country: 'unknown', count: 1 }],
        byDevice: [{ device: 'unknown', count: 1 }], byOs: [{ os: 'unknown', count: 1 }],
      },
    ]);
  });

  it('a minute is the floor of `time`: 59.999 s is the same minute, 60.000 s the next', () => {
    const counts = createMinuteCounts({ retentionMs: HOUR, now: () => T0 + 10 * MINUTE_MS });
    counts.add(ev('2026-11-24T12:04:00.000Z'));
    counts.add(ev('2026-11-24T12:04:59.999Z'));
    counts.add(ev('2026-11-24T12:05:00.000Z'));
    expect(counts.minutes().map((m) => [m.minute, m.total])).toEqual([
      ['2026-11-24T12:04:00Z', 2],
      ['2026-11-24T12:05:00Z', 1],
    ]);
  });

  it('minutes leave after the retention window; events older than the window are not counted', () => {
    const c = clock(Date.parse('2026-11-24T12:00:30Z'));
    const counts = createMinuteCounts({ retentionMs: 2 * HOUR, now: c.now });
    expect(counts.add(ev('2026-11-24T10:00:10Z'))).toBe('counted'); // its minute (10:00) starts at the window's start
    expect(counts.add(ev('2026-11-24T09:59:59.999Z'))).toBe('outside_window');
    counts.add(ev('2026-11-24T11:30:00Z'));
    expect(counts.minutes().map((m) => m.minute)).toEqual(['2026-11-24T10:00:00Z', '2026-11-24T11:30:00Z']);

    c.set(Date.parse('2026-11-24T12:01:00Z')); // window now starts at 10:01
    expect(counts.minutes().map((m) => m.minute)).toEqual(['2026-11-24T11:30:00Z']);
    expect(counts.size).toBe(1);

    c.advance(2 * HOUR);
    expect(counts.prune()).toBe(1);
    expect(counts.minutes()).toEqual([]);
    expect(counts.size).toBe(0);
  });

  it('events far in the future are not counted', () => {
    const counts = createMinuteCounts({ retentionMs: HOUR, now: () => T0, maxFutureMs: 5 * MINUTE_MS });
    expect(counts.add(ev(T0 + 5 * MINUTE_MS))).toBe('counted');
    expect(counts.add(ev(T0 + 5 * MINUTE_MS + 1))).toBe('outside_window');
  });

  it('an id seen recently is a duplicate (at-least-once delivery), within the dedupe window', () => {
    const counts = createMinuteCounts({ retentionMs: HOUR, now: () => T0, dedupeWindow: 2 });
    const a = ev(T0 - 1000, { id: 'a' });
    expect(counts.add(a)).toBe('counted');
    expect(counts.add({ ...a })).toBe('duplicate');
    counts.add(ev(T0 - 1000, { id: 'b' }));
    counts.add(ev(T0 - 1000, { id: 'c' })); // 'a' leaves the window of 2
    expect(counts.add({ ...a })).toBe('counted');
    expect(counts.minutes()[0]!.total).toBe(4);
  });

  it('`since` keeps the minute holding it and the ones after', () => {
    const counts = createMinuteCounts({ retentionMs: HOUR, now: () => T0 });
    for (const t of ['11:10:00', '11:20:10', '11:30:00']) counts.add(ev(`2026-11-24T${t}Z`));
    expect(counts.minutes(Date.parse('2026-11-24T11:20:30Z')).map((m) => m.minute)).toEqual(['2026-11-24T11:20:00Z', '2026-11-24T11:30:00Z']);
  });

  it('each dimension keeps a bounded number of values per minute; the rest count as `other`', () => {
    const counts = createMinuteCounts({ retentionMs: HOUR, now: () => T0, maxKeysPerMinute: 3 });
    for (const type of ['a', 'b', 'c', 'd', 'e', 'a']) counts.add(ev(T0 - 1000, { type }));
    expect(counts.minutes()[0]!.byType).toEqual([{ type: 'a', count: 2 }, { type: OTHER, count: 2 }, { type: 'b', count: 1 }, { type: 'c', count: 1 }]);
  });
});
