import { describe, expect, it } from 'vitest';
import { matchesTopic, matchEventSchemas, pairKey, type MatchEvent } from './matches.ts';

const data = { searchId: 's1', offerId: 'o1', searchOwnerId: 'ann', offerOwnerId: 'ben', distanceM: 120.5, searchVersion: 1, offerVersion: 3 };

describe('topic matches', () => {
  it.each(['match.found', 'match.lost'] as const)('%s: decodes what it encodes; key and subject are the pair; the matcher writes it', (type) => {
    const event: MatchEvent = { type, data };
    const time = new Date('2026-03-01T10:00:00.000Z');
    const { key, value, envelope } = matchesTopic.encode(event, { time });
    expect(key).toBe(pairKey('s1', 'o1'));
    expect(envelope).toMatchObject({ source: 'matcher', subject: 's1|o1', time: time.toISOString() });
    expect(matchesTopic.decode(Buffer.from(value))).toEqual({ ok: true, value: { eventId: envelope.id, time: time.toISOString(), event } });
  });

  it('a match event names both owners: an empty owner id is refused', () => {
    expect(matchEventSchemas['match.found'].safeParse(data).success).toBe(true);
    expect(matchEventSchemas['match.lost'].safeParse({ ...data, offerOwnerId: '' }).success).toBe(false);
    const { value } = matchesTopic.encode({ type: 'match.found', data: { ...data, searchOwnerId: '' } });
    expect(matchesTopic.decode(Buffer.from(value))).toMatchObject({ ok: false, errors: [{ field: 'data.searchOwnerId' }] });
  });
});
