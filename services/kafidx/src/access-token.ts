/**
 * kafidx shows users' events (locations among them): every page, API call and
 * WebSocket needs KAFIDX_TOKEN, as `Authorization: Bearer <token>`, `?token=<token>`
 * (a link to the page; browsers cannot set headers on a WebSocket), or the cookie
 * the page sets when opened with `?token=`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN_COOKIE = 'kafidx_token';

export interface PresentedToken {
  token: string;
  via: 'header' | 'query' | 'cookie';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The token a request carries, from the header, the query or the cookie (in that order). */
export function presentedToken(headers: IncomingHttpHeaders, url: string | undefined): PresentedToken | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m) return { token: m[1]!, via: 'header' };
  }
  const query = new URL(url ?? '/', 'http://kafidx').searchParams.get('token');
  if (query !== null && query !== '') return { token: query, via: 'query' };
  const cookie = cookieValue(headers.cookie, TOKEN_COOKIE);
  if (cookie !== undefined && cookie !== '') return { token: cookie, via: 'cookie' };
  return undefined;
}

export interface AccessCheck {
  /** How the request proved access, or why it did not. */
  check(headers: IncomingHttpHeaders, url: string | undefined): { ok: true; via: PresentedToken['via'] } | { ok: false; rule: string };
  /** `Set-Cookie` value that lets the page's own requests (fetch, WebSocket) through. */
  cookie(): string;
}

export function createAccessCheck(token: string): AccessCheck {
  const expected = digest(token);
  return {
    check(headers, url) {
      const presented = presentedToken(headers, url);
      if (presented === undefined) {
        return { ok: false, rule: 'is required: send Authorization: Bearer <KAFIDX_TOKEN>, or open the page with ?token=<KAFIDX_TOKEN>' };
      }
      // Equal-length digests: the comparison takes the same time whatever was sent.
      if (!timingSafeEqual(digest(presented.token), expected)) return { ok: false, rule: 'must be the KAFIDX_TOKEN kafidx was started with' };
      return { ok: true, via: presented.via };
    },
    cookie() {
      return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
    },
  };
}

/**
 * A cookie travels with any request the browser makes, also from another site's
 * page (cross-site WebSocket hijacking). A WebSocket let in by the cookie alone must
 * come from kafidx's own page: its Origin names the same host (browsers always send Origin).
 */
export function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}
