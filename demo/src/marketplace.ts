// The demo's marketplace: every simulated user registers a phone; half of them
// look for something (a search that follows them as they walk), the others
// offer something where they stand. Matches and the pushes that reach the
// OneSignal stand-in are printed as they happen.
import type { Envelope } from '@pushtech/events';
import { parseJson, runConsumer, type Kafka, type RunningConsumer } from '@pushtech/kafka';
import type { MatchData } from '@pushtech/contracts';
import type { Logger } from '@pushtech/logging';
import { Transformer } from '@napi-rs/image';
import { signToken } from '@pushtech/auth';
import type { SimulatedUser } from './city.ts';

const THINGS = ['bike', 'kids bike', 'lamp', 'sofa', 'guitar', 'pram'];

export interface Marketplace {
  titles: Map<string, string>;
  owners: Map<string, string>;
  /** Image id → owner: each offer has a photo on the imageserver. */
  images: Map<string, string>;
  /** Match lines wait here until every listing is created, so they can name both sides. */
  pending: string[][] | undefined;
  /** Listings imported by the offer server → where from (they close when their source is deleted). */
  imported: Map<string, string>;
}

async function call(url: string, token: string, body: unknown): Promise<{ id: string }> {
  const image = body instanceof Uint8Array;
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': image ? 'image/png' : 'application/json' },
    body: image ? body : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string };
}

export function createMarketplace(): Marketplace {
  return { titles: new Map(), owners: new Map(), images: new Map(), pending: [], imported: new Map() };
}

/** A 640 × 480 PNG in one colour (of `hue` degrees), standing in for a photo of the thing offered. */
function photo(hue: number): Promise<Buffer> {
  const [r, g, b] = [0, 8, 4].map((n) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (0.5 - 0.5 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  });
  const pixels = new Uint8Array(640 * 480 * 4);
  for (let at = 0; at < pixels.length; at += 4) pixels.set([r!, g!, b!, 255], at);
  return Transformer.fromRgbaPixels(pixels, 640, 480).png();
}

/**
 * Registers a device per user and creates one listing per user: searches follow their owners,
 * offers have a photo on the imageserver.
 */
export async function openMarketplace(market: Marketplace, urls: { storage: string; imageserver: string }, jwtSecret: string, users: SimulatedUser[], random: () => number): Promise<void> {
  const { titles, owners, images } = market;
  const storageUrl = urls.storage;
  await Promise.all(users.map(async (user, i) => {
    const token = await signToken(user.userId, jwtSecret);
    await call(`${storageUrl}/me/devices`, token, { subscriptionId: crypto.randomUUID(), platform: i % 2 ? 'android' : 'ios' });
    const kind = i % 2 === 0 ? 'search' : 'offer';
    const title = THINGS[Math.floor(random() * THINGS.length)]!;
    const imageIds = kind === 'offer' ? [(await call(`${urls.imageserver}/images`, token, await photo(i * 37))).id] : [];
    for (const id of imageIds) images.set(id, user.userId);
    const listing = await call(`${storageUrl}/listings`, token, {
      kind,
      title,
      tags: [],
      location: { type: 'Point', coordinates: [user.lng, user.lat] },
      radiusM: 600,
      follow: kind === 'search',
      imageIds,
    });
    titles.set(listing.id, `${kind} "${title}"`);
    owners.set(listing.id, user.userId);
  }));
}

/** Closes the demo's listings and deletes their photos, so the next run starts with an empty marketplace. */
export async function closeMarketplace(market: Marketplace, urls: { storage: string; imageserver: string }, jwtSecret: string): Promise<void> {
  const remove = async (url: string, ownerId: string) => {
    const token = await signToken(ownerId, jwtSecret);
    await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
  };
  await Promise.all([
    ...[...market.owners].map(([listingId, ownerId]) => remove(`${urls.storage}/listings/${listingId}`, ownerId)),
    ...[...market.images].map(([imageId, ownerId]) => remove(`${urls.imageserver}/images/${imageId}`, ownerId)),
  ]);
}

/** Prints the match lines held back while the listings were being created. */
export function marketplaceOpened(market: Marketplace, say: (line: string) => void): void {
  const held = market.pending ?? [];
  market.pending = undefined;
  for (const [verb, searchId, offerId, distance] of held) say(matchLine(market, verb!, searchId!, offerId!, distance!));
}

function matchLine(market: Marketplace, verb: string, searchId: string, offerId: string, distance: string): string {
  const name = (id: string) => `${market.titles.get(id) ?? id} (${market.owners.get(id) ?? market.imported.get(id) ?? '?'})`;
  return `${verb}  ${name(searchId)} ↔ ${name(offerId)}, ${distance} m`;
}

/** Prints every match decision written to `matches` since `since` (epoch ms). */
export function watchMatches(kafka: Kafka, logger: Logger, topic: string, market: Marketplace, since: number, say: (line: string) => void): Promise<RunningConsumer> {
  return runConsumer({
    kafka, logger, groupId: 'demo-matches', topics: [topic], awaitJoin: true,
    eachMessage: async (message) => {
      const event = parseJson<Envelope<MatchData>>(message);
      const { searchId, offerId, distanceM } = event.data;
      if (Date.parse(event.time) < since) return; // an earlier run's
      const line = [event.type === 'match.found' ? 'match found' : 'match lost ', searchId, offerId, String(Math.round(distanceM))];
      if (market.pending) market.pending.push(line);
      else say(matchLine(market, line[0]!, searchId, offerId, line[3]!));
    },
  });
}

/** Prints the pushes the OneSignal stand-in receives, by polling what it recorded. */
export function watchPushes(standinUrl: string, say: (line: string) => void): () => void {
  let seen = 0;
  const timer = setInterval(async () => {
    try {
      const { requests } = (await (await fetch(`${standinUrl}/_standin/requests`)).json()) as {
        requests: { seq: number; status: number; body: { include_aliases?: { external_id?: string[] }; contents?: { en?: string } } }[];
      };
      for (const request of requests.filter((r) => r.seq > seen)) {
        seen = request.seq;
        say(`push → ${request.body.include_aliases?.external_id?.join(', ')}: ${request.body.contents?.en ?? ''} (OneSignal stand-in answered ${request.status})`);
      }
    } catch {
      // the stand-in is starting or stopping
    }
  }, 500);
  return () => clearInterval(timer);
}
