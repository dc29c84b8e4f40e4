/**
 * Topic `users`: the log of record for what belongs to a user and is not a
 * listing — for now the devices that may receive pushes. Key: the user id (one
 * user's events stay in order on one partition); `subject`: the subscription
 * id. Kept forever: storage's `devices` projection is rebuilt from it.
 *
 * Written by storage (`POST /me/devices`, `DELETE /me/devices/:id`); read by
 * storage's projector and the notify bridge (who has a device, in memory).
 */
import { z } from 'zod';
import { eventTopic, type DataSchemas } from '../event-topic.ts';

export const PLATFORMS = ['ios', 'android', 'web'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** A device of a user: the OneSignal subscription that reaches it (one app install), and its platform. */
export interface Device {
  userId: string;
  subscriptionId: string;
  platform: Platform;
}

export type DeviceEvent =
  | { type: 'device.registered'; data: Device }
  | { type: 'device.removed'; data: { userId: string; subscriptionId: string } };

const userId = z.string().min(1);
const subscriptionId = z.string().min(1).max(128);

export const deviceEventSchemas = {
  'device.registered': z.object({ userId, subscriptionId, platform: z.enum(PLATFORMS) }),
  'device.removed': z.object({ userId, subscriptionId }),
} as const satisfies DataSchemas<DeviceEvent>;

export const usersTopic = eventTopic({
  spec: { name: 'users', partitions: 6, retentionMs: -1 },
  writers: ['storage'],
  readers: ['storage (projector)', 'notify-bridge'],
  dataSchemas: deviceEventSchemas,
  key: (event: DeviceEvent) => event.data.userId,
  subject: (event) => event.data.subscriptionId,
});
