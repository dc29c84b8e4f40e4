import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '@pushtech/contracts';
import { decide, evolve, initialState, type DeviceCommand } from './device-decider.ts';

/** Given events, when a command, then events: Emmett's DeciderSpecification, small. */
function given(...events: DeviceEvent[]) {
  const state = events.reduce(evolve, initialState());
  return {
    when: (command: DeviceCommand) => ({
      // biome-ignore lint/suspicious/noThenProperty: given/when/then is the specification's wording; nothing awaits it
      then: (...expected: DeviceEvent[]) => expect(decide(command, state)).toEqual(expected),
    }),
  };
}

const S = '1b3e7c52-9a4f-4d1e-8b6a-2f0c9d8e7a61';
const registered = (userId: string, platform: 'ios' | 'android' | 'web' = 'ios'): DeviceEvent =>
  ({ type: 'device.registered', data: { userId, subscriptionId: S, platform } });
const removed = (userId: string): DeviceEvent => ({ type: 'device.removed', data: { userId, subscriptionId: S } });
const register = (userId: string, platform: 'ios' | 'android' | 'web' = 'ios'): DeviceCommand =>
  ({ type: 'registerDevice', data: { userId, subscriptionId: S, platform } });
const remove = (userId: string): DeviceCommand => ({ type: 'removeDevice', data: { userId, subscriptionId: S } });

describe('device decider', () => {
  describe('registerDevice', () => {
    it('registers a new subscription for the user', () => {
      given().when(register('alice')).then(registered('alice'));
    });

    it('registering the same subscription again changes nothing', () => {
      given(registered('alice')).when(register('alice')).then();
    });

    it('a new platform is a new registration', () => {
      given(registered('alice')).when(register('alice', 'android')).then(registered('alice', 'android'));
    });

    it('a subscription of another user moves to this one', () => {
      given(registered('alice')).when(register('bob')).then(registered('bob'));
    });

    it('a Web Push subscription registered again with the same keys changes nothing; with new keys it is a new registration', () => {
      const webPush = (auth: string) => ({ endpoint: 'https://push.example.net/send/1', keys: { p256dh: `B${'A'.repeat(86)}`, auth } });
      const withKeys = (auth: string): DeviceEvent => ({ type: 'device.registered', data: { userId: 'alice', subscriptionId: S, platform: 'web', webPush: webPush(auth) } });
      const registerWith = (auth: string): DeviceCommand => ({ type: 'registerDevice', data: { userId: 'alice', subscriptionId: S, platform: 'web', webPush: webPush(auth) } });
      given(withKeys('a'.repeat(22))).when(registerWith('a'.repeat(22))).then();
      given(withKeys('a'.repeat(22))).when(registerWith('b'.repeat(22))).then(withKeys('b'.repeat(22)));
      given(registered('alice', 'web')).when(registerWith('a'.repeat(22))).then(withKeys('a'.repeat(22)));
    });

    it('a removed subscription can be registered again', () => {
      given(registered('alice'), removed('alice')).when(register('alice')).then(registered('alice'));
    });
  });

  describe('removeDevice', () => {
    it('removes the user\'s subscription', () => {
      given(registered('alice')).when(remove('alice')).then(removed('alice'));
    });

    it('removing a subscription nobody has changes nothing', () => {
      given().when(remove('alice')).then();
      given(registered('alice'), removed('alice')).when(remove('alice')).then();
    });

    it('removing a subscription that moved to another user changes nothing', () => {
      given(registered('alice'), registered('bob')).when(remove('alice')).then();
    });
  });
});
