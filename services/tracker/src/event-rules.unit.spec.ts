import { describe, expect, it } from 'vitest';
import {
  BATCH_MAX_EVENTS,
  checkBatch,
  checkBatchEvent,
  checkEvent,
  EVENT_MAX_BYTES,
  eventFromBody,
  eventFromQuery,
  onlyTooLarge,
  rules,
} from './event-rules.ts';

/** Data whose JSON is exactly `bytes` long. */
function dataOfSize(bytes: number): Record<string, unknown> {
  return { s: 'x'.repeat(bytes - '{"s":""}'.length) };
}

function failures(result: ReturnType<typeof checkEvent>) {
  return result.ok ? [] : result.errors.map(({ field, rule }) => ({ field, rule }));
}

describe('event rules', () => {
  it('accepts a minimal event and keeps its data', () => {
    expect(checkEvent({ type: 'w', data: { wor: 'king' } })).toEqual({ ok: true, event: { type: 'w', data: { wor: 'king' } } });
  });

  it.each(['Page', '1page', '', 'page view', `a${'b'.repeat(64)}`, 'page/view'])('rejects type %j', (type) => {
    expect(failures(checkEvent({ type, data: {} }))).toEqual([{ field: 'type', rule: 'must match ^[a-z][a-z0-9_.-]{0,63}$' }]);
  });

  it.each(['a', 'page.view', 'sign_up-2', `a${'b'.repeat(63)}`])('accepts type %j', (type) => {
    expect(checkEvent({ type, data: {} }).ok).toBe(true);
  });

  it.each([[[1]], [null], ['text'], [3]])('rejects data %j that is not an object', (data) => {
    expect(failures(checkEvent({ type: 'a', data }))).toEqual([{ field: 'data', rule: rules.data }]);
  });

  it('rejects a payload with its own context', () => {
    expect(failures(checkEvent({ type: 'a', data: { context: {} } }))).toEqual([{ field: 'data.context', rule: 'is reserved' }]);
  });

  it(`accepts data of exactly ${EVENT_MAX_BYTES} bytes and rejects one byte more, as too large`, () => {
    expect(checkEvent({ type: 'a', data: dataOfSize(EVENT_MAX_BYTES) }).ok).toBe(true);
    const result = checkEvent({ type: 'a', data: dataOfSize(EVENT_MAX_BYTES + 1) });
    expect(failures(result)).toEqual([{ field: 'data', rule: rules.eventSize }]);
    expect(!result.ok && onlyTooLarge(result.errors)).toBe(true);
  });

  it('measures size in UTF-8 bytes, not characters', () => {
    const chars = (EVENT_MAX_BYTES - '{"s":""}'.length) / 2;
    expect(checkEvent({ type: 'a', data: { s: 'é'.repeat(chars) } }).ok).toBe(true);
    expect(checkEvent({ type: 'a', data: { s: 'é'.repeat(chars + 1) } }).ok).toBe(false);
  });

  it('checks ids: 1 to 128 characters', () => {
    const ok = checkEvent({ type: 'a', data: {}, userId: 'u'.repeat(128), anonymousId: 'a' });
    expect(ok).toEqual({ ok: true, event: { type: 'a', data: {}, userId: 'u'.repeat(128), anonymousId: 'a' } });
    expect(failures(checkEvent({ type: 'a', data: {}, userId: 'u'.repeat(129) }))).toEqual([{ field: 'userId', rule: rules.id }]);
    expect(failures(checkEvent({ type: 'a', data: {}, anonymousId: '' }))).toEqual([{ field: 'anonymousId', rule: rules.id }]);
    expect(failures(checkEvent({ type: 'a', data: {}, userId: 42 }))).toEqual([{ field: 'userId', rule: rules.id }]);
    expect(failures(checkEvent({ type: 'a', data: {}, userId: ['a', 'b'] }))).toEqual([{ field: 'userId', rule: rules.id }]);
  });

  it.each(['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.123+01:00'])('accepts time %s as the client time', (time) => {
    expect(checkEvent({ type: 'a', data: {}, time })).toEqual({ ok: true, event: { type: 'a', data: {}, clientTime: time } });
  });

  it.each(['yesterday', '2026-03-01', '2026-03-01T10:00:00', 1_700_000_000])('rejects time %j', (time) => {
    expect(failures(checkEvent({ type: 'a', data: {}, time }))).toEqual([{ field: 'time', rule: 'must be an RFC 3339 timestamp' }]);
  });

  describe('location events', () => {
    it.each([
      [{ lng: 13.4, lat: 52.5 }],
      [{ lng: -180, lat: -90 }],
      [{ lng: 180, lat: 90 }],
    ])('accept %j', (data) => {
      expect(checkEvent({ type: 'location', data }).ok).toBe(true);
    });

    it.each([
      [{ lng: 180.1, lat: 0 }, ['data.lng']],
      [{ lng: 0, lat: -90.5 }, ['data.lat']],
      [{ lat: 0 }, ['data.lng']],
      [{ lng: '13.4', lat: 52 }, ['data.lng']],
      [{ lng: null, lat: Number.NaN }, ['data.lng', 'data.lat']],
    ])('reject %j', (data, fields) => {
      const result = checkEvent({ type: 'location', data });
      expect(failures(result).map((e) => e.field)).toEqual(fields);
    });

    it('only for type location', () => {
      expect(checkEvent({ type: 'locations', data: { lng: 500 } }).ok).toBe(true);
    });
  });

  it('reports every broken rule at once', () => {
    const result = checkEvent({ type: 'X', data: { context: 1 }, userId: '', time: 'now' });
    expect(failures(result).map((e) => e.field)).toEqual(['type', 'data.context', 'userId', 'time']);
  });
});

describe('event forms', () => {
  it('a beacon query: reserved parameters leave data; location coordinates become numbers', () => {
    const input = eventFromQuery('location', { lng: '13.4', lat: '-52.5', acc: '10', userId: 'u', anonymousId: 'a', time: 't' });
    expect(input).toEqual({ type: 'location', data: { lng: 13.4, lat: -52.5, acc: '10' }, userId: 'u', anonymousId: 'a', time: 't' });
  });

  it('a beacon query keeps non-numeric or empty coordinates as they are, so the rule names them', () => {
    expect(eventFromQuery('location', { lng: 'east', lat: '' }).data).toEqual({ lng: 'east', lat: '' });
    expect(eventFromQuery('page', { lng: '1' }).data).toEqual({ lng: '1' });
  });

  it('a JSON body: the body is data, none means {}, other query parameters are refused', () => {
    expect(eventFromBody('a', { userId: 'u' }, undefined)).toMatchObject({ data: {}, userId: 'u', unknownParameters: [] });
    const result = checkEvent(eventFromBody('a', { page: 'home' }, { a: 1 }));
    expect(failures(result)).toEqual([{ field: 'query.page', rule: rules.unknownParameter }]);
  });
});

describe('batch rules', () => {
  it('a batch event may carry only type, data, userId, anonymousId, time', () => {
    expect(checkBatchEvent({ type: 'a' })).toEqual({ ok: true, event: { type: 'a', data: {} } });
    const result = checkBatchEvent({ type: 'a', data: {}, colour: 'red' });
    expect(failures(result)).toEqual([{ field: 'colour', rule: 'is not a known field' }]);
    expect(failures(checkBatchEvent('a'))).toEqual([{ field: 'event', rule: rules.event }]);
  });

  it('a batch event may carry its own id, a lower-case UUIDv7', () => {
    const id = '019d5e4a-7c31-7a2e-9b1f-3c5d7e9f1a2b';
    expect(checkBatchEvent({ id, type: 'a' })).toEqual({ ok: true, event: { type: 'a', data: {}, id } });
    for (const bad of [id.toUpperCase(), '019d5e4a-7c31-4a2e-9b1f-3c5d7e9f1a2b', 42, '']) {
      expect(failures(checkBatchEvent({ id: bad, type: 'a' }))).toEqual([{ field: 'id', rule: rules.eventId }]);
    }
  });

  it('splits valid and invalid events, keeping their indexes', () => {
    const result = checkBatch([{ type: 'a' }, { type: 'B' }, { type: 'c', userId: '' }, { type: 'd', data: { n: 1 } }]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.batch.accepted.map((a) => a.index)).toEqual([0, 3]);
    expect(result.batch.rejected.map((r) => [r.index, r.errors.map((e) => e.field)])).toEqual([[1, ['type']], [2, ['userId']]]);
  });

  it.each([
    ['an object', { type: 'a' }, rules.batch, 'invalid_body'],
    ['empty', [], rules.batchEmpty, 'invalid_body'],
    [`over ${BATCH_MAX_EVENTS} events`, Array.from({ length: BATCH_MAX_EVENTS + 1 }, () => ({ type: 'a' })), rules.batchLength, 'body_too_large'],
  ])('rejects a body that is %s', (_name, body, rule, reason) => {
    expect(checkBatch(body)).toEqual({ ok: false, error: { field: 'body', rule, reason } });
  });

  it(`accepts ${BATCH_MAX_EVENTS} events`, () => {
    const result = checkBatch(Array.from({ length: BATCH_MAX_EVENTS }, () => ({ type: 'a' })));
    expect(result.ok && result.batch.accepted.length).toBe(BATCH_MAX_EVENTS);
  });
});
