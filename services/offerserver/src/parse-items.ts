/**
 * A fetched body to items: feeds (RSS 2.0, Atom, JSON Feed; @extractus/feed-extractor for all
 * three, georss and W3C geo points read from the raw entries), a Lemmy community's posts (its
 * JSON API), or any JSON through a mapping of paths.
 */
import { extractFromJson, extractFromXml } from '@extractus/feed-extractor';
import type { Mapping, SourceKind } from './source-input.ts';

/** One item as the source gives it; the importer turns it into a listing. */
export interface FeedItem {
  guid?: string;
  url?: string;
  title?: string;
  description?: string;
  price?: string;
  image?: string;
  lat?: number;
  lng?: number;
}

export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}

/** The URL to fetch for a source: a Lemmy community page becomes its API's newest posts. */
export function fetchUrlOf(kind: SourceKind, url: string, maxItems: number): string {
  if (kind !== 'lemmy') return url;
  const parsed = new URL(url);
  if (parsed.pathname.startsWith('/api/')) return url;
  // https://lemmy.example/c/name (or /c/name@other.instance) → GET /api/v3/post/list?community_name=name&sort=New
  const match = /^\/c\/([^/]+)\/?$/.exec(parsed.pathname);
  if (match === null) throw new ParseError(`a Lemmy source's url must be a community (https://host/c/name), not ${parsed.pathname}`);
  const api = new URL('/api/v3/post/list', parsed.origin);
  api.searchParams.set('community_name', decodeURIComponent(match[1]!));
  api.searchParams.set('sort', 'New');
  api.searchParams.set('limit', String(Math.min(maxItems, 50)));
  return api.href;
}

export function parseItems(kind: SourceKind, body: string, options: { mapping?: Mapping; baseUrl: string }): FeedItem[] {
  switch (kind) {
    case 'feed':
      return parseFeed(body, options.baseUrl);
    case 'lemmy':
      return parseLemmy(parseJson(body));
    case 'json':
      return parseMapped(parseJson(body), options.mapping!);
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new ParseError(`not JSON: ${(err as Error).message}`);
  }
}

const str = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null && '#text' in value) return str((value as Record<string, unknown>)['#text']);
  return undefined;
};

const num = (value: unknown): number | undefined => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** georss:point "lat lng", or geo:lat / geo:long (W3C Basic Geo), or JSON Feed's `_geo`. */
function pointOf(raw: Record<string, unknown>): { lat?: number; lng?: number } {
  const georss = str(raw['georss:point']);
  if (georss !== undefined) {
    const [lat, lng] = georss.split(/[\s,]+/).map(Number);
    if (Number.isFinite(lat) && Number.isFinite(lng)) return { lat, lng };
  }
  const lat = num(str(raw['geo:lat']));
  const lng = num(str(raw['geo:long'] ?? raw['geo:lng']));
  if (lat !== undefined && lng !== undefined) return { lat, lng };
  const geo = raw._geo as Record<string, unknown> | undefined;
  if (geo !== undefined && typeof geo === 'object') return { lat: num(geo.lat), lng: num(geo.lng ?? geo.lon) };
  return {};
}

function imageOf(raw: Record<string, unknown>): string | undefined {
  const enclosure = raw.enclosure as Record<string, unknown> | undefined;
  if (enclosure !== undefined && typeof enclosure === 'object' && String(enclosure['@_type'] ?? '').startsWith('image/')) return str(enclosure['@_url']);
  const media = (raw['media:content'] ?? raw['media:thumbnail']) as Record<string, unknown> | undefined;
  if (media !== undefined && typeof media === 'object') return str(media['@_url']);
  return str(raw.image);
}

/** The raw `guid`/`id` of an entry (the library's `id` falls back to link and date). */
function guidOf(raw: Record<string, unknown>): string | undefined {
  return str(raw.guid) ?? str(raw.id);
}

function parseFeed(body: string, baseUrl: string): FeedItem[] {
  const options = {
    descriptionMaxLen: 0,
    baseUrl,
    getExtraEntryFields: (raw: Record<string, unknown>) => ({ raw }),
  };
  const trimmed = body.trimStart();
  let feed;
  try {
    feed = trimmed.startsWith('{') ? extractFromJson(trimmed, options) : extractFromXml(trimmed, options);
  } catch (err) {
    throw new ParseError(`not a feed: ${(err as Error).message}`);
  }
  return (feed.entries ?? []).map((entry) => {
    const raw = entry.raw as Record<string, unknown>;
    return withoutUndefined({
      guid: guidOf(raw),
      url: str(entry.link) ?? str(raw.url),
      title: str(entry.title),
      description: str(entry.description) ?? str(raw.content_text),
      image: imageOf(raw),
      ...pointOf(raw),
    });
  });
}

/** Lemmy's `GET /api/v3/post/list`: `{posts: [{post: {ap_id, name, body, url, thumbnail_url}}]}`. */
function parseLemmy(doc: unknown): FeedItem[] {
  const posts = (doc as { posts?: unknown })?.posts;
  if (!Array.isArray(posts)) throw new ParseError('not a Lemmy post list: no `posts` array');
  return posts.flatMap((view) => {
    const post = (view as { post?: Record<string, unknown> })?.post;
    if (post === undefined || typeof post !== 'object') return [];
    return [withoutUndefined({
      guid: str(post.ap_id) ?? str(post.id),
      url: str(post.url) ?? str(post.ap_id),
      title: str(post.name),
      description: str(post.body),
      image: str(post.thumbnail_url),
    })];
  });
}

/**
 * A JSONPath-like path: `$.a.b[0].c`, `a.b.0.c`, `['a b'].c`; `[*]` only in `items`
 * (read as "the array here").
 */
export function readPath(doc: unknown, path: string): unknown {
  const steps = [...path.replace(/^\$\.?/, '').matchAll(/\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[(\d+|\*)\]|([^.[\]]+)/g)]
    .map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!);
  let value = doc;
  for (const step of steps) {
    if (step === '*') continue;
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

function parseMapped(doc: unknown, mapping: Mapping): FeedItem[] {
  const items = mapping.items === undefined ? doc : readPath(doc, mapping.items);
  if (!Array.isArray(items)) throw new ParseError(`mapping.items (${mapping.items ?? '$'}) is not an array in the document`);
  const at = (item: unknown, path: string | undefined) => (path === undefined ? undefined : readPath(item, path));
  return items.map((item) => withoutUndefined({
    guid: str(at(item, mapping.id)),
    url: str(at(item, mapping.url)),
    title: str(at(item, mapping.title)),
    description: str(at(item, mapping.description)),
    price: str(at(item, mapping.price)),
    image: str(at(item, mapping.image)),
    lat: num(at(item, mapping.lat)),
    lng: num(at(item, mapping.lng)),
  }));
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
