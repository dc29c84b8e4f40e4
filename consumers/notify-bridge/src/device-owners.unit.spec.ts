import { describe, expect, it } from 'vitest';
import type { DeviceEvent, Recorded } from '@pushtech/contracts';
import { createDeviceOwners, deviceDirectory } from './device-owners.ts';

let sequence = 0;
/** Event ids order like storage's UUIDv7s: later events compare greater. */
const record = (event: DeviceEvent): Recorded<DeviceEvent> =>
  ({ eventId: `0198-${String(++sequence).padStart(6, '0')}`, time: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)).toISOString(), event });
const registered = (userId: string, subscriptionId: string) => record({ type: 'device.registered', data: { userId, subscriptionId, platform: 'android' } });
const removed = (userId: string, subscriptionId: string) => record({ type: 'device.removed', data: { userId, subscriptionId } });

describe('device owners', () => {
  it('a user has a device from its registration until its removal; two devices count as two', () => {
    const owners = createDeviceOwners();
    owners.apply(registered('ann', 'a1'));
    owners.apply(registered('ann', 'a2'));
    owners.apply(removed('ann', 'a1'));
    expect(owners.has('ann')).toBe(true);
    owners.apply(removed('ann', 'a2'));
    expect(owners.has('ann')).toBe(false);
  });

  it('a subscription registered by another user moves to them; the former user\'s removal changes nothing', () => {
    const owners = createDeviceOwners();
    const first = registered('ann', 'shared');
    const second = registered('ben', 'shared');
    owners.apply(second); // read first: the users' partitions are read in either order
    owners.apply(first); // older: changes nothing
    owners.apply(removed('ann', 'shared'));
    expect([owners.has('ann'), owners.has('ben')]).toEqual([false, true]);
    expect(owners.size()).toBe(1);
  });

  it('an event applied twice, or one the loaded projection already reflects, changes nothing', () => {
    const owners = createDeviceOwners();
    const registration = registered('cem', 'c1');
    owners.load({
      _id: 'c1', subscriptionId: 'c1', userId: 'cem', platform: 'android', state: 'active', registeredAt: registration.time,
      registrationId: registration.eventId, eventIds: [registration.eventId], updatedAt: registration.time,
    });
    owners.apply(registration);
    owners.apply(registration);
    const removal = removed('cem', 'c1');
    owners.apply(removal);
    owners.apply(removal);
    owners.apply(registration);
    expect(owners.has('cem')).toBe(false);
  });
});

describe('device directory', () => {
  it('answers once the log has caught up: a device registered or removed just before counts', async () => {
    const owners = createDeviceOwners();
    owners.apply(registered('dan', 'd1'));
    const onTheLog = [registered('eva', 'e1'), removed('dan', 'd1')];
    const directory = deviceDirectory(owners, async () => {
      for (const event of onTheLog.splice(0)) owners.apply(event); // what the feed applies meanwhile
    });
    expect(await directory.usersWithDevices(['dan', 'eva', 'fay'])).toEqual(new Set(['eva']));
  });

  it('does not wait longer than maxWaitMs for a log that does not catch up', async () => {
    const directory = deviceDirectory(createDeviceOwners(), () => new Promise(() => {}), 50);
    expect(await directory.usersWithDevices(['gil'])).toEqual(new Set());
  });
});
