import { describe, expect, it } from 'vitest';
import { usersTopic, type DeviceEvent } from './users.ts';

const webPush = {
  endpoint: 'https://push.example.net/send/abc',
  keys: { p256dh: `B${'A'.repeat(86)}`, auth: 'A'.repeat(22) },
};

describe('topic users', () => {
  const events: DeviceEvent[] = [
    { type: 'device.registered', data: { userId: 'ann', subscriptionId: 'sub-1', platform: 'ios' } },
    { type: 'device.removed', data: { userId: 'ann', subscriptionId: 'sub-1' } },
    { type: 'device.registered', data: { userId: 'ann', subscriptionId: 'sub-1', platform: 'web', webPush } },
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

  it('rejects a Web Push subscription whose endpoint is not https or whose keys are not base64url of the right length', () => {
    const { value } = usersTopic.encode(events[2]!);
    const withWebPush = (w: unknown) => Buffer.from(JSON.stringify({ ...JSON.parse(value), data: { userId: 'ann', subscriptionId: 'sub-1', platform: 'web', webPush: w } }));
    expect(usersTopic.decode(withWebPush({ ...webPush, endpoint: 'http://push.example.net/x' }))).toMatchObject({ ok: false, errors: [{ field: 'data.webPush.endpoint' }] });
    expect(usersTopic.decode(withWebPush({ ...webPush, keys: { ...webPush.keys, auth: 'short' } }))).toMatchObject({ ok: false, errors: [{ field: 'data.webPush.keys.auth' }] });
    expect(usersTopic.decode(withWebPush({ ...webPush, keys: { ...webPush.keys, p256dh: `+${'A'.repeat(86)}` } }))).toMatchObject({ ok: false, errors: [{ field: 'data.webPush.keys.p256dh' }] });
  });

  it('the notifier writes removals too', () => {
    const { envelope } = usersTopic.encode(events[1]!, { source: 'notifier' });
    expect(envelope.source).toBe('notifier');
  });
});
