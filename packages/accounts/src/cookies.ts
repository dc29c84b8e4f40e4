/** The two cookies: the session and the CSRF secret. Both httpOnly, SameSite=Lax, Path=/. */
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface CookieOptions {
  /**
   * `Secure`, and the `__Host-` name prefix (the browser then refuses the cookie from a
   * subdomain or over http, so nobody else can plant one). Off only for local http.
   */
  secure: boolean;
}

export type CookieKind = 'session' | 'csrf';

export function cookieName(kind: CookieKind, options: CookieOptions): string {
  const name = kind === 'session' ? 'pt_session' : 'pt_csrf';
  return options.secure ? `__Host-${name}` : name;
}

export function readCookie(request: FastifyRequest, kind: CookieKind, options: CookieOptions): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  const value = parseCookie(header)[cookieName(kind, options)];
  return value === undefined || value === '' ? undefined : value;
}

/** Sets (or with `maxAgeS` 0, clears) a cookie, beside any other Set-Cookie of the reply. */
export function writeCookie(reply: FastifyReply, kind: CookieKind, value: string, maxAgeS: number | undefined, options: CookieOptions): void {
  const line = stringifySetCookie({
    name: cookieName(kind, options),
    value,
    httpOnly: true,
    secure: options.secure,
    // Lax: sent on top-level navigations from other sites (a link to a listing arrives signed in),
    // never on their POSTs, images or fetches; the CSRF token is the check that does not rely on it.
    sameSite: 'lax',
    path: '/',
    ...(maxAgeS === undefined ? {} : { maxAge: maxAgeS }),
  });
  const existing = reply.getHeader('set-cookie');
  const lines = existing === undefined ? [] : [existing].flat().map(String);
  reply.header('set-cookie', [...lines.filter((l) => !l.startsWith(`${cookieName(kind, options)}=`)), line]);
}
