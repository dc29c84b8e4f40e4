/**
 * Pure: a source's known items and one fetch's items → the listing events to write and the
 * known items after them. No clock, no I/O (the caller gives `now`).
 *
 * An item is the same as a known one when its GUID matches, else its canonical URL, else (with
 * neither) its content hash. Same item, other content: `listing.updated`. A known item missing
 * from the source for longer than the source's TTL: `listing.closed`. A listing's id is derived
 * from the source and the item's first key, so writing the same creation twice (after a crash
 * between Kafka and Mongo) is one listing.
 */
import { createHash } from 'node:crypto';
import type { Listing, ListingEvent, Point } from '@pushtech/listings';
import type { FeedItem } from './parse-items.ts';

export const TEXT_LIMITS = { title: 200, description: 5_000 } as const;

/** What the offer server remembers of an item (in `offer_source_items`, one document per source). */
export interface KnownItem {
  listingId: string;
  guid?: string;
  url?: string;
  hash: string;
  version: number;
  /** Epoch ms. */
  lastSeenAt: number;
  closed: boolean;
  /** How many listings this item had before (a closed item that comes back gets a new one). */
  generation: number;
  /** The item's image URL and the imageserver's id of it, once imported. */
  imageUrl?: string;
  imageId?: string;
}

export interface SyncSource {
  id: string;
  defaultLocation?: Point;
  radiusM: number;
  tags: string[];
  ttlHours: number;
}

export type SkipReason = 'no_title' | 'no_location';

export interface SyncResult {
  events: ListingEvent[];
  known: KnownItem[];
  seen: number;
  created: number;
  updated: number;
  unchanged: number;
  closed: number;
  skipped: Partial<Record<SkipReason, number>>;
}

export const ownerIdOf = (sourceId: string) => `source:${sourceId}`;

/** http(s) URL without fragment and tracking parameters, host lower case; undefined if not a URL. */
export function canonicalUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.hash = '';
    for (const key of [...url.searchParams.keys()]) if (/^(utm_|fbclid$|gclid$)/.test(key)) url.searchParams.delete(key);
    url.searchParams.sort();
    return url.href;
  } catch {
    return undefined;
  }
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Markup out, entities of the common kind decoded, whitespace folded. */
export function plainText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

function validPoint(item: FeedItem): Point | undefined {
  const { lat, lng } = item;
  if (lat === undefined || lng === undefined || lat < -90 || lat > 90 || lng < -180 || lng > 180) return undefined;
  return { type: 'Point', coordinates: [lng, lat] };
}

type ListingContent = Pick<Listing, 'title' | 'tags' | 'location' | 'radiusM' | 'imageIds'> & { description?: string };

function contentOf(item: FeedItem, source: SyncSource, imageIds: string[]): ListingContent | SkipReason {
  const description = item.description === undefined ? undefined : plainText(item.description);
  const title = plainText(item.title ?? '') || (description === undefined ? '' : clip(description, 80));
  if (title === '') return 'no_title';
  const location = validPoint(item) ?? source.defaultLocation;
  if (location === undefined) return 'no_location';
  const parts = [item.price === undefined ? undefined : `Price: ${item.price}`, description, item.url].filter((p) => p !== undefined && p !== '');
  return {
    title: clip(title, TEXT_LIMITS.title),
    ...(parts.length === 0 ? {} : { description: clip(parts.join('\n\n'), TEXT_LIMITS.description) }),
    tags: source.tags,
    location,
    radiusM: source.radiusM,
    imageIds,
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A UUID-shaped id (version 8: custom) from the hash of `key`. */
export function derivedId(key: string): string {
  const h = sha256(key).slice(0, 32).split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function findKnown(known: KnownItem[], guid: string | undefined, url: string | undefined, hash: string): KnownItem | undefined {
  if (guid !== undefined) {
    const byGuid = known.find((k) => k.guid === guid);
    if (byGuid !== undefined) return byGuid;
  }
  if (url !== undefined) {
    const byUrl = known.find((k) => k.url === url);
    if (byUrl !== undefined) return byUrl;
  }
  if (guid === undefined && url === undefined) return known.find((k) => k.guid === undefined && k.url === undefined && k.hash === hash);
  return undefined;
}

export interface SyncInput {
  source: SyncSource;
  known: KnownItem[];
  items: FeedItem[];
  now: number;
  /** The imageserver's ids of items' images (by image URL): those imported, or known from before. */
  images?: ReadonlyMap<string, string>;
}

export function syncItems({ source, known: before, items, now, images = new Map() }: SyncInput): SyncResult {
  const known = before.map((k) => ({ ...k }));
  const result: SyncResult = { events: [], known, seen: 0, created: 0, updated: 0, unchanged: 0, closed: 0, skipped: {} };
  const seenNow = new Set<KnownItem>();
  const ownerId = ownerIdOf(source.id);

  for (const item of items) {
    const imageId = item.image === undefined ? undefined : images.get(item.image);
    const content = contentOf(item, source, imageId === undefined ? [] : [imageId]);
    if (typeof content === 'string') {
      result.skipped[content] = (result.skipped[content] ?? 0) + 1;
      continue;
    }
    result.seen += 1;
    const guid = item.guid;
    const url = canonicalUrl(item.url);
    const hash = sha256(JSON.stringify(content));
    const match = findKnown(known, guid, url, hash);
    if (match !== undefined && seenNow.has(match)) continue; // the same item twice in one fetch
    const listing = (listingId: string, version: number): Listing => ({ id: listingId, kind: 'offer', ownerId, ...content, follow: false, status: 'active', version });

    if (match === undefined || match.closed) {
      const generation = match === undefined ? 0 : match.generation + 1;
      const key = guid !== undefined ? `g:${guid}` : url !== undefined ? `u:${url}` : `h:${hash}`;
      const record: KnownItem = { listingId: derivedId(`${source.id}|${key}|${generation}`), hash, version: 1, lastSeenAt: now, closed: false, generation };
      if (guid !== undefined) record.guid = guid;
      if (url !== undefined) record.url = url;
      if (imageId !== undefined) Object.assign(record, { imageUrl: item.image, imageId });
      if (match === undefined) known.push(record);
      else Object.assign(match, record);
      seenNow.add(match ?? record);
      result.events.push({ type: 'listing.created', data: listing(record.listingId, 1) });
      result.created += 1;
      continue;
    }
    seenNow.add(match);
    match.lastSeenAt = now;
    if (guid !== undefined) match.guid = guid; // a feed whose GUIDs change but URLs don't
    if (url !== undefined) match.url = url;
    if (imageId !== undefined) Object.assign(match, { imageUrl: item.image, imageId });
    if (match.hash === hash) {
      result.unchanged += 1;
      continue;
    }
    match.hash = hash;
    match.version += 1;
    result.events.push({ type: 'listing.updated', data: listing(match.listingId, match.version) });
    result.updated += 1;
  }

  const ttlMs = source.ttlHours * 3_600_000;
  for (const record of known) {
    if (record.closed || seenNow.has(record) || now - record.lastSeenAt <= ttlMs) continue;
    record.closed = true;
    record.version += 1;
    result.events.push({ type: 'listing.closed', data: { id: record.listingId, version: record.version } });
    result.closed += 1;
  }
  // Closed items are remembered for another TTL (one that comes back gets a new listing), then forgotten.
  result.known = known.filter((record) => !(record.closed && now - record.lastSeenAt > 2 * ttlMs));
  return result;
}

/** Image URLs of `items` that no known item has an imageserver id for: those to import. */
export function imagesToImport(known: KnownItem[], items: FeedItem[]): { known: Map<string, string>; missing: string[] } {
  const have = new Map(known.flatMap((k) => (k.imageUrl !== undefined && k.imageId !== undefined ? [[k.imageUrl, k.imageId] as const] : [])));
  const missing = [...new Set(items.flatMap((i) => (i.image !== undefined && !have.has(i.image) ? [i.image] : [])))];
  return { known: have, missing };
}

/** Closes every open listing of a source (the source was deleted). */
export function closeAll(known: KnownItem[]): { events: ListingEvent[]; known: KnownItem[] } {
  const events: ListingEvent[] = [];
  const after = known.map((record) => {
    if (record.closed) return record;
    events.push({ type: 'listing.closed', data: { id: record.listingId, version: record.version + 1 } });
    return { ...record, closed: true, version: record.version + 1 };
  });
  return { events, known: after };
}
