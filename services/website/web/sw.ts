/**
 * The site's service worker: shows a web push notification (sent by the notifier for an alert's
 * new match) and, on a click, opens the listing it is about (or focuses a tab showing it).
 */
interface PushPayload {
  title?: string;
  heading?: string;
  body?: string;
  content?: string;
  url?: string | null;
  listingId?: string | null;
  data?: { url?: string; listingId?: string; offerId?: string; [key: string]: unknown };
}

declare const self: ServiceWorkerGlobalScope;

function parse(data: PushMessageData | null): PushPayload {
  if (data === null) return {};
  try {
    return data.json() as PushPayload;
  } catch {
    return { body: data.text() };
  }
}

/** Where a click goes: the payload's own URL on this site, or the listing it names. */
export function targetUrl(payload: PushPayload, origin: string): string {
  const url = payload.url ?? payload.data?.url;
  if (typeof url === 'string' && url !== '') {
    const resolved = new URL(url, origin);
    if (resolved.origin === origin) return resolved.href;
  }
  const listingId = payload.listingId ?? payload.data?.listingId;
  return typeof listingId === 'string' ? `${origin}/l/${encodeURIComponent(listingId)}` : `${origin}/`;
}

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  const payload = parse(event.data);
  const title = payload.title ?? payload.heading ?? 'Something new near you';
  event.waitUntil(self.registration.showNotification(title, {
    body: payload.body ?? payload.content ?? '',
    data: { url: targetUrl(payload, self.location.origin) },
    tag: payload.listingId ?? undefined,
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data as { url?: string } | null)?.url ?? `${self.location.origin}/`;
  event.waitUntil((async () => {
    const open = (await self.clients.matchAll({ type: 'window', includeUncontrolled: true })).find((client) => client.url === url);
    await (open === undefined ? self.clients.openWindow(url) : open.focus());
  })());
});
