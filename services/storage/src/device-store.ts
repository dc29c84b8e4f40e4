/** Reads of the `devices` projection (the projector writes it: projection-writer.ts). */
import type { DeviceDocument } from '@pushtech/contracts';
import type { CollectionPointer } from './projection-collections.ts';

/** A user's devices are few; a list longer than this is cut (newest first). */
export const MAX_DEVICES_LISTED = 100;

export interface DeviceStore {
  /** The subscription's document, also when removed (`state`). */
  get(subscriptionId: string): Promise<DeviceDocument | null>;
  /** The user's active devices, newest registration first. */
  byUser(userId: string): Promise<DeviceDocument[]>;
}

export function createDeviceStore(pointer: CollectionPointer): DeviceStore {
  const devices = async () => (await pointer.current()).devices;
  return {
    async get(subscriptionId) {
      return (await devices()).findOne({ _id: subscriptionId });
    },
    async byUser(userId) {
      return (await devices()).find({ userId, state: 'active' }).sort({ registeredAt: -1, _id: 1 }).limit(MAX_DEVICES_LISTED).toArray();
    },
  };
}
