import { describe, expect, it } from 'vitest';
import { countedEvent } from './event-dimensions.ts';

const base = { specversion: '1.0', id: '01a20d69-090b-73a8-a66d-008defccf43a', source: 'tracker/t1', type: 'listing.view', time: '2026-11-24T12:05:03.412Z' };

describe('counted view of an enriched event', () => {
  it('takes country, device type and OS from data.context', () => {
    const event = { ...base, data: { context: { ip: '81.169.145.105', geo: { country: 'DE' }, device: { type: 'mobile', vendor: 'Apple' }, os: { name: 'iOS' }, browser: { name: 'Mobile Safari' } } } };
    expect(countedEvent(event)).toEqual({
      ok: true,
      event: { id: base.id, time: Date.parse(base.time), type: 'listing.view', country: 'DE', device: 'mobile', os: 'iOS' },
    });
  });

  it('no geo (private address) is `unknown`; a recognised agent without a device type is a desktop', () => {
    const event = { ...base, data: { context: { ip: '10.0.0.1', geo: null, device: {}, os: { name: 'Windows' }, browser: { name: 'Chrome' } } } };
    expect(countedEvent(event)).toMatchObject({ ok: true, event: { country: 'unknown', device: 'desktop', os: 'Windows' } });
    const bare = { ...base, data: { context: { ip: '10.0.0.1', geo: null, device: {}, os: {}, browser: {} } } };
    expect(countedEvent(bare)).toMatchObject({ ok: true, event: { country: 'unknown', device: 'unknown', os: 'unknown' } });
    expect(countedEvent({ ...base, data: {} })).toMatchObject({ ok: true, event: { country: 'unknown', device: 'unknown', os: 'unknown' } });
  });

  it('says why an event cannot be counted', () => {
    expect(countedEvent('x')).toEqual({ ok: false, reason: 'not a JSON object' });
    expect(countedEvent({ ...base, id: undefined })).toEqual({ ok: false, reason: 'id is missing' });
    expect(countedEvent({ ...base, type: '' })).toEqual({ ok: false, reason: 'type is missing' });
    expect(countedEvent({ ...base, time: 'yesterday' })).toEqual({ ok: false, reason: 'time must be an RFC 3339 timestamp' });
  });
});
