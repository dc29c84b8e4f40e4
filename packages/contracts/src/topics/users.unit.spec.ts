import { describe, expect, it } from 'vitest';
import { usersTopic, type DeviceEvent } from './users.ts';

describe('topic users', () => {
  const events: DeviceEvent[] = [
    { type: 'device.registered', data: { userId: 'ann', subscriptionId: 'sub-1', platform: 'ios' } },
    { type: 'device.removed', data: { userId: 'ann', subscriptionId: 'sub-1' } },
  ];

  it.each(events.map((e) => [e.type, e] as const))('%s: decodes what it encodes; key the user, subject the subscription', (_type, event) => {
    const { key, value, envelope } = usersTopic.encode(event);
    expect(key).toBe('ann');
    expect(envelope).toMatchObject({ source: 'storage', subject: 'sub-1' });
    expect(usersTopic.decode(Buffer.from(value))).toEqual({ ok: true, value: { eventId: envelope.id, time: envelope.time, event } });
  });

  it('rejects a platform it does not know, naming the field', () => {
    const { value } = usersTopic.encode(events[0]!);
    const nokia = JSON.stringify({ ...JSON.parse(value), data: { userId: 'ann', subscriptionId: 'sub-1', platform: 'nokia' } });
    expect(usersTopic.decode(Buffer.from(nokia))).toMatchObject({ ok: false, errors: [{ field: 'data.platform' }] });
  });
});
