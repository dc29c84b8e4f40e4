import { describe, expect, it } from 'vitest';
import { createEnvelope } from '@pushtech/events';
import { eventKey, eventsTopic, type EnrichedContext, type EnrichedEvent } from './events.ts';

const context = (change: Partial<EnrichedContext> = {}): EnrichedContext => ({
  ip: '8.8.8.8',
  userAgent: 'Mozilla/5.0 (iPhone)',
  userId: 'ann',
  anonymousId: 'anon-1',
  geo: { country: 'US', region: 'CA', city: 'Mountain View', lat: 37.4, lon: -122.1, timezone: 'America/Los_Angeles' },
  device: { type: 'mobile', vendor: 'Apple', model: 'iPhone' },
  os: { name: 'iOS', version: '18.0' },
  browser: { name: 'Mobile Safari', version: '18.0' },
  ...change,
});
const event = (ctx = context()): EnrichedEvent =>
  createEnvelope({ source: 'tracker/t1', type: 'location', subject: 'ann', data: { lng: 13.4, lat: 52.5, context: ctx } });

describe('topic events', () => {
  it('decodes what it encodes', () => {
    const e = event();
    const { value } = eventsTopic.encode(e);
    expect(eventsTopic.decode(Buffer.from(value))).toEqual({ ok: true, value: e });
  });

  it('keys by the user, else the anonymous id, else the event id', () => {
    const withUser = event();
    const anonymous = event(context({ userId: undefined }));
    const nobody = event(context({ userId: undefined, anonymousId: undefined }));
    expect(eventsTopic.encode(withUser).key).toBe('ann');
    expect(eventKey(anonymous)).toBe('anon-1');
    expect(eventKey(nobody)).toBe(nobody.id);
  });

  it('an address without geo (private, loopback) is null', () => {
    const e = event(context({ ip: '10.0.0.1', geo: null }));
    expect(eventsTopic.decode(Buffer.from(eventsTopic.encode(e).value))).toEqual({ ok: true, value: e });
  });

  it('rejects an event the kafkastore did not enrich, naming the field', () => {
    const tracked = createEnvelope({ source: 'tracker/t1', type: 'page.view', data: { context: { ip: '8.8.8.8' } } });
    expect(eventsTopic.decode(Buffer.from(JSON.stringify(tracked)))).toMatchObject({ ok: false, errors: expect.arrayContaining([{ field: 'data.context.geo', rule: expect.any(String) }]) });
    expect(eventsTopic.decode(Buffer.from('nope'))).toEqual({ ok: false, errors: [{ field: 'value', rule: 'must be JSON' }] });
  });
});
