import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEnvelope } from '@pushtech/events';
import { eventTopic, parseEventRecord } from './event-topic.ts';

const valid = () => createEnvelope({ source: 'tracker/test', type: 'page.view', subject: 'user-1', data: { path: '/' } });

describe('parseEventRecord', () => {
  const schemas = { 'page.view': z.object({ path: z.string() }) };
  const record = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

  it('a valid record: its id, its time and its event, the data as the schema parsed it', () => {
    const envelope = valid();
    expect(parseEventRecord(record(envelope), schemas)).toEqual({
      ok: true,
      value: { eventId: envelope.id, time: envelope.time, event: { type: 'page.view', data: { path: '/' } } },
    });
  });

  it('names what is wrong: no value, not JSON, not an envelope, a type without a schema, data the schema refuses', () => {
    expect(parseEventRecord(null, schemas)).toEqual({ ok: false, errors: [{ field: 'value', rule: 'must not be empty' }] });
    expect(parseEventRecord(record('{nope'), schemas)).toEqual({ ok: false, errors: [{ field: 'value', rule: 'must be JSON' }] });
    expect(parseEventRecord(record({ ...valid(), specversion: '0.3' }), schemas)).toMatchObject({ ok: false, errors: [{ field: 'specversion' }] });
    expect(parseEventRecord(record({ ...valid(), type: 'constructor' }), schemas)).toEqual({ ok: false, errors: [{ field: 'type', rule: 'must be one of page.view' }] });
    expect(parseEventRecord(record({ ...valid(), data: { path: 7 } }), schemas)).toMatchObject({ ok: false, errors: [{ field: 'data.path' }] });
  });
});

describe('eventTopic', () => {
  type Visit = { type: 'visit'; data: { userId: string; place: string } };
  const visits = eventTopic({
    spec: { name: 'visits', partitions: 1, retentionMs: -1 },
    writers: ['front', 'back'],
    readers: [],
    dataSchemas: { visit: z.object({ userId: z.string(), place: z.string() }) },
    key: (event: Visit) => event.data.userId,
    subject: (event) => event.data.place,
  });
  const visit: Visit = { type: 'visit', data: { userId: 'ann', place: 'cafe' } };

  it('encodes a CloudEvents envelope: source the first writer unless said, subject and key as declared, the given time', () => {
    const time = new Date('2026-01-02T03:04:05.678Z');
    const { key, value, envelope } = visits.encode(visit, { time });
    expect(key).toBe('ann');
    expect(JSON.parse(value)).toEqual(envelope);
    expect(envelope).toMatchObject({ specversion: '1.0', source: 'front', type: 'visit', subject: 'cafe', time: time.toISOString(), data: visit.data });
    expect(visits.encode(visit, { source: 'back' }).envelope.source).toBe('back');
  });

  it('decodes what it encodes', () => {
    const { value, envelope } = visits.encode(visit);
    expect(visits.decode(Buffer.from(value))).toEqual({ ok: true, value: { eventId: envelope.id, time: envelope.time, event: visit } });
  });
});
