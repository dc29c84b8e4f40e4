/**
 * Who has a device, held in memory: storage's `devices` projection loaded at
 * start, then kept current by the events of topic `users` (a log feed from
 * the storage projector's offsets), folded with storage's own rule
 * (`evolveDeviceDocument`: the newest registration of a subscription wins, only
 * its user removes it). So the bridge asks no database who may get a push.
 */
import { evolveDeviceDocument, type DeviceDocument, type DeviceEvent, type Recorded } from '@pushtech/contracts';

export interface DeviceOwners {
  /** A document of the projection. */
  load(doc: DeviceDocument): void;
  /** An event of the log (one already reflected changes nothing). */
  apply(record: Recorded<DeviceEvent>): void;
  /** True when the user has at least one active device. */
  has(userId: string): boolean;
  /** Subscriptions held (active or removed). */
  size(): number;
}

export function createDeviceOwners(): DeviceOwners {
  const subscriptions = new Map<string, DeviceDocument>();
  const activeByUser = new Map<string, number>();

  function count(doc: DeviceDocument | undefined, delta: number): void {
    if (doc?.state !== 'active') return;
    const n = (activeByUser.get(doc.userId) ?? 0) + delta;
    if (n > 0) activeByUser.set(doc.userId, n);
    else activeByUser.delete(doc.userId);
  }

  function replace(before: DeviceDocument | undefined, after: DeviceDocument): void {
    count(before, -1);
    subscriptions.set(after._id, after);
    count(after, +1);
  }

  return {
    load(doc) {
      replace(subscriptions.get(doc._id), doc);
    },
    apply(record) {
      const before = subscriptions.get(record.event.data.subscriptionId);
      const after = evolveDeviceDocument(before ?? null, record);
      if (after !== null && after !== before) replace(before, after);
    },
    has: (userId) => activeByUser.has(userId),
    size: () => subscriptions.size,
  };
}

/** What the bridge asks: who among these users has a device. */
export interface DeviceDirectory {
  usersWithDevices(userIds: string[]): Promise<Set<string>>;
}

/**
 * `owners` as a directory that answers with every device event the `users`
 * log held when asked: it first lets the feed catch up to there (`catchUp`,
 * at most `maxWaitMs`), so a device registered or removed just before a match
 * counts. Catching up costs one offsets request when the feed is current.
 */
export function deviceDirectory(owners: DeviceOwners, catchUp: () => Promise<void>, maxWaitMs = 2_000): DeviceDirectory {
  return {
    async usersWithDevices(userIds) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([catchUp(), new Promise((resolve) => (timer = setTimeout(resolve, maxWaitMs)))]).finally(() => clearTimeout(timer));
      return new Set(userIds.filter((userId) => owners.has(userId)));
    },
  };
}
