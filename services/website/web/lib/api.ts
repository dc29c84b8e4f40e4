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

export interface Me {
  userId: string;
  email: string | null;
  csrfToken: string;
}

let csrf: string | undefined;
let access: { token: string; until: number } | undefined;

/** The signed-in user (and the CSRF token the site's own writes send back), or undefined. */
export async function me(): Promise<Me | undefined> {
  const response = await fetch('/account/me', { headers: { accept: 'application/json' } });
  if (!response.ok) return undefined;
  const user = await response.json() as Me;
  csrf = user.csrfToken;
  return user;
}

async function csrfToken(): Promise<string> {
  csrf ??= (await getJson<{ csrfToken: string }>('/account/csrf')).csrfToken;
  return csrf;
}

/** A write to the site's own routes (`/account/…`): the session cookie goes along, with the CSRF token. */
export async function accountWrite<T>(path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-csrf-token': await csrfToken() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const result = await answer<T & { csrfToken?: string }>(await fetch(path, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  if (result !== undefined && typeof result.csrfToken === 'string') csrf = result.csrfToken;
  access = undefined;
  return result;
}

/**
 * A short-lived bearer token for storage and the imageserver, asked of the site with the session
 * cookie; held in this module only (never in storage the page keeps), asked again before it ends.
 */
async function bearer(): Promise<string> {
  if (access !== undefined && access.until > Date.now()) return access.token;
  const { token, expiresIn } = await accountWrite<{ token: string; expiresIn: number }>('/account/token');
  access = { token, until: Date.now() + (expiresIn - 30) * 1000 };
  return token;
}

/** A write to the public API (`/listings…`, `/me/devices`) as the signed-in user; a 401 asks for a new token once. */
export async function write<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${await bearer()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status !== 401 || attempt > 0) return answer<T>(response);
    access = undefined;
  }
}

export interface UploadedImage {
  id: string;
}

/** Uploads one photo to the imageserver (XMLHttpRequest: fetch cannot report upload progress). */
export async function uploadImage(file: File, onProgress: (fraction: number) => void): Promise<UploadedImage> {
  const token = await bearer();
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/images');
    request.setRequestHeader('content-type', file.type || 'application/octet-stream');
    request.setRequestHeader('authorization', `Bearer ${token}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body: { message?: string; error?: string; errors?: FieldError[] } = {};
      try {
        body = request.responseText === '' ? {} : JSON.parse(request.responseText);
      } catch { /* not JSON: a proxy's page */ }
      if (request.status >= 200 && request.status < 300) resolve(body as unknown as UploadedImage);
      else reject(new RequestError(request.status, String(body.message ?? body.error ?? request.statusText), Array.isArray(body.errors) ? body.errors : []));
    };
    request.onerror = () => reject(new RequestError(0, 'the upload failed: no connection', []));
    request.send(file);
  });
}
