/**
 * A subscription's life as a decider: `decide(command, state)` → the events
 * the command causes; `evolve` folds them into the state. Pure: no clock, no
 * I/O; the state comes from the Mongo `devices` projection, the events go to
 * Kafka `users` (key: the user id).
 *
 * A subscription (a OneSignal subscription id: one app install; or a browser's
 * Web Push subscription, its id derived from its endpoint) belongs to at
 * most one user at a time; registering it for another user moves it.
 */
import type { Device, DeviceEvent, WebPushSubscription } from '@pushtech/contracts';

export type DeviceCommand =
  | { type: 'registerDevice'; data: Device }
  | { type: 'removeDevice'; data: { userId: string; subscriptionId: string } };

export type DeviceCommandType = DeviceCommand['type'];

/** Who has the subscription now; null: nobody (never registered, or removed). */
export type DeviceState = Device | null;

export const initialState = (): DeviceState => null;

export function evolve(state: DeviceState, event: DeviceEvent): DeviceState {
  switch (event.type) {
    case 'device.registered':
      return { ...event.data };
    case 'device.removed':
      return state !== null && state.userId === event.data.userId ? null : state;
  }
}

function sameWebPush(a: WebPushSubscription | undefined, b: WebPushSubscription | undefined): boolean {
  return a?.endpoint === b?.endpoint && a?.keys.p256dh === b?.keys.p256dh && a?.keys.auth === b?.keys.auth;
}

export function decide(command: DeviceCommand, state: DeviceState): DeviceEvent[] {
  switch (command.type) {
    case 'registerDevice': {
      const { userId, subscriptionId, platform, webPush } = command.data;
      // Registering the same subscription again changes nothing; for another user, another platform or other Web Push keys, it is a new registration.
      if (state !== null && state.userId === userId && state.platform === platform && sameWebPush(state.webPush, webPush)) return [];
      return [{ type: 'device.registered', data: { userId, subscriptionId, platform, ...(webPush ? { webPush } : {}) } }];
    }
    case 'removeDevice': {
      const { userId, subscriptionId } = command.data;
      // Removing a device the user does not have (any more) changes nothing, also when another user has it now.
      if (state === null || state.userId !== userId) return [];
      return [{ type: 'device.removed', data: { userId, subscriptionId } }];
    }
  }
}

export const deviceDecider = { decide, evolve, initialState };
