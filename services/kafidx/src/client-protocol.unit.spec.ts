import { describe, expect, it } from 'vitest';
import { MAX_LAST, MAX_TOPICS, parseClientFrame } from './client-protocol.ts';

const parse = (value: unknown) => parseClientFrame(typeof value === 'string' ? value : JSON.stringify(value));

describe('client frames', () => {
  it('subscribe: topics, last and filter; empty filter fields clear that part', () => {
    expect(parse({ op: 'subscribe', topics: ['events', 'listings', 'events'], last: 50, filter: { type: 'location', userId: '', text: null } })).toEqual({
      ok: true,
      command: { op: 'subscribe', topics: ['events', 'listings'], last: 50, filter: { type: 'location' } },
    });
    expect(parse({ op: 'subscribe', topics: ['events'] })).toEqual({ ok: true, command: { op: 'subscribe', topics: ['events'], last: 0, filter: {} } });
  });

  it('filter: fields at the top level or under `filter`, not both', () => {
    expect(parse({ op: 'filter', userId: 'alice', text: 'Berlin' })).toEqual({ ok: true, command: { op: 'filter', filter: { userId: 'alice', text: 'Berlin' } } });
    expect(parse({ op: 'filter', filter: { type: 'search' } })).toEqual({ ok: true, command: { op: 'filter', filter: { type: 'search' } } });
    expect(parse({ op: 'filter' })).toEqual({ ok: true, command: { op: 'filter', filter: {} } });
    expect(parse({ op: 'filter', type: 'a', filter: { type: 'b' } })).toMatchObject({ ok: false, error: { field: 'filter' } });
  });

  it('pause and resume', () => {
    expect(parse({ op: 'pause' })).toEqual({ ok: true, command: { op: 'pause' } });
    expect(parse({ op: 'resume' })).toEqual({ ok: true, command: { op: 'resume' } });
  });

  it.each([
    ['not JSON', '{op:', '(root)', 'must be valid JSON'],
    ['not an object', [1, 2], '(root)', 'must be a JSON object'],
    ['unknown op', { op: 'drop-table' }, 'op', 'must be one of subscribe, pause, resume, filter'],
    ['no op', { topics: ['events'] }, 'op', 'must be one of subscribe, pause, resume, filter'],
    ['no topics', { op: 'subscribe', topics: [] }, 'topics', 'must name at least one topic'],
    ['too many topics', { op: 'subscribe', topics: Array.from({ length: MAX_TOPICS + 1 }, (_, i) => `t${i}`) }, 'topics', `must name at most ${MAX_TOPICS} topics`],
    ['a bad topic name', { op: 'subscribe', topics: ['events', 'no spaces'] }, 'topics.1', 'must be a Kafka topic name (1–249 of A–Z a–z 0–9 . _ -)'],
    ['last too large', { op: 'subscribe', topics: ['events'], last: MAX_LAST + 1 }, 'last', `must be an integer between 0 and ${MAX_LAST}`],
    ['last not an integer', { op: 'subscribe', topics: ['events'], last: 1.5 }, 'last', `must be an integer between 0 and ${MAX_LAST}`],
    ['an unknown field', { op: 'subscribe', topics: ['events'], from: 'start' }, 'from', 'is not a known field'],
    ['an unknown filter field', { op: 'subscribe', topics: ['events'], filter: { country: 'DE' } }, 'filter.country', 'is not a known field'],
    ['a filter that is not a string', { op: 'filter', type: 7 }, 'type', 'must be a string of at most 256 characters'],
    ['a filter too long', { op: 'filter', text: 'x'.repeat(257) }, 'text', 'must be a string of at most 256 characters'],
    ['extra fields on pause', { op: 'pause', now: true }, 'now', 'is not a known field'],
  ])('%s → {kind:error, field, rule}', (_name, frame, field, rule) => {
    expect(parse(frame)).toEqual({ ok: false, error: { kind: 'error', field, rule } });
  });
});
