/**
 * Topic `users`: the log of record for what belongs to a user and is not a
 * listing — for now the devices that may receive pushes. Key: the user id (one
 * user's events stay in order on one partition); `subject`: the subscription
 * id. Kept forever: storage's `devices` projection is rebuilt from it.
 *
 * Written by storage (`POST /me/devices`, `DELETE /me/devices/:id`) and the
 * notifier (`device.removed` when a Web Push service answers 404/410: the
 * browser's subscription is gone); read by storage's projector and the notify
 * bridge (who has a device, in memory).
 */
import { z } from 'zod';
import { eventTopic, type DataSchemas } from '../event-topic.ts';

export const PLATFORMS = ['ios', 'android', 'web'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * A browser's Web Push subscription (RFC 8030/8291: `PushSubscription.toJSON()` less
 * `expirationTime`): where the notifier POSTs, and the keys it encrypts for.
 */
export interface WebPushSubscription {
  /** The push service's URL for this subscription (https). */
  endpoint: string;
  keys: {
    /** base64url of the browser's P-256 public key (65 bytes, uncompressed). */
    p256dh: string;
    /** base64url of the 16-byte authentication secret. */
    auth: string;
  };
}

/**
 * A device of a user: the subscription that reaches it (one app install or browser) and its
 * platform. `webPush` (platform `web` only): a self-hosted Web Push subscription, which the
 * notifier reaches directly; without it the subscription id is OneSignal's.
 */
export interface Device {
  userId: string;
  subscriptionId: string;
  platform: Platform;
  webPush?: WebPushSubscription;
}

export type DeviceEvent =
  | { type: 'device.registered'; data: Device }
  | { type: 'device.removed'; data: { userId: string; subscriptionId: string } };

const userId = z.string().min(1);
const subscriptionId = z.string().min(1).max(128);

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/);
export const webPushSubscriptionSchema = z.object({
  endpoint: z.url({ protocol: /^https$/ }).max(2048),
  keys: z.object({ p256dh: base64url.length(87), auth: base64url.length(22) }),
});

export const deviceEventSchemas = {
  'device.registered': z.object({ userId, subscriptionId, platform: z.enum(PLATFORMS), webPush: webPushSubscriptionSchema.optional() }),
  'device.removed': z.object({ userId, subscriptionId }),
} as const satisfies DataSchemas<DeviceEvent>;

export const usersTopic = eventTopic({
  spec: { name: 'users', partitions: 6, retentionMs: -1 },
  writers: ['storage', 'notifier'],
  readers: ['storage (projector)', 'notify-bridge'],
  dataSchemas: deviceEventSchemas,
  key: (event: DeviceEvent) => event.data.userId,
  subject: (event) => event.data.subscriptionId,
});
