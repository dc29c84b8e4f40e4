import { describe, expect, it } from 'vitest';
import { compileFilter, decodeValue, type ViewedMessage } from './message-filter.ts';

function message(value: unknown): ViewedMessage {
  const raw = typeof value === 'string' ? value : JSON.stringify(value);
  return { topic: 't', partition: 0, offset: '0', timestamp: 0, key: null, ...decodeValue(Buffer.from(raw)) };
}

const alice = message({ type: 'location', subject: 'alice', data: { lat: 52.52, context: { userId: 'alice', geo: { city: 'Berlin' } } } });
const anonymous = message({ type: 'page.view', subject: 'anon-7', data: { path: '/bikes', context: { anonymousId: 'anon-7' } } });
const byContextOnly = message({ type: 'search', data: { q: 'bike', context: { userId: 'bob' } } });
const notJson = message('plain text from alice');

describe('message filter', () => {
  it('no filter lets everything through', () => {
    const pass = compileFilter({});
    expect([alice, anonymous, byContextOnly, notJson].every(pass)).toBe(true);
  });

  it('type matches the event type exactly', () => {
    const pass = compileFilter({ type: 'location' });
    expect([alice, anonymous, byContextOnly, notJson].map(pass)).toEqual([true, false, false, false]);
    expect(compileFilter({ type: 'loc' })(alice)).toBe(false);
  });

  it('userId matches the subject or data.context.userId', () => {
    expect([alice, anonymous, byContextOnly, notJson].map(compileFilter({ userId: 'alice' }))).toEqual([true, false, false, false]);
    expect(compileFilter({ userId: 'bob' })(byContextOnly)).toBe(true);
    expect(compileFilter({ userId: 'anon-7' })(anonymous)).toBe(true);
  });

  it('text is a substring of the stored JSON, ignoring case', () => {
    const pass = compileFilter({ text: 'BERLIN' });
    expect([alice, anonymous, byContextOnly, notJson].map(pass)).toEqual([true, false, false, false]);
    expect(compileFilter({ text: '"path":"/bikes"' })(anonymous)).toBe(true);
    expect(compileFilter({ text: 'from alice' })(notJson)).toBe(true);
  });

  it('every part that is set must match', () => {
    expect(compileFilter({ type: 'location', userId: 'alice', text: 'berlin' })(alice)).toBe(true);
    expect(compileFilter({ type: 'location', userId: 'bob' })(alice)).toBe(false);
  });

  it('values: JSON parsed, anything else kept as a string, null stays null', () => {
    expect(decodeValue(Buffer.from('{"a":1}'))).toEqual({ value: { a: 1 }, raw: '{"a":1}' });
    expect(decodeValue(Buffer.from('not json'))).toEqual({ value: 'not json', raw: 'not json' });
    expect(decodeValue(null)).toEqual({ value: null, raw: null });
  });
});
