/**
 * What the API shows of a document of the `devices` projection
 * (`DeviceDocument` and its fold, `evolveDeviceDocument`, are in
 * @pushtech/contracts: the notify bridge folds the same events).
 */
import type { Device, DeviceDocument } from '@pushtech/contracts';

/** What the API shows of a device. */
export interface DeviceView extends Omit<Device, 'webPush'> {
  registeredAt: string;
  /** A Web Push subscription's endpoint (its keys are not shown back). */
  webPush?: { endpoint: string };
}

export function toDeviceView(doc: DeviceDocument): DeviceView {
  return {
    subscriptionId: doc.subscriptionId, userId: doc.userId, platform: doc.platform, registeredAt: doc.registeredAt,
    ...(doc.webPush ? { webPush: { endpoint: doc.webPush.endpoint } } : {}),
  };
}
