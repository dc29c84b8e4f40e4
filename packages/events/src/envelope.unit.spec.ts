import { describe, expect, it, vi } from 'vitest';
import { createEnvelope, idTime, newId, UUID_V7, validateEnvelope } from './index.ts';

const valid = () => createEnvelope({ source: 'tracker/test', type: 'page.view', subject: 'user-1', data: { path: '/' } });

describe('envelope', () => {
  it('creates a valid CloudEvents 1.0 envelope', () => {
    const envelope = valid();
    expect(envelope.specversion).toBe('1.0');
    expect(envelope.id).toMatch(UUID_V7);
    expect(Date.parse(envelope.time)).toBeGreaterThan(0);
    expect(validateEnvelope(envelope)).toEqual({ ok: true, value: envelope });
  });

  it.each([
    ['specversion', { specversion: '0.3' }, 'specversion'],
    ['id not a UUID', { id: 'abc' }, 'id'],
    ['id a UUIDv4', { id: '2b1c0a9e-4f5d-4c3b-9a8e-7d6c5b4a3f21' }, 'id'],
    ['type with a capital', { type: 'Page' }, 'type'],
    ['type too long', { type: `a${'b'.repeat(64)}` }, 'type'],
    ['time not RFC 3339', { time: 'yesterday' }, 'time'],
    ['data not an object', { data: [1, 2] }, 'data'],
    ['empty source', { source: '' }, 'source'],
    ['unknown attribute', { colour: 'red' }, 'colour'],
  ])('rejects %s, naming the field', (_name, change, field) => {
    const result = validateEnvelope({ ...valid(), ...change });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => e.field)).toEqual([field]);
      expect(result.errors[0]!.rule).not.toBe('');
    }
  });

  it('rejects a missing attribute', () => {
    const { source: _omitted, ...rest } = valid();
    const result = validateEnvelope(rest);
    expect(result).toMatchObject({ ok: false, errors: [{ field: 'source' }] });
  });

  it('ids stay unique and in order past 4,096 ids in one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('ids are UUIDv7 that sort by creation time', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const t = Date.now() + 60_000; // ahead of the ids made so far: ids never go back in time
      vi.setSystemTime(t);
      const ids = Array.from({ length: 1000 }, () => newId());
      vi.setSystemTime(t + 5);
      const later = newId();
      ids.push(later);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(ids);
      expect(idTime(ids[0]!)).toBe(t);
      expect(idTime(later)).toBe(t + 5);
    } finally {
      vi.useRealTimers();
    }
  });
});
