import { describe, expect, it } from 'vitest';
import { newId } from '@pushtech/events';
import type { Recorded } from '../event-topic.ts';
import type { DeviceEvent } from '../topics/users.ts';
import { activeDevice, evolveDeviceDocument, type DeviceDocument } from './devices.ts';

const S = 'sub-1';
let n = 0;
/** Events get UUIDv7 ids in creation order, as storage gives them. */
const recorded = (event: DeviceEvent): Recorded<DeviceEvent> => ({ eventId: newId(), time: `2025-06-01T12:00:${String(++n % 60).padStart(2, '0')}.000Z`, event });
const registered = (userId: string, platform: 'ios' | 'android' | 'web' = 'ios') =>
  recorded({ type: 'device.registered', data: { userId, subscriptionId: S, platform } });
const removed = (userId: string) => recorded({ type: 'device.removed', data: { userId, subscriptionId: S } });
const fold = (records: Recorded<DeviceEvent>[], doc: DeviceDocument | null = null) => records.reduce(evolveDeviceDocument, doc);
/** Who has the subscription after the records, and on which platform. */
const owner = activeDevice;

describe('device projection', () => {
  it('a registration makes an active document keyed by the subscription', () => {
    const r = registered('alice', 'android');
    expect(fold([r])).toEqual({
      _id: S, subscriptionId: S, userId: 'alice', platform: 'android', state: 'active',
      registeredAt: r.time, registrationId: r.eventId, eventIds: [r.eventId], updatedAt: r.time,
    });
  });

  it('the same event twice changes nothing', () => {
    const r = registered('alice');
    const doc = fold([r]);
    expect(evolveDeviceDocument(doc, r)).toBe(doc);
    const x = removed('alice');
    const gone = fold([x], doc);
    expect(evolveDeviceDocument(gone, x)).toBe(gone);
  });

  it('registering again keeps the first registration time', () => {
    const first = registered('alice');
    const doc = fold([first, registered('alice')])!;
    expect(doc).toMatchObject({ userId: 'alice', state: 'active', registeredAt: first.time });
  });

  it('removing marks it removed; removing what is not there changes nothing', () => {
    const doc = fold([registered('alice'), removed('alice')]);
    expect(doc).toMatchObject({ state: 'removed', userId: 'alice', removedAt: expect.any(String) });
    expect(owner(doc)).toBeNull();
    expect(evolveDeviceDocument(null, removed('alice'))).toBeNull();
    expect(evolveDeviceDocument(doc, removed('alice'))).toBe(doc);
  });

  it('a registration by another user moves it; the old user\'s removal then changes nothing', () => {
    const moved = fold([registered('alice'), registered('bob', 'web')]);
    expect(owner(moved)).toEqual({ userId: 'bob', subscriptionId: S, platform: 'web' });
    expect(evolveDeviceDocument(moved, removed('alice'))).toBe(moved);
  });

  // Each user's events are in order (one partition), but the projector may read the users in any order.
  it('the same result whichever user\'s partition is read first', () => {
    const a1 = registered('alice');
    const b1 = registered('bob');
    const a2 = removed('alice');
    const b2 = removed('bob');
    const a3 = registered('alice', 'android');
    const cases: [Recorded<DeviceEvent>[], Recorded<DeviceEvent>[], ReturnType<typeof owner>][] = [
      // alice registers, bob takes it over, alice "removes" it (no longer hers): bob has it.
      [[a1, a2], [b1], { userId: 'bob', subscriptionId: S, platform: 'ios' }],
      // alice registers, bob takes it over and removes it: nobody has it.
      [[a1], [b1, b2], null],
      // ... then alice registers it again (newest): alice has it.
      [[a1, a3], [b1, b2], { userId: 'alice', subscriptionId: S, platform: 'android' }],
    ];
    for (const [alice, bob, expected] of cases) {
      expect(owner(fold([...alice, ...bob]))).toEqual(expected);
      expect(owner(fold([...bob, ...alice]))).toEqual(expected);
      // Interleaved: alice's first, then bob's, then the rest of alice's.
      expect(owner(fold([alice[0]!, ...bob, ...alice.slice(1)]))).toEqual(expected);
    }
  });

  it('a Web Push registration keeps its subscription; registering again with new keys replaces it; a removal keeps it on the removed document', () => {
    const webPush = (auth: string) => ({ endpoint: 'https://push.example.net/send/abc', keys: { p256dh: `B${'A'.repeat(86)}`, auth } });
    const register = (auth: string) => recorded({ type: 'device.registered', data: { userId: 'alice', subscriptionId: S, platform: 'web', webPush: webPush(auth) } });
    const first = fold([register('A'.repeat(22))]);
    expect(owner(first)).toEqual({ userId: 'alice', subscriptionId: S, platform: 'web', webPush: webPush('A'.repeat(22)) });
    const again = fold([register('B'.repeat(22))], first);
    expect(again?.webPush).toEqual(webPush('B'.repeat(22)));
    expect(fold([removed('alice')], again)).toMatchObject({ state: 'removed' });
    // A later OneSignal registration of the same id (no webPush) drops the Web Push subscription.
    expect(fold([registered('alice', 'web')], again)?.webPush).toBeUndefined();
  });

  it('an older registration read late changes nothing', () => {
    const old = registered('alice');
    const doc = fold([registered('bob')]);
    expect(evolveDeviceDocument(doc, old)).toBe(doc);
  });
});
