// A neighbourhood's give-away board as a local RSS feed (with georss points near the centre),
// registered with the offer server so that imported offers appear on the map and match the
// demo's searches.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const ITEMS = [
  { title: 'bike, city bike 28"', description: 'Needs new brakes, otherwise fine.', lat: 52.5215, lng: 13.4112 },
  { title: 'lamp, brass, works', description: 'Standing lamp, 1.6 m.', lat: 52.5172, lng: 13.3989 },
  { title: 'guitar with soft case', description: 'Classical guitar, one string missing.', lat: 52.5241, lng: 13.4023 },
  { title: 'pram, foldable', description: 'Rain cover included.', lat: 52.5190, lng: 13.4150 },
];

function rss(): string {
  const items = ITEMS.map((item, i) => `
    <item>
      <title>${item.title.replace(/"/g, '&quot;')}</title>
      <link>https://kiez-board.example/items/${i + 1}</link>
      <guid isPermaLink="false">kiez-board-${i + 1}</guid>
      <description>${item.description}</description>
      <georss:point>${item.lat} ${item.lng}</georss:point>
    </item>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:georss="http://www.georss.org/georss">
  <channel><title>Kiez board: to give away</title><link>https://kiez-board.example/</link><description>Things neighbours give away</description>${items}
  </channel>
</rss>`;
}

export async function startLocalFeed(): Promise<{ url: string; server: Server }> {
  const body = rss();
  const server = createServer((request, response) => {
    if (request.url === '/kiez.rss') response.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"kiez-1"' }).end(body);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/kiez.rss`, server };
}

/** The titles of a source's listings in storage, by listing id. */
export async function importedTitles(storageUrl: string, sourceId: string): Promise<Map<string, string>> {
  const page = (await (await fetch(`${storageUrl}/listings?ownerId=${encodeURIComponent(`source:${sourceId}`)}&limit=100`)).json()) as { items: Array<{ id: string; title: string }> };
  return new Map(page.items.map((listing) => [listing.id, listing.title]));
}

/** Deletes the source: the offer server closes its listings. */
export async function removeFeed(offerserverUrl: string, adminToken: string, sourceId: string): Promise<number> {
  const response = await fetch(`${offerserverUrl}/sources/${sourceId}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
  return ((await response.json()) as { closedListings?: number }).closedListings ?? 0;
}

/** Registers `feedUrl` as a source (as operator `admin`) and waits until its items are offers; returns the source id and how many. */
export async function registerFeed(offerserverUrl: string, adminToken: string, feedUrl: string): Promise<{ id: string; created: number }> {
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  // An earlier demo run that was stopped hard left its feed's source (its server is gone): delete it, closing its listings.
  const { items } = (await (await fetch(`${offerserverUrl}/sources?limit=100`, { headers })).json()) as { items: Array<{ id: string; url: string }> };
  for (const stale of items.filter((s) => /^http:\/\/127\.0\.0\.1:\d+\/kiez\.rss$/.test(s.url))) await removeFeed(offerserverUrl, adminToken, stale.id);
  const response = await fetch(`${offerserverUrl}/sources`, {
    method: 'POST', headers,
    body: JSON.stringify({ kind: 'feed', url: feedUrl, refreshSeconds: 300, defaultLocation: { type: 'Point', coordinates: [13.405, 52.52] }, radiusM: 2_000, tags: ['free'], ttlHours: 24 }),
  });
  if (response.status !== 201) throw new Error(`the offer server refused the demo's feed: ${response.status} ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { state } = (await (await fetch(`${offerserverUrl}/sources/${id}`, { headers })).json()) as { state: { itemsCreated: number; lastError: string | null } };
    if (state.itemsCreated > 0) return { id, created: state.itemsCreated };
    if (state.lastError !== null) throw new Error(`the offer server could not import the demo's feed: ${state.lastError}`);
    await sleep(200);
  }
  throw new Error('the offer server did not import the demo\'s feed within 30 s');
}
