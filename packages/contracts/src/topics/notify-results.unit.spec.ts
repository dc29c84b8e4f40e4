import { describe, expect, it } from 'vitest';
import { notifyResultsTopic, type NotifyResponse } from './notify-results.ts';

describe('response topics (notify.results.*)', () => {
  it.each<[string, NotifyResponse]>([
    ['copy', { type: 'copy', uuid: '0197a1f2-3c4d-7e5f-8a9b-0c1d2e3f4a5b', versionUtcSeconds: 1581255042.707, handledAt: 1581255043.5, info: { status: 200, body: { id: 'n1' } } }],
    ['success', { type: 'success', uuid: '0197a1f2-3c4d-7e5f-8a9b-0c1d2e3f4a5b', versionUtcSeconds: 1581255042.707, handledAt: 1581255043.5 }],
    ['failure without a uuid', { type: 'failure', uuid: null, versionUtcSeconds: null, handledAt: 1581255043.5, reason: 'not JSON' }],
  ])('%s: decodes what it encodes; key the request uuid', (_name, response) => {
    const { key, value } = notifyResultsTopic.encode(response);
    expect(key).toBe(response.uuid);
    expect(notifyResultsTopic.decode(Buffer.from(value))).toEqual({ ok: true, value: response });
  });

  it('rejects a type the protocol does not have, naming the field', () => {
    const retry = { type: 'retry', uuid: null, versionUtcSeconds: null, handledAt: 1 };
    expect(notifyResultsTopic.decode(Buffer.from(JSON.stringify(retry)))).toMatchObject({ ok: false, errors: [{ field: 'type' }] });
  });

  it('any producer\'s response topic has 3 partitions and 3 days', () => {
    expect(notifyResultsTopic.specFor('notify.results.shop')).toEqual({ ...notifyResultsTopic.spec, name: 'notify.results.shop' });
  });
});
