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

/**
 * `devices` whose lookups are gathered: the users asked for while a lookup is out (or in the same
 * turn of the event loop) go together in the next one, at most `maxUsers` each. A Kafka batch of
 * requests makes a few `$in` queries instead of one per request — on the local FerretDB, which
 * scans the collection for each, that is the difference between a few and hundreds of requests a
 * second.
 */
export function batchedWebDevices(devices: WebDevices, maxUsers = 1_000): WebDevices {
  interface Waiting { userIds: string[]; resolve(found: WebDevice[]): void; reject(err: unknown): void }
  const waiting: Waiting[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    while (waiting.length > 0) {
      const batch: Waiting[] = [];
      const users = new Set<string>();
      while (waiting.length > 0 && (batch.length === 0 || users.size + waiting[0]!.userIds.length <= maxUsers)) {
        const next = waiting.shift()!;
        batch.push(next);
        for (const u of next.userIds) users.add(u);
      }
      try {
        const found = await devices.of([...users]);
        for (const w of batch) w.resolve(found.filter((d) => w.userIds.includes(d.userId)));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    running = false;
  }

  return {
    of(userIds) {
      return new Promise((resolve, reject) => {
        waiting.push({ userIds, resolve, reject });
        if (!running) {
          running = true;
          setImmediate(() => void drain());
        }
      });
    },
    remove: (device) => devices.remove(device),
  };
}
