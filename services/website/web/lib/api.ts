/**
 * The public API as the browser sees it, on the site's own origin: storage's `/listings…` and
 * the imageserver's `/images…` for reads; the site's `/api/…` for writes, which it makes with the
 * signed-in user's token (kept in an httpOnly cookie, never seen by this code).
 */
import type { FieldError } from './dom.ts';
import type { Point } from './format.ts';

export type Kind = 'offer' | 'search';

export interface Listing {
  id: string;
  kind: Kind;
  ownerId: string;
  title: string;
  description?: string;
  tags: string[];
  location: { type: 'Point'; coordinates: [number, number] };
  radiusM: number;
  follow: boolean;
  status: 'active' | 'paused' | 'closed';
  imageIds: string[];
  expiresAt?: string;
  version: number;
}

export interface NearbyItem extends Listing {
  distanceM: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface MatchItem {
  pair: string;
  listingId: string;
  kind: Kind;
  title: string;
  ownerId: string;
  distanceM: number;
  decidedAt: string;
}

/** A refused request: status, code and the fields it names. */
export class RequestError extends Error {
  readonly status: number;
  readonly errors: FieldError[];

  constructor(status: number, message: string, errors: FieldError[]) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

async function answer<T>(response: Response): Promise<T> {
  const text = await response.text();
  const body = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const errors = Array.isArray(body?.errors) ? body.errors as FieldError[] : [];
    throw new RequestError(response.status, String(body?.message ?? body?.error ?? response.statusText), errors);
  }
  return body as T;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return answer<T>(await fetch(path, { headers: { accept: 'application/json' }, signal }));
}

export const pointOf = (listing: Listing): Point => ({ lng: listing.location.coordinates[0], lat: listing.location.coordinates[1] });

export interface NearbyQuery {
  kind: Kind;
  lat: number;
  lng: number;
  radiusM: number;
  q: string;
}

export function nearby(query: NearbyQuery, cursor: string | null, signal?: AbortSignal): Promise<Page<NearbyItem>> {
  const params = new URLSearchParams({ kind: query.kind, lat: String(query.lat), lng: String(query.lng), radiusM: String(query.radiusM), limit: '20' });
  if (query.q.trim() !== '') params.set('q', query.q.trim());
  if (cursor !== null) params.set('cursor', cursor);
  return getJson(`/listings/nearby?${params}`, signal);
}

export const listing = (id: string) => getJson<Listing>(`/listings/${encodeURIComponent(id)}`);

export function listingsOf(ownerId: string, options: { status?: string; limit?: number } = {}): Promise<Page<Listing>> {
  const params = new URLSearchParams({ ownerId, limit: String(options.limit ?? 50) });
  if (options.status !== undefined) params.set('status', options.status);
  return getJson(`/listings?${params}`);
}

export const matchesOf = (id: string) => getJson<{ items: MatchItem[] }>(`/listings/${encodeURIComponent(id)}/matches`);

/** The CSRF token the site set in a readable cookie: sent back in a header with every write. */
function csrfToken(): string {
  return /(?:^|;\s*)csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
}

export async function write<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-csrf-token': csrfToken() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return answer<T>(await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' }));
}

export interface UploadedImage {
  id: string;
}

/** Uploads one photo (XMLHttpRequest: fetch cannot report upload progress). */
export function uploadImage(file: File, onProgress: (fraction: number) => void): Promise<UploadedImage> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/api/images');
    request.setRequestHeader('content-type', file.type || 'application/octet-stream');
    request.setRequestHeader('x-csrf-token', csrfToken());
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const body = request.responseText === '' ? {} : JSON.parse(request.responseText);
      if (request.status >= 200 && request.status < 300) resolve(body as UploadedImage);
      else reject(new RequestError(request.status, String(body.message ?? body.error ?? request.statusText), Array.isArray(body.errors) ? body.errors : []));
    };
    request.onerror = () => reject(new RequestError(0, 'the upload failed: no connection', []));
    request.send(file);
  });
}

export interface Me {
  userId: string;
}

/** The signed-in user, or undefined. */
export async function me(): Promise<Me | undefined> {
  const response = await fetch('/api/me', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  return response.ok ? await response.json() as Me : undefined;
}
