import { describe, expect, it } from 'vitest';
import { createEnvelope } from '@pushtech/events';
import { readLocationEvent } from './location-event.ts';

const record = (type: string, data: Record<string, unknown>) => ({ value: Buffer.from(JSON.stringify(createEnvelope({ source: 'tracker/t', type, data }))) });

describe('location events', () => {
  it('reads the user and the position', () => {
    expect(readLocationEvent(record('location', { lng: 13.4, lat: 52.5, context: { ip: '1.2.3.4', userId: 'alice' } })))
      .toEqual({ kind: 'location', userId: 'alice', location: { type: 'Point', coordinates: [13.4, 52.5] } });
  });

  it.each([
    ['another type', record('page.view', { context: { userId: 'alice' } }), 'other'],
    ['no userId', record('location', { lng: 13.4, lat: 52.5, context: { anonymousId: 'a1' } }), 'no-user'],
    ['lat out of range', record('location', { lng: 13.4, lat: 91, context: { userId: 'alice' } }), 'invalid'],
    ['lng a string', record('location', { lng: '13.4', lat: 52, context: { userId: 'alice' } }), 'invalid'],
    ['not JSON', { value: Buffer.from('{') }, 'invalid'],
    ['empty', { value: null }, 'invalid'],
  ])('tells %s apart', (_name, message, kind) => {
    expect(readLocationEvent(message).kind).toBe(kind);
  });
});
