/**
 * Web push for alerts: asked for only after the user asked for an alert (never on load). The
 * browser's subscription is registered for the signed-in user; the notifier delivers to it and
 * the service worker (`/sw.js`) shows the notification.
 */
import { write } from './api.ts';

export type PushOutcome = 'enabled' | 'denied' | 'unsupported' | 'unconfigured';

function vapidKey(): Uint8Array<ArrayBuffer> | undefined {
  const key = document.querySelector<HTMLMetaElement>('meta[name="pushtech:vapid"]')?.content ?? '';
  if (key === '') return undefined;
  const binary = atob(key.replaceAll('-', '+').replaceAll('_', '/').padEnd(Math.ceil(key.length / 4) * 4, '='));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export async function enablePush(): Promise<PushOutcome> {
  const key = vapidKey();
  if (key === undefined) return 'unconfigured';
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return 'unsupported';
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return 'denied';
  const registration = await navigator.serviceWorker.register('/sw.js');
  await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription()
    ?? await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await write('POST', '/me/devices', { platform: 'web', webPush: subscription.toJSON() });
  return 'enabled';
}

export const PUSH_MESSAGES: Record<PushOutcome, string> = {
  enabled: 'We will notify you on this device.',
  denied: 'Notifications are blocked in this browser: the alert is saved, and its matches show under My listings.',
  unsupported: 'This browser cannot receive notifications: the alert is saved, and its matches show under My listings.',
  unconfigured: 'This site sends no notifications yet: the alert is saved, and its matches show under My listings.',
};
