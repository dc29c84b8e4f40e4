import { describe, expect, it } from 'vitest';
import { eventsDlqTopic, type DlqRecord } from './events-dlq.ts';

const record: DlqRecord = { streamId: '1700000000000-0', stream: 'pushtech:events', reason: 'bad JSON: Unexpected end', raw: '{"id":', time: '2026-01-01T00:00:00.000Z' };

describe('topic events.dlq', () => {
  it('decodes what it encodes; key the stream entry id', () => {
    const { key, value } = eventsDlqTopic.encode(record);
    expect(key).toBe('1700000000000-0');
    expect(eventsDlqTopic.decode(Buffer.from(value))).toEqual({ ok: true, value: record });
  });

  it('rejects a record without a reason, naming the field', () => {
    const { reason: _reason, ...noReason } = record;
    expect(eventsDlqTopic.decode(Buffer.from(JSON.stringify(noReason)))).toMatchObject({ ok: false, errors: [{ field: 'reason' }] });
  });
});
