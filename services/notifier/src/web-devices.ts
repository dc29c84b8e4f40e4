/**
 * Who gets a Web Push: the users' active `web` devices that carry a Web Push
 * subscription, read from storage's `devices` projection (the collection that
 * `projection_meta` names, so a rebuild is followed within a second) in the
 * notifier's MONGO_DB. And what a 404/410 leads to: `device.removed` on
 * `users`, which storage's projector applies like the user's own DELETE.
 */
import { usersTopic, type DeviceDocument, type WebPushSubscription } from '@pushtech/contracts';
import type { Producer } from '@pushtech/kafka';
import { currentCollections } from '@pushtech/listing-log';
import type { Db } from '@pushtech/mongo';

/** One browser subscription of a user. */
export interface WebDevice {
  userId: string;
  subscriptionId: string;
  webPush: WebPushSubscription;
}

export interface WebDevices {
  /** The active Web Push subscriptions of these users. */
  of(userIds: string[]): Promise<WebDevice[]>;
  /** The subscription is gone (404/410): removes the device (resolves once Kafka has the event). */
  remove(device: WebDevice): Promise<void>;
}

export function projectionWebDevices(db: Db, producer: Producer, usersTopicName: string, cacheMs = 1_000): WebDevices {
  let cached: { at: number; devices: string } | undefined;
  async function collection(): Promise<string> {
    if (cached === undefined || Date.now() - cached.at >= cacheMs) cached = { at: Date.now(), devices: (await currentCollections(db)).devices };
    return cached.devices;
  }
  return {
    async of(userIds) {
      // By `userId` (storage's index on MongoDB; the local FerretDB scans the collection).
      const docs = await db.collection<DeviceDocument>(await collection())
        .find({ userId: { $in: userIds }, state: 'active', platform: 'web' }, { projection: { userId: 1, subscriptionId: 1, webPush: 1 } })
        .toArray();
      return docs.flatMap((d) => (d.webPush ? [{ userId: d.userId, subscriptionId: d.subscriptionId, webPush: d.webPush }] : []));
    },
    async remove({ userId, subscriptionId }) {
      const { key, value } = usersTopic.encode({ type: 'device.removed', data: { userId, subscriptionId } }, { source: 'notifier' });
      await producer.send(usersTopicName, [{ key, value }]);
    },
  };
}
