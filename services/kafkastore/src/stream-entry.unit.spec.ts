import { describe, expect, it } from 'vitest';
import { STREAM_FIELD } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import { MAX_ENTRY_BYTES, parseEntry } from './stream-entry.ts';

const envelope = (data: Record<string, unknown> = { context: { ip: '8.8.8.8', anonymousId: 'anon-1' } }) =>
  createEnvelope({ source: 'tracker/test', type: 'page.view', subject: 'anon-1', data });

describe('parseEntry', () => {
  it('reads the envelope from field "e"', () => {
    const event = envelope();
    expect(parseEntry([STREAM_FIELD, JSON.stringify(event)])).toEqual({ ok: true, event });
  });

  it.each([
    ['a missing field "e"', ['x', '1'], 'missing field "e"', '{"x":"1"}'],
    ['bad JSON', [STREAM_FIELD, '{"id":'], 'bad JSON: ', '{"id":'],
    ['an invalid envelope', [STREAM_FIELD, JSON.stringify({ ...envelope(), id: 'abc' })], 'invalid envelope: id must be a lower-case UUIDv7', undefined],
    ['no data.context', [STREAM_FIELD, JSON.stringify(envelope({ path: '/' }))], 'invalid envelope: data.context is missing', undefined],
    ['no ip', [STREAM_FIELD, JSON.stringify(envelope({ context: { userAgent: 'x' } }))], 'invalid envelope: data.context.ip must be a non-empty string', undefined],
    ['a number as user id', [STREAM_FIELD, JSON.stringify(envelope({ context: { ip: '1.2.3.4', userId: 7 } }))], 'invalid envelope: data.context.userId must be a string', undefined],
  ])('rejects %s, with the reason and the raw entry', (_name, fields, reason, raw) => {
    const parsed = parseEntry(fields);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason.startsWith(reason)).toBe(true);
    expect(parsed.raw).toBe(raw ?? fields[1]);
  });

  it('rejects an entry too large for a Kafka record, keeping only its start', () => {
    const parsed = parseEntry([STREAM_FIELD, JSON.stringify(envelope({ context: { ip: '1.2.3.4' }, blob: 'x'.repeat(MAX_ENTRY_BYTES) }))]);
    expect(parsed).toMatchObject({ ok: false, reason: `entry larger than ${MAX_ENTRY_BYTES} bytes` });
    if (!parsed.ok) expect(parsed.raw.length).toBe(64 * 1024);
  });
});
