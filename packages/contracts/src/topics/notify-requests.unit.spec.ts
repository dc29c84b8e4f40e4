import { describe, expect, it } from 'vitest';
import { notifyRequestsTopic } from './notify-requests.ts';

const parseRequest = notifyRequestsTopic.decode;

const uuid = '0197a1f2-3c4d-7e5f-8a9b-0c1d2e3f4a5b';
const push = (extra: Record<string, unknown> = {}) => ({
  type: 'push',
  responseTopic: 'notify.results.bridge',
  uuid,
  versionUtcSeconds: 1581255042.707,
  sentAt: 1581255043.0,
  args: { userIds: ['user-1'], heading: 'Bike nearby', content: 'Someone 300 m away offers a bike', data: { matchId: 'm1' } },
  style: { '2xx': { operation: 'copy' }, '4xx': { operation: 'failure' }, '5xx': { operation: 'retry' } },
  ...extra,
});
const invalid = (value: unknown) => {
  const parsed = parseRequest(JSON.stringify(value));
  if (parsed.kind !== 'invalid') throw new Error(`expected invalid, got ${parsed.kind}`);
  return parsed;
};

describe('parseRequest', () => {
  it('accepts the request of DESIGN.md', () => {
    const parsed = parseRequest(JSON.stringify(push()));
    expect(parsed.kind).toBe('push');
    if (parsed.kind === 'push') expect(parsed.request).toMatchObject({ uuid, responseTopic: 'notify.results.bridge', args: { userIds: ['user-1'] } });
  });

  it('accepts a request without responseTopic or style, and one by subscription ids with texts by language', () => {
    const { responseTopic: _t, style: _s, ...bare } = push();
    expect(parseRequest(JSON.stringify(bare)).kind).toBe('push');
    expect(parseRequest(JSON.stringify(push({ args: { subscriptionIds: ['s1'], content: { en: 'Hi', de: 'Hallo' } } }))).kind).toBe('push');
  });

  it('rejects unknown style keys, naming them', () => {
    const parsed = invalid(push({ style: { '2xx': { operation: 'copy' }, '3xx': { operation: 'success' }, '429': { operation: 'retry' } } }));
    expect(parsed.code).toBe('unknown_style_key');
    expect(parsed.reason).toBe('style.429, style.3xx: unknown style key (allowed: 2xx, 4xx, 5xx)');
    expect(parsed.reply).toEqual({ responseTopic: 'notify.results.bridge', uuid, versionUtcSeconds: 1581255042.707 });
  });

  it.each([
    ['an unknown operation', push({ style: { '2xx': { operation: 'forward' } } }), 'style.2xx.operation must be one of copy, success, failure, retry'],
    ['an unknown field in a style entry', push({ style: { '5xx': { operation: 'retry', tries: 3 } } }), 'style.5xx.tries: unknown field'],
    ['a bad level', push({ style: { '4xx': { operation: 'failure', level: 'loud' } } }), 'style.4xx.level must be one of trace, debug, info, warn, error, fatal'],
    ['no uuid', push({ uuid: undefined }), 'uuid is required'],
    ['a uuid that is not one', push({ uuid: 'abc' }), 'uuid must be a UUID'],
    ['no version', push({ versionUtcSeconds: undefined }), 'versionUtcSeconds is required'],
    ['no args', push({ args: undefined }), 'args is required'],
    ['no content', push({ args: { userIds: ['u'] } }), 'args.content is required'],
    ['no target', push({ args: { content: 'x' } }), 'args must have exactly one of userIds, subscriptionIds'],
    ['both targets', push({ args: { content: 'x', userIds: ['u'], subscriptionIds: ['s'] } }), 'args must have exactly one of userIds, subscriptionIds'],
    ['too many users', push({ args: { content: 'x', userIds: Array.from({ length: 2_001 }, (_, i) => `u${i}`) } }), 'args.userIds must name at most 2000 user ids'],
    ['no users', push({ args: { content: 'x', userIds: [] } }), 'args.userIds must name at least one user id'],
    ['a bad response topic', push({ responseTopic: 'a topic' }), 'responseTopic must be a Kafka topic name (letters, digits, ".", "_", "-")'],
  ])('rejects %s, naming the field and the rule', (_what, value, reason) => {
    const parsed = invalid(value);
    expect(parsed.code).toBe('invalid');
    expect(parsed.reason).toBe(reason);
  });

  it('rejects unknown types, with or without an underscore', () => {
    expect(invalid(push({ type: 'email' }))).toMatchObject({ code: 'unknown_type', reason: 'type "email" is unknown (known: push)' });
    expect(invalid(push({ type: '_status' }))).toMatchObject({ code: 'unknown_type', reason: 'type "_status" is unknown (known: _connect, _ping)' });
  });

  it('rejects what is not JSON, with no reply address', () => {
    for (const value of ['{"type":', null, Buffer.from('nope')]) {
      const parsed = parseRequest(value);
      expect(parsed).toMatchObject({ kind: 'invalid', code: 'not_json', reply: { uuid: null, versionUtcSeconds: null } });
    }
  });

  it('_connect needs a responseTopic; _ping does not', () => {
    const base = { uuid, versionUtcSeconds: 1700000000 };
    expect(parseRequest(JSON.stringify({ ...base, type: '_connect', responseTopic: 'notify.results.a' })).kind).toBe('connect');
    expect(invalid({ ...base, type: '_connect' }).reason).toBe('responseTopic is required');
    expect(parseRequest(JSON.stringify({ ...base, type: '_ping' })).kind).toBe('ping');
  });
});

describe('topic notify.requests', () => {
  it('decodes what it encodes; a push to users is keyed by its first user', () => {
    const request = notifyRequestsTopic.decode(JSON.stringify(push()));
    if (request.kind !== 'push') throw new Error(request.kind);
    const { key, value } = notifyRequestsTopic.encode(request.request);
    expect(key).toBe('user-1');
    expect(notifyRequestsTopic.decode(Buffer.from(value))).toEqual(request);
  });

  it('a request without a push target is keyed by its uuid', () => {
    const connect = notifyRequestsTopic.decode(JSON.stringify({ type: '_connect', responseTopic: 'notify.results.a', uuid, versionUtcSeconds: 1 }));
    if (connect.kind !== 'connect') throw new Error(connect.kind);
    expect(notifyRequestsTopic.encode(connect.request).key).toBe(uuid);
  });
});
