/**
 * Storage's projection of topic `users` (collection `devices`): one document
 * per subscription, `_id` = the subscription id, holding the (userId,
 * subscriptionId) pair it belongs to now. Storage's projector writes it; the
 * notify bridge loads it and folds the same events in memory, by this one rule.
 *
 * One user's events are in order (one partition), but a subscription that
 * moves from user A to user B has events on both users' partitions, which a
 * reader may see in either order. So a registration applies only when it is
 * newer (by event id, a UUIDv7: creation time) than the newest one the
 * document has seen, and a removal only when it comes from the user who has
 * the subscription now. A removed subscription keeps its document
 * (`state: "removed"`), so that an older registration read late is recognised.
 * The result is the same in every reading order.
 */
import type { Recorded } from '../event-topic.ts';
import type { Device, DeviceEvent, Platform, WebPushSubscription } from '../topics/users.ts';
import { RECENT_EVENT_IDS } from './meta.ts';

export interface DeviceDocument {
  /** The subscription id. */
  _id: string;
  subscriptionId: string;
  /** Who registered it last: its user while `active`. */
  userId: string;
  platform: Platform;
  /** A self-hosted Web Push subscription (platform `web`): the notifier sends to it directly. */
  webPush?: WebPushSubscription;
  state: 'active' | 'removed';
  /** Time of the first registration by this user (re-registering keeps it). */
  registeredAt: string;
  /** Event id of the newest registration: older registrations change nothing. */
  registrationId: string;
  /** Time of the removal, while `removed`. */
  removedAt?: string;
  /** Ids of the latest applied events, oldest first (read-your-writes; a redelivered event changes nothing). */
  eventIds: string[];
  /** Time of the latest applied event. */
  updatedAt: string;
}

/** Who has the subscription now: its device, or null when nobody has it (never registered, or removed). */
export function activeDevice(doc: DeviceDocument | null | undefined): Device | null {
  if (doc == null || doc.state !== 'active') return null;
  return { userId: doc.userId, subscriptionId: doc.subscriptionId, platform: doc.platform, ...(doc.webPush ? { webPush: doc.webPush } : {}) };
}

/** The projection's evolve: the document after `record`, or the very same document (`===`) when it changes nothing. */
export function evolveDeviceDocument(doc: DeviceDocument | null, record: Recorded<DeviceEvent>): DeviceDocument | null {
  const { event, eventId, time } = record;
  if (doc?.eventIds.includes(eventId)) return doc;
  const eventIds = [...(doc?.eventIds ?? []), eventId].slice(-RECENT_EVENT_IDS);

  if (event.type === 'device.registered') {
    if (doc !== null && eventId <= doc.registrationId) return doc; // an older registration, read late
    const { userId, subscriptionId, platform, webPush } = event.data;
    const again = doc !== null && doc.state === 'active' && doc.userId === userId;
    return {
      _id: subscriptionId,
      subscriptionId,
      userId,
      platform,
      ...(webPush ? { webPush } : {}),
      state: 'active',
      registeredAt: again ? doc.registeredAt : time,
      registrationId: eventId,
      eventIds,
      updatedAt: time,
    };
  }

  // device.removed: only its current user can remove it, and only after registering it.
  if (doc === null || doc.state !== 'active' || doc.userId !== event.data.userId || eventId <= doc.registrationId) return doc;
  return { ...doc, state: 'removed', removedAt: time, eventIds, updatedAt: time };
}
